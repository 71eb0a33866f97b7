import type Stripe from 'stripe';
import { attributeBuyer, type BuyerEvidence } from '../../customers/attribute.js';
import { scaleRoundHalfUp } from '../../kernel/money.js';
import { attributeSubscriptionSignup, creditLaterSales, recordSale } from '../../sales/record-sale.js';
import { checkoutLineItems, lineItemPromotionCodes } from '../../stripe/checkout-line-items.js';
import { idOf } from '../../stripe/expandable.js';
import type { EventContext, EventOutcome } from '../event-context.js';
import { readLegacyKeys } from '../legacy-keys.js';
import { cardFingerprint, toDate } from '../stripe-payloads.js';

/**
 * `checkout.session.completed`. A paid session in payment mode is the sale; in subscription mode
 * the first paid invoice is (the session only supplies attribution, and credits that invoice's
 * sale if it arrived first); setup mode and unpaid sessions make no sale (an ACH/SEPA session
 * becomes one when its async payment succeeds), though their buyer is attributed.
 */
export async function checkoutSessionCompleted(context: EventContext): Promise<EventOutcome | void> {
  const session = context.event.data.object as Stripe.Checkout.Session;
  if (session.mode === 'setup') return;
  const paymentIntentId = idOf(session.payment_intent);
  const invoiceId = idOf(session.invoice);
  const evidence = buyerEvidence(context, session, { stripeCheckoutSessionId: session.id, stripePaymentIntentId: paymentIntentId, stripeInvoiceId: invoiceId });

  if (session.mode === 'subscription') return { saleKnown: await attributeSubscriptionSignup(context.tx, context.options, context.lookup, evidence, invoiceId) };
  const amount = checkoutSaleAmount(session);
  if (session.payment_status !== 'paid' || amount.amount <= 0) {
    await creditLaterSales(context.tx, context.options, context.lookup, await attributeBuyer(context.tx, context.options, evidence));
    return;
  }
  const saleKnown = await recordSale(context.tx, context.options, context.lookup, evidence, {
    livemode: session.livemode,
    stripeCheckoutSessionId: session.id,
    stripePaymentIntentId: paymentIntentId,
    // With invoice_creation the payment also has an invoice: the same sale under both keys.
    stripeInvoiceId: invoiceId,
    ...amount,
    chargeAmount: session.amount_total,
    cardFingerprint: cardFingerprint(session.payment_intent),
    occurredAt: toDate(session.created),
  });
  return { saleKnown };
}

function buyerEvidence(context: EventContext, session: Stripe.Checkout.Session, purchase: BuyerEvidence['purchase']): BuyerEvidence {
  const legacy = readLegacyKeys(context.options.legacyKeys, [session.metadata], session.client_reference_id);
  return {
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
  };
}

/**
 * The untaxed amount in the merchant's currency. Sessions created since 2025-03-31 report it
 * directly (the buyer's side is in `presentment_details`, ignored); older Adaptive Pricing
 * sessions report the buyer's currency plus `currency_conversion`, scaled by the same untaxed share.
 */
function checkoutSaleAmount(session: Stripe.Checkout.Session): { amount: number; currency: string } {
  const total = session.amount_total ?? 0;
  const untaxed = total - (session.total_details?.amount_tax ?? 0);
  const conversion = session.currency_conversion;
  if (conversion && total > 0) {
    return { amount: scaleRoundHalfUp(conversion.amount_total, untaxed, total), currency: conversion.source_currency };
  }
  return { amount: untaxed, currency: session.currency ?? '' };
}
