import { randomBytes } from 'node:crypto';

/**
 * A new record id: a short domain prefix and 128 random bits in base64url. Unguessable, so a
 * click id can travel in a cookie or a Stripe `client_reference_id` (which allows `-` and `_`).
 */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}
