import type Stripe from 'stripe';
import { isClickId } from '../../clicks/click-id.js';
import { attributeBuyer } from '../../customers/attribute.js';
import { creditLaterSales } from '../../sales/record-sale.js';
import type { EventContext, EventOutcome } from '../event-context.js';
import { readLegacyKeys } from '../legacy-keys.js';
import { waitingForClick } from '../parking.js';
import { toDate } from '../stripe-payloads.js';

/**
 * `customer.created` (and `customer.updated`) with our metadata (customers created through the
 * wrapped client), or another tool's with `legacyKeys`: a lead, credited once. Attribution never
 * moves on later updates.
 */
export async function customerCreated(context: EventContext): Promise<EventOutcome | void> {
  const customer = context.event.data.object as Stripe.Customer;
  const metadata = customer.metadata ?? {};
  const legacy = readLegacyKeys(context.options.legacyKeys, [metadata]);
  const customerKey = metadata.sa_customer_key ?? legacy.customerKey;
  if (!metadata.sa_click_id && !customerKey && legacy.clickIds.length === 0) return;
  // A click this database does not know yet (recorded by another instance a moment ago, or still
  // on its way from an Edge middleware) is waited for: applyParked() retries it. Another tool's
  // click is never waited for: it exists only if it was imported before.
  if (isClickId(metadata.sa_click_id) && !(await context.tx.getClick(metadata.sa_click_id))) return { waitingFor: waitingForClick(metadata.sa_click_id) };
  const buyer = await attributeBuyer(context.tx, context.options, {
    livemode: customer.livemode,
    at: toDate(customer.created),
    stripeCustomerId: customer.id,
    customerKey,
    email: customer.email,
    name: customer.name ?? null,
    clickIds: [metadata.sa_click_id],
    legacyClickIds: legacy.clickIds,
    programIds: [metadata.sa_program_id],
    stripeCustomerHasKey: Boolean(metadata.sa_customer_key),
  });
  await creditLaterSales(context.tx, context.options, context.lookup, buyer);
}
