/** The identifiers under which a sale may already be known; any one matching is the same sale. */
export interface SaleKeys {
  stripePaymentIntentId?: string | null;
  stripeInvoiceId?: string | null;
  stripeCheckoutSessionId?: string | null;
  externalInvoiceId?: string | null;
}

/** The keys given, as column and value: any one matching is the same sale. */
export function saleKeyConditions(keys: SaleKeys) {
  const conditions = [
    ['stripe_payment_intent_id', keys.stripePaymentIntentId],
    ['stripe_invoice_id', keys.stripeInvoiceId],
    ['stripe_checkout_session_id', keys.stripeCheckoutSessionId],
    ['external_invoice_id', keys.externalInvoiceId],
  ] as const;
  return conditions.filter((entry): entry is [(typeof entry)[0], string] => Boolean(entry[1]));
}
