import type Stripe from 'stripe';
import { attributeBuyer } from './attribute.js';
import type { EventContext } from '../webhooks/events.js';
import { toDate } from '../webhooks/stripe-payloads.js';

/**
 * `customer.created` / `customer.updated` with our metadata (customers created through the
 * wrapped client): a lead, credited once. Attribution never moves on later updates.
 */
export async function customerEvent(context: EventContext): Promise<void> {
  const customer = context.event.data.object as Stripe.Customer;
  const metadata = customer.metadata ?? {};
  if (!metadata.sa_click_id && !metadata.sa_customer_key) return;
  await attributeBuyer(context.tx, context.options, {
    livemode: customer.livemode,
    at: toDate(customer.created),
    stripeCustomerId: customer.id,
    customerKey: metadata.sa_customer_key ?? null,
    email: customer.email,
    name: customer.name ?? null,
    clickIds: [metadata.sa_click_id],
  });
}
