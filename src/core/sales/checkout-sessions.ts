import type Stripe from 'stripe';
import { attributeBuyer } from './attribute.js';
import { readLegacyKeys } from './legacy-keys.js';
import { scaleRoundHalfUp } from './amounts.js';
import { checkoutLineItems, lineItemPromotionCodes } from './checkout-line-items.js';
import type { EventContext } from '../webhooks/events.js';
import { idOf, toDate } from '../webhooks/stripe-payloads.js';

/**
 * `checkout.session.completed` and `checkout.session.async_payment_succeeded`. A paid session in
 * payment mode is the sale; in subscription mode the first paid invoice is (the session only
 * supplies attribution, and credits that invoice's sale if it arrived first); setup mode and
 * unpaid sessions make no sale (an ACH/SEPA session becomes one when its async payment succeeds).
 */
export async function checkoutSessionEvent(context: EventContext): Promise<void> {
  const session = context.event.data.object as Stripe.Checkout.Session;
  if (session.mode === 'setup') return;
  const paymentIntentId = idOf(session.payment_intent);
  const invoiceId = idOf(session.invoice);
  const purchase = { stripeCheckoutSessionId: session.id, stripePaymentIntentId: paymentIntentId, stripeInvoiceId: invoiceId };

  const legacy = readLegacyKeys(context.options.legacyKeys, [session.metadata], session.client_reference_id);

  const buyer = await attributeBuyer(context.tx, context.options, {
    livemode: session.livemode,
    at: toDate(session.created),
    stripeCustomerId: idOf(session.customer),
    customerKey: session.metadata?.sa_customer_key ?? legacy.customerKey,
    email: session.customer_details?.email ?? session.customer_email ?? null,
    name: session.customer_details?.name ?? null,
    // client_reference_id counts only when it is one of our clicks (merchants use it for orders).
    clickIds: [session.metadata?.sa_click_id, session.client_reference_id],
    legacyClickIds: legacy.clickIds,
    programIds: [session.metadata?.sa_program_id],
    promotionCodes: [
      async () => (session.discounts ?? []).map((discount) => idOf(discount.promotion_code)).filter((id): id is string => id !== null),
      // A code on a line item is seen only in the line items, listed through the merchant's client:
      // only when the session had a discount at all.
      async () => ((session.total_details?.amount_discount ?? 0) > 0 ? lineItemPromotionCodes(await checkoutLineItems(context.options, context.lookup, session.id)) : []),
    ],
    purchase,
  });

  if (session.mode === 'subscription') {
    const sale = invoiceId ? await context.tx.findSale({ stripeInvoiceId: invoiceId }) : undefined;
    if (sale && buyer.partnerId && (await context.tx.attributeSale(sale.id, { partnerId: buyer.partnerId, clickId: buyer.clickId, customerId: buyer.customer.id }))) {
      await context.saleRecorded((await context.tx.findSale({ stripeInvoiceId: invoiceId }))!, { claimed: true });
    }
    return;
  }

  if (session.payment_status !== 'paid') return;
  const amount = checkoutSaleAmount(session);
  if (amount.amount <= 0) return;
  const { record, created } = await context.tx.insertSale({
    livemode: session.livemode,
    customerId: buyer.customer.id,
    partnerId: buyer.partnerId,
    clickId: buyer.clickId,
    stripeCheckoutSessionId: session.id,
    stripePaymentIntentId: paymentIntentId,
    // With invoice_creation the payment also has an invoice: the same sale under both keys.
    stripeInvoiceId: invoiceId,
    ...amount,
    chargeAmount: session.amount_total,
    occurredAt: toDate(session.created),
  });
  if (created) {
    await context.saleRecorded(record);
  } else if (!record.partnerId && buyer.partnerId && (await context.tx.attributeSale(record.id, { partnerId: buyer.partnerId, clickId: buyer.clickId, customerId: buyer.customer.id }))) {
    // The same payment was recorded first from its invoice, before this session's attribution.
    await context.saleRecorded((await context.tx.findSale({ stripeCheckoutSessionId: session.id, stripePaymentIntentId: paymentIntentId }))!, { claimed: true });
  }
}

/**
 * The untaxed amount in the merchant's currency. Sessions created since 2025-03-31 report it
 * directly (the buyer's side is in `presentment_details`, ignored); older Adaptive Pricing
 * sessions report the buyer's currency plus `currency_conversion`, scaled by the same untaxed share.
 */
export function checkoutSaleAmount(session: Stripe.Checkout.Session): { amount: number; currency: string } {
  const total = session.amount_total ?? 0;
  const untaxed = total - (session.total_details?.amount_tax ?? 0);
  const conversion = session.currency_conversion;
  if (conversion && total > 0) {
    return { amount: scaleRoundHalfUp(conversion.amount_total, untaxed, total), currency: conversion.source_currency };
  }
  return { amount: untaxed, currency: session.currency ?? '' };
}
