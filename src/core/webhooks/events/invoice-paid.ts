import type Stripe from 'stripe';
import { scaleRoundHalfUp, splitProRata } from '../../kernel/money.js';
import { recordSale } from '../../sales/record-sale.js';
import { idOf } from '../../stripe/expandable.js';
import type { EventContext, EventOutcome } from '../event-context.js';
import { readLegacyKeys } from '../legacy-keys.js';
import {
  discountPromotionCodes,
  invoiceDiscounts,
  invoiceLineDiscounts,
  invoiceLinePrice,
  invoiceLineProduct,
  invoicePaymentIntentId,
  invoiceSubscriptionId,
  invoiceSubscriptionMetadata,
  invoiceTotalExcludingTax,
  toDate,
} from '../stripe-payloads.js';

/**
 * `invoice.paid` (and `invoice.payment_succeeded`: the same invoice is one sale, whichever arrives
 * first): first invoices, renewals, prorations. The sale is what was paid without its tax share;
 * an invoice with nothing paid is not a sale. Renewals belong to the customer's partner for the
 * subscription's life; a first invoice may carry its own attribution in the subscription's metadata
 * (put there by the wrapped client), which is how it is attributed before its checkout session.
 */
export async function invoicePaid(context: EventContext): Promise<EventOutcome | void> {
  const invoice = context.event.data.object as Stripe.Invoice;
  if (invoice.amount_paid <= 0 || invoice.total <= 0) return;
  const subscriptionMetadata = invoiceSubscriptionMetadata(invoice);
  const paymentIntentId = invoicePaymentIntentId(invoice) ?? (await context.tx.findPaymentIntentForInvoice(invoice.id!)) ?? null;
  const legacy = readLegacyKeys(context.options.legacyKeys, [subscriptionMetadata, invoice.metadata]);

  const evidence = {
    livemode: invoice.livemode,
    at: toDate(invoice.created),
    stripeCustomerId: idOf(invoice.customer),
    customerKey: subscriptionMetadata.sa_customer_key ?? invoice.metadata?.sa_customer_key ?? legacy.customerKey,
    email: invoice.customer_email,
    name: invoice.customer_name,
    clickIds: [invoice.metadata?.sa_click_id, subscriptionMetadata.sa_click_id],
    legacyClickIds: legacy.clickIds,
    programIds: [invoice.metadata?.sa_program_id, subscriptionMetadata.sa_program_id],
    promotionCodes: invoicePromotionCodes(context, invoice),
    purchase: { stripeInvoiceId: invoice.id!, stripePaymentIntentId: paymentIntentId },
  };
  const amount = scaleRoundHalfUp(invoice.amount_paid, Math.max(invoiceTotalExcludingTax(invoice), 0), invoice.total);
  const lines = await allInvoiceLines(context, invoice);
  const shares = splitProRata(amount, lines.map((line) => line.amount));
  const saleKnown = await recordSale(context.tx, context.options, context.lookup, evidence, {
    livemode: invoice.livemode,
    stripeInvoiceId: invoice.id!,
    stripePaymentIntentId: paymentIntentId,
    stripeSubscriptionId: invoiceSubscriptionId(invoice),
    amount,
    currency: invoice.currency,
    // All the invoice's payments together: a dispute on one of several charges is scaled by the invoice.
    chargeAmount: invoice.amount_paid,
    billingReason: invoice.billing_reason,
    occurredAt: toDate(invoice.status_transitions?.paid_at ?? context.event.created),
    lines: lines.map((line, index) => ({
      stripeProductId: invoiceLineProduct(line),
      stripePriceId: invoiceLinePrice(line),
      description: line.description,
      quantity: line.quantity,
      amount: shares[index]!,
    })),
  });
  return { saleKnown };
}

/** Webhook invoices carry only the first page of lines; the rest are listed through the merchant's client. */
async function allInvoiceLines(context: EventContext, invoice: Stripe.Invoice): Promise<Stripe.InvoiceLineItem[]> {
  const first = invoice.lines?.data ?? [];
  const stripe = context.options.stripe;
  const id = invoice.id;
  if (!invoice.lines?.has_more || !stripe || !id) return first;
  return context.lookup(`invoices.listLineItems:${id}`, async () => {
    const lines: Stripe.InvoiceLineItem[] = [];
    // Discounts expanded, so the same listing also gives the lines' promotion codes.
    for await (const line of stripe.invoices.listLineItems(id, { limit: 100, expand: ['data.discounts'] })) lines.push(line);
    return lines;
  });
}

/**
 * Where an invoice's promotion codes are found, its own and its lines' (a partner's code on any
 * line attributes the sale): first the discounts the payload shows expanded; then, since webhooks
 * carry discounts as bare ids, the invoice fetched with its and its lines' discounts expanded (and
 * an invoice with more lines than the webhook carries has them all listed) — an API call made only
 * when no customer, click or code in the payload decided.
 */
function invoicePromotionCodes(context: EventContext, invoice: Stripe.Invoice): Array<() => Promise<string[]>> {
  const inPayload = [...invoiceDiscounts(invoice), ...(invoice.lines?.data ?? []).flatMap(invoiceLineDiscounts)];
  return [
    async () => discountPromotionCodes(inPayload).codes,
    async () => {
      const stripe = context.options.stripe;
      const id = invoice.id;
      const moreLines = Boolean(invoice.lines?.has_more) && (invoice.total_discount_amounts?.length ?? 0) > 0;
      if (!stripe || !id || !(discountPromotionCodes(inPayload).unresolved || moreLines)) return [];
      const expanded = await context.lookup(`invoices.retrieve:${id}:discounts`, () => stripe.invoices.retrieve(id, { expand: ['discounts', 'lines.data.discounts'] }));
      const lines = invoice.lines?.has_more ? await allInvoiceLines(context, invoice) : (expanded.lines?.data ?? []);
      return discountPromotionCodes([...invoiceDiscounts(expanded), ...lines.flatMap(invoiceLineDiscounts)]).codes;
    },
  ];
}
