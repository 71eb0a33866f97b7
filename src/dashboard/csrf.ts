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

export function csrfToken(secret: string, nonce: string): string {
  return createHmac('sha256', secret).update(`csrf:${nonce}`).digest('base64url');
}

export function validCsrf(secret: string, nonce: string | undefined, token: string | undefined): boolean {
  if (!nonce || !token) return false;
  const expected = Buffer.from(csrfToken(secret, nonce));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
