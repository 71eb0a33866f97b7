import type Stripe from 'stripe';

/**
 * Readers for fields whose place changed between Stripe API versions. Payloads arrive in the API
 * version of the merchant's webhook endpoint, not the SDK's, so one handler reads both: legacy
 * (≤ 2025-02-24.acacia) and Basil (2025-03-31) onwards.
 */

/** An expandable field: an id, an expanded object, or nothing. */
export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

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

/** Legacy charges name their invoice; from Basil on only the payment intent links them. */
export function chargeInvoiceId(charge: Stripe.Charge): string | null {
  return idOf((charge as unknown as { invoice?: string | { id: string } | null }).invoice);
}

/** Legacy payment intents name their invoice (Basil removed the field). */
export function paymentIntentInvoiceId(intent: Stripe.PaymentIntent): string | null {
  return idOf((intent as unknown as { invoice?: string | { id: string } | null }).invoice);
}

export function toDate(seconds: number): Date {
  return new Date(seconds * 1000);
}
