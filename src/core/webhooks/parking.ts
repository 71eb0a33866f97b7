import type { SaleKeys } from '../storage/types.js';

/**
 * The parking keys: an event whose counterpart has not arrived (a refund before its sale) waits in
 * the database under the key naming that counterpart, until it is known. Spelled here only.
 */
export const waitingForPayment = (paymentIntentId: string | null): string => `payment_intent:${paymentIntentId}`;
export const waitingForInvoice = (invoiceId: string | null): string => `invoice:${invoiceId}`;
/** A click another instance (or an Edge middleware) recorded a moment ago; `applyParked` retries. */
export const waitingForClick = (clickId: string): string => `click:${clickId}`;

/** The parking keys under which events may wait for a sale with these identifiers. */
export function parkingKeys(keys: SaleKeys): string[] {
  return [
    keys.stripePaymentIntentId && waitingForPayment(keys.stripePaymentIntentId),
    keys.stripeInvoiceId && waitingForInvoice(keys.stripeInvoiceId),
  ].filter((key): key is string => Boolean(key));
}
