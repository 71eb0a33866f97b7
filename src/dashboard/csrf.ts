import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Double-submit CSRF protection without server state: the browser holds a random nonce in a
 * SameSite=Strict, HttpOnly cookie, and each form carries the HMAC of that nonce under the
 * dashboard's secret. A cross-site form can neither read the cookie nor compute the token.
 */
export const CSRF_COOKIE = 'sa_dashboard_csrf';

export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The key that signs CSRF tokens, derived from the merchant's configured secret (never the secret
 * itself, which may also sign portal links): every instance given the same secret derives the
 * same key, so a form served by one is accepted by another and survives restarts.
 */
export function csrfKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('stripe-attribution/dashboard-csrf').digest();
}

/** The token of a form: bound to the browser's nonce and, when `authorize` named one, to the user. */
export function csrfToken(key: Buffer, nonce: string, user = ''): string {
  return createHmac('sha256', key).update(`csrf:${user.length}:${user}:${nonce}`).digest('base64url');
}

export function validCsrf(key: Buffer, nonce: string | undefined, token: string | undefined, user = ''): boolean {
  if (!nonce || !token) return false;
  const expected = Buffer.from(csrfToken(key, nonce, user));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
