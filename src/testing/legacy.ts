import type Stripe from 'stripe';

/**
 * The pre-Basil (≤ 2025-02-24.acacia) shapes of the objects whose fields moved in 2025-03-31, as
 * an endpoint pinned to such a version receives them. Deliver them with `LEGACY_API_VERSION`.
 * They are not assignable to the current SDK types (that is the point), hence the casts.
 */

/**
 * The invoice with `subscription`, `subscription_details`, `payment_intent` and `tax` at the top
 * and `lines[].price`, instead of `parent` and `lines[].pricing`.
 */
export function legacyInvoice(invoice: Stripe.Invoice, paymentIntentId: string | null = null): Stripe.Invoice {
  const { parent, ...rest } = invoice;
  return {
    ...rest,
    subscription: parent?.subscription_details?.subscription ?? null,
    subscription_details: { metadata: parent?.subscription_details?.metadata ?? {} },
    payment_intent: paymentIntentId,
    tax: invoice.total - (invoice.total_excluding_tax ?? invoice.total),
    lines: {
      ...invoice.lines,
      data: invoice.lines.data.map(({ pricing, ...line }) => ({
        ...line,
        price: { id: pricing?.price_details?.price, object: 'price', product: pricing?.price_details?.product },
      })),
    },
  } as unknown as Stripe.Invoice;
}

/** The charge naming its invoice directly (Basil links them only through the payment intent). */
export function legacyCharge(charge: Stripe.Charge, invoiceId: string | null): Stripe.Charge {
  return { ...charge, invoice: invoiceId } as unknown as Stripe.Charge;
}

/** The payment intent naming its invoice (removed in Basil). */
export function legacyPaymentIntent(intent: Stripe.PaymentIntent, invoiceId: string | null): Stripe.PaymentIntent {
  return { ...intent, invoice: invoiceId } as unknown as Stripe.PaymentIntent;
}

/** The credit note naming one `refund` instead of the `refunds` list. */
export function legacyCreditNote(creditNote: Stripe.CreditNote, refundId: string | null): Stripe.CreditNote {
  const { refunds: _refunds, ...rest } = creditNote;
  return { ...rest, refund: refundId } as unknown as Stripe.CreditNote;
}
