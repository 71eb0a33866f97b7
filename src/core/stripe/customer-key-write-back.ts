import type Stripe from 'stripe';

/** The outbox's internal event for `backfillCustomerMetadata`: never a hook, never an outgoing webhook. */
export const CUSTOMER_KEY_WRITE_BACK = 'stripe.customer_key_write_back';

export interface CustomerKeyWriteBack {
  stripeCustomerId: string;
  customerKey: string;
}

/**
 * Writes `sa_customer_key` to a Stripe customer, from the outbox worker after the sale committed.
 * Reads the customer first: one whose metadata has a key already (written by the merchant, or by an
 * earlier attempt whose answer was lost) is left alone, so a retry never overwrites. Each call is
 * limited to `timeoutMs` and aborted after it (the SDK's own retries off: the outbox retries, with
 * backoff); a failure throws, and the outbox tries again.
 */
export async function writeCustomerKey(stripe: Stripe, { stripeCustomerId, customerKey }: CustomerKeyWriteBack, timeoutMs: number): Promise<void> {
  const request = { timeout: timeoutMs, maxNetworkRetries: 0 };
  const customer = await stripe.customers.retrieve(stripeCustomerId, {}, request);
  if (customer.deleted || customer.metadata?.sa_customer_key) return;
  await stripe.customers.update(stripeCustomerId, { metadata: { sa_customer_key: customerKey } }, request);
}
