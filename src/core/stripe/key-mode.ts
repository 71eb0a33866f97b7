import type Stripe from 'stripe';

/**
 * Whether a Stripe client uses a test-mode key (`sk_test_…`, `rk_test_…`), a live one, or one
 * it cannot tell. stripe-node exposes no getter for its key: its API-key authenticator (stripe 18
 * and later) writes the `Authorization` header synchronously, so it is asked for that header. A
 * custom authenticator that works asynchronously yields `undefined`.
 */
export function stripeKeyMode(stripe: Stripe | undefined): 'test' | 'live' | undefined {
  const authenticator = (stripe as { _authenticator?: unknown } | undefined)?._authenticator;
  if (typeof authenticator !== 'function') return undefined;
  const request = { headers: {} as Record<string, string> };
  try {
    void Promise.resolve((authenticator as (request: unknown) => unknown)(request)).catch(() => {});
  } catch {
    return undefined;
  }
  const key = /^Bearer\s+(\S+)$/.exec(request.headers.Authorization ?? '')?.[1];
  if (!key) return undefined;
  return keyMode(key);
}

/** `sk_test_` / `rk_test_` → test; `sk_live_` / `rk_live_` → live. */
export function keyMode(key: string): 'test' | 'live' | undefined {
  if (/^(sk|rk)_test_/.test(key)) return 'test';
  if (/^(sk|rk)_live_/.test(key)) return 'live';
  return undefined;
}
