import type Stripe from 'stripe';
import type { ResolvedOptions } from '../options/options.js';
import type { Lookup } from '../transaction/lookups.js';
import { idOf } from './expandable.js';

/**
 * A checkout session's line items, which never come in webhooks: listed through the merchant's
 * Stripe client, with their discounts expanded, under one look-up key, so the promotion codes of
 * attribution and the product rates of a commission share a single API call. Empty without a client.
 */
export async function checkoutLineItems(options: ResolvedOptions, lookup: Lookup, sessionId: string): Promise<Stripe.LineItem[]> {
  const stripe = options.stripe;
  if (!stripe) return [];
  return lookup(`checkout.sessions.listLineItems:${sessionId}`, async () => {
    const listed: Stripe.LineItem[] = [];
    for await (const item of stripe.checkout.sessions.listLineItems(sessionId, { limit: 100, expand: ['data.discounts'] })) listed.push(item);
    return listed;
  });
}

/** The promotion codes applied to checkout line items (listed with their discounts expanded). */
export function lineItemPromotionCodes(items: readonly Stripe.LineItem[]): string[] {
  const ids = items.flatMap((item) => (item.discounts ?? []).map((applied) => idOf(applied.discount?.promotion_code ?? null)));
  return [...new Set(ids.filter((id): id is string => id !== null))];
}
