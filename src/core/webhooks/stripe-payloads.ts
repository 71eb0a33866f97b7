import type Stripe from 'stripe';
import { idOf } from '../stripe/expandable.js';

/**
 * Readers for fields whose place changed between Stripe API versions. Payloads arrive in the API
 * version of the merchant's webhook endpoint, not the SDK's, so one handler reads both: legacy
 * (≤ 2025-02-24.acacia) and Basil (2025-03-31) onwards.
 */


/** Legacy fields Basil removed, read without pretending they are in the current types. */
interface LegacyInvoice {
  subscription?: string | { id: string } | null;
  subscription_details?: { metadata: Record<string, string> | null } | null;
  payment_intent?: string | { id: string } | null;
  tax?: number | null;
}
interface LegacyInvoiceLine {
  price?: { id: string; product: string | { id: string } } | null;
}

export function invoiceSubscriptionId(invoice: Stripe.Invoice): string | null {
  const basil = invoice.parent?.subscription_details?.subscription;
  return idOf(basil ?? (invoice as unknown as LegacyInvoice).subscription);
}

export function invoiceSubscriptionMetadata(invoice: Stripe.Invoice): Record<string, string> {
  return (
    invoice.parent?.subscription_details?.metadata ?? (invoice as unknown as LegacyInvoice).subscription_details?.metadata ?? {}
  );
}

/** Legacy invoices name their payment intent; from Basil on it comes from `invoice_payment.paid`. */
export function invoicePaymentIntentId(invoice: Stripe.Invoice): string | null {
  const legacy = idOf((invoice as unknown as LegacyInvoice).payment_intent);
  if (legacy) return legacy;
  const payment = invoice.payments?.data.find((p) => p.status === 'paid')?.payment;
  return idOf(payment?.payment_intent ?? null);
}

/** The invoice's untaxed total: `total_excluding_tax`, or for old payloads without it `total − tax`. */
export function invoiceTotalExcludingTax(invoice: Stripe.Invoice): number {
  return invoice.total_excluding_tax ?? invoice.total - ((invoice as unknown as LegacyInvoice).tax ?? 0);
}

export function invoiceLineProduct(line: Stripe.InvoiceLineItem): string | null {
  const basil = line.pricing?.price_details?.product;
  if (basil) return basil;
  return idOf((line as unknown as LegacyInvoiceLine).price?.product ?? null);
}

export function invoiceLinePrice(line: Stripe.InvoiceLineItem): string | null {
  return idOf(line.pricing?.price_details?.price) ?? (line as unknown as LegacyInvoiceLine).price?.id ?? null;
}

/** A discount as a payload names it: a bare id (invoices, unless expanded) or the expanded object. */
export type DiscountReference = string | Stripe.Discount | Stripe.DeletedDiscount;

/** Before 2020-08-27 an invoice and its lines carried one expanded `discount` instead of `discounts`. */
interface LegacyDiscounted {
  discount?: Stripe.Discount | null;
}

/** The invoice's own discounts (not its lines'). */
export function invoiceDiscounts(invoice: Stripe.Invoice): DiscountReference[] {
  const legacy = (invoice as unknown as LegacyDiscounted).discount;
  return [...(invoice.discounts ?? []), ...(legacy ? [legacy] : [])];
}

/** The discounts of one invoice line: its own, and those whose amounts it shows (the invoice's among them). */
export function invoiceLineDiscounts(line: Stripe.InvoiceLineItem): DiscountReference[] {
  const legacy = (line as unknown as LegacyDiscounted).discount;
  return [...(line.discounts ?? []), ...(line.discount_amounts ?? []).map((amount) => amount.discount), ...(legacy ? [legacy] : [])];
}

/**
 * The promotion codes of `references`, in order, once each: an expanded discount names its own; a
 * bare id is resolved through the expanded discounts among them. `unresolved` when some bare id
 * could not be, so an expanded copy is worth fetching.
 */
export function discountPromotionCodes(references: readonly DiscountReference[]): { codes: string[]; unresolved: boolean } {
  const expanded = new Map<string, string | null>();
  for (const reference of references) if (typeof reference !== 'string') expanded.set(reference.id, idOf(reference.promotion_code));
  const codes: string[] = [];
  let unresolved = false;
  for (const reference of references) {
    const id = typeof reference === 'string' ? reference : reference.id;
    if (!expanded.has(id)) unresolved = true;
    const code = expanded.get(id);
    if (code && !codes.includes(code)) codes.push(code);
  }
  return { codes, unresolved };
}

/** Legacy charges name their invoice; from Basil on only the payment intent links them. */
export function chargeInvoiceId(charge: Stripe.Charge): string | null {
  return idOf((charge as unknown as { invoice?: string | { id: string } | null }).invoice);
}

/** Legacy payment intents name their invoice (Basil removed the field). */
export function paymentIntentInvoiceId(intent: Stripe.PaymentIntent): string | null {
  return idOf((intent as unknown as { invoice?: string | { id: string } | null }).invoice);
}

/** A Stripe timestamp (seconds) as a Date; a payload without a usable one is malformed (RangeError). */
export function toDate(seconds: number): Date {
  const date = new Date(seconds * 1000);
  // Caught here rather than by the database: pg is deprecating invalid dates in favour of throwing.
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a Stripe timestamp: ${JSON.stringify(seconds)}`);
  return date;
}

/**
 * The paying card's fingerprint, when the payment intent came expanded with its latest charge or
 * its payment method (webhooks send ids; an event handed to `handleEvent` may be expanded). Null
 * otherwise: the fraud rule comparing customers' cards then has nothing to compare.
 */
export function cardFingerprint(intent: string | Stripe.PaymentIntent | null | undefined): string | null {
  if (!intent || typeof intent === 'string') return null;
  const charge = intent.latest_charge && typeof intent.latest_charge === 'object' ? intent.latest_charge : null;
  const method = intent.payment_method && typeof intent.payment_method === 'object' ? intent.payment_method : null;
  return charge?.payment_method_details?.card?.fingerprint ?? method?.card?.fingerprint ?? null;
}
