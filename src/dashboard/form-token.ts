import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The public application form's token, without server state: the issue time and the HMAC of it
 * with the browser's nonce (an HttpOnly, SameSite=Strict cookie) under a key derived from the
 * dashboard's secret. A bot posting straight away, or replaying an old page, or a cross-site form
 * that cannot read the cookie, is refused; a person who took a few seconds is not.
 */
export const APPLY_COOKIE = 'sa_apply_nonce';

export function formTokenKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('stripe-attribution/application-form').digest();
}

export function issueFormToken(key: Buffer, nonce: string, now: Date): string {
  const issued = String(now.getTime());
  return `${issued}.${sign(key, nonce, issued)}`;
}

export type FormTokenVerdict = 'ok' | 'forged' | 'too-fast' | 'expired';

export function checkFormToken(key: Buffer, nonce: string | undefined, token: string | undefined, now: Date, window: { minSeconds: number; maxSeconds: number }): FormTokenVerdict {
  const [issued, signature] = (token ?? '').split('.', 2);
  if (!nonce || !issued || !signature || !/^\d{1,15}$/.test(issued)) return 'forged';
  const expected = Buffer.from(sign(key, nonce, issued));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'forged';
  const age = (now.getTime() - Number(issued)) / 1000;
  if (age < window.minSeconds) return 'too-fast';
  return age > window.maxSeconds ? 'expired' : 'ok';
}

function sign(key: Buffer, nonce: string, issued: string): string {
  return createHmac('sha256', key).update(`apply:${issued}:${nonce}`).digest('base64url');
}
