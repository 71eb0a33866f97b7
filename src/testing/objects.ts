import type Stripe from 'stripe';
import { HANDLED_EVENT_TYPES } from '../core/webhooks/event-handlers.js';

/**
 * Stripe objects as webhooks carry them, typed by the SDK so the compiler checks their shape
 * (stripe 23, API version 2026-10-28.endive: the Basil shape for every field attribution reads).
 * Each builder takes overrides; `legacy.ts` turns them into the pre-Basil shape.
 *
 * Defaults are one coherent test-mode purchase: customer `cus_buyer` pays $100.00 (10000, untaxed)
 * at `T0` — checkout session `cs_test_1` with payment intent `pi_checkout_1` and charge `ch_1`, or
 * subscription `sub_1` with invoice `in_1`. Ids and times are fixed so tests can name them.
 */

/** 2026-05-01T10:00:00Z, in Stripe's seconds: the default `created` of every builder. */
export const T0 = Math.floor(Date.parse('2026-05-01T10:00:00Z') / 1000);

export function checkoutSession(overrides: Partial<Stripe.Checkout.Session> = {}): Stripe.Checkout.Session {
  return {
    id: 'cs_test_1',
    object: 'checkout.session',
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: 10000,
    amount_total: 10000,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: null,
    client_reference_id: null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: T0,
    currency: 'usd',
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: 'cus_buyer',
    customer_account: null,
    customer_creation: 'always',
    customer_details: { address: null, business_name: null, email: 'buyer@example.com', individual_name: null, name: 'Zoë Buyer', phone: null, tax_exempt: 'none', tax_ids: [] },
    customer_email: null,
    discounts: [],
    expires_at: T0 + 86400,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: {},
    mode: 'payment',
    origin_context: null,
    payment_intent: 'pi_checkout_1',
    payment_link: null,
    payment_method_collection: 'always',
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_status: 'paid',
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'complete',
    submit_type: null,
    subscription: null,
    success_url: 'https://shop.example/thanks',
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted',
    url: null,
    wallet_options: null,
    ...overrides,
  };
}

export function invoiceLine(overrides: Partial<Stripe.InvoiceLineItem> = {}): Stripe.InvoiceLineItem {
  return {
    id: 'il_1',
    object: 'line_item',
    amount: 10000,
    currency: 'usd',
    description: '1 × Gold (at $100.00 / month)',
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: 'in_1',
    livemode: false,
    metadata: {},
    parent: null,
    period: { start: T0, end: T0 + 30 * 86400 },
    pretax_credit_amounts: [],
    // Decimal fields arrive as strings in webhooks, whatever the SDK's parsed type says.
    pricing: { type: 'price_details', price_details: { price: 'price_gold', product: 'prod_gold' }, unit_amount_decimal: '10000' as unknown as Stripe.Decimal },
    quantity: 1,
    quantity_decimal: '1' as unknown as Stripe.Decimal,
    subscription: 'sub_1',
    subtotal: 10000,
    taxes: [],
    ...overrides,
  };
}

export function invoice(overrides: Partial<Stripe.Invoice> = {}): Stripe.Invoice {
  const lines = overrides.lines?.data ?? [invoiceLine()];
  return {
    id: 'in_1',
    object: 'invoice',
    account_country: 'US',
    account_name: 'Shop',
    account_tax_ids: null,
    amount_due: 10000,
    amount_overpaid: 0,
    amount_paid: 10000,
    amount_remaining: 0,
    amount_shipping: 0,
    application: null,
    attempt_count: 1,
    attempted: true,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: 'subscription_create',
    collection_method: 'charge_automatically',
    created: T0,
    currency: 'usd',
    custom_fields: null,
    customer: 'cus_buyer',
    customer_account: null,
    customer_address: null,
    customer_email: 'buyer@example.com',
    customer_name: 'Zoë Buyer',
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: T0,
    ending_balance: 0,
    footer: null,
    from_invoice: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: lines, has_more: false, url: '/v1/invoices/in_1/lines' },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: 'SHOP-0001',
    on_behalf_of: null,
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { metadata: {}, subscription: 'sub_1' },
    },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: T0,
    period_start: T0,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'paid',
    status_transitions: { finalized_at: T0, marked_uncollectible_at: null, paid_at: T0 + 5, voided_at: null },
    subtotal: 10000,
    subtotal_excluding_tax: 10000,
    test_clock: null,
    total: 10000,
    total_discount_amounts: [],
    total_excluding_tax: 10000,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: T0,
    ...overrides,
  };
}

export function charge(overrides: Partial<Stripe.Charge> = {}): Stripe.Charge {
  return {
    id: 'ch_1',
    object: 'charge',
    amount: 10000,
    amount_captured: 10000,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: 'txn_1',
    billing_details: { address: null, email: null, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: 'SHOP',
    captured: true,
    created: T0,
    currency: 'usd',
    customer: 'cus_buyer',
    description: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: null,
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: null,
    paid: true,
    payment_intent: 'pi_checkout_1',
    payment_method: 'pm_1',
    payment_method_details: null,
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'succeeded',
    transfer_data: null,
    transfer_group: null,
    ...overrides,
  };
}

export function paymentIntent(overrides: Partial<Stripe.PaymentIntent> = {}): Stripe.PaymentIntent {
  return {
    id: 'pi_direct_1',
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: 2500,
    amount_capturable: 0,
    amount_received: 2500,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: null,
    confirmation_method: 'automatic',
    created: T0,
    currency: 'usd',
    customer: 'cus_buyer',
    customer_account: null,
    description: null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: 'ch_direct_1',
    livemode: false,
    managed_payments: null,
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: 'pm_1',
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'succeeded',
    transfer_group: null,
    ...overrides,
  };
}

export function customer(overrides: Partial<Stripe.Customer> = {}): Stripe.Customer {
  return {
    id: 'cus_buyer',
    object: 'customer',
    balance: 0,
    created: T0,
    currency: null,
    customer_account: null,
    default_source: null,
    description: null,
    email: 'buyer@example.com',
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: {},
    name: 'Zoë Buyer',
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
    ...overrides,
  };
}

/**
 * A webhook endpoint as `webhookEndpoints.list` returns it: enabled, receiving every event type
 * the library handles unless `enabled_events` says otherwise.
 */
export function webhookEndpoint(overrides: Partial<Stripe.WebhookEndpoint> = {}): Stripe.WebhookEndpoint {
  return {
    id: 'we_shop',
    object: 'webhook_endpoint',
    api_version: null,
    application: null,
    created: T0,
    description: null,
    enabled_events: [...HANDLED_EVENT_TYPES],
    livemode: false,
    metadata: {},
    status: 'enabled',
    url: 'https://shop.example/webhooks/stripe',
    ...overrides,
  };
}

export function invoicePayment(overrides: Partial<Stripe.InvoicePayment> = {}): Stripe.InvoicePayment {
  return {
    id: 'inpay_1',
    object: 'invoice_payment',
    amount_paid: 10000,
    amount_requested: 10000,
    created: T0,
    currency: 'usd',
    invoice: 'in_1',
    is_default: true,
    livemode: false,
    payment: { type: 'payment_intent', payment_intent: 'pi_invoice_1' },
    status: 'paid',
    status_transitions: { canceled_at: null, paid_at: T0 + 5 },
    ...overrides,
  };
}

export function dispute(overrides: Partial<Stripe.Dispute> = {}): Stripe.Dispute {
  return {
    id: 'dp_1',
    object: 'dispute',
    amount: 10000,
    balance_transactions: [],
    charge: 'ch_1',
    created: T0 + 86400,
    currency: 'usd',
    enhanced_eligibility_types: [],
    evidence: {} as Stripe.Dispute.Evidence,
    evidence_details: { due_by: null, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0, submission_method: 'not_submitted' },
    intended_submission_method: null,
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: 'pi_checkout_1',
    reason: 'fraudulent',
    status: 'needs_response',
    ...overrides,
  };
}

export function creditNote(overrides: Partial<Stripe.CreditNote> = {}): Stripe.CreditNote {
  return {
    id: 'cn_1',
    object: 'credit_note',
    amount: 5950,
    amount_shipping: 0,
    created: T0 + 86400,
    currency: 'usd',
    customer: 'cus_buyer',
    customer_account: null,
    customer_balance_transaction: 'cbtxn_1',
    discount_amount: 0,
    discount_amounts: [],
    effective_at: T0 + 86400,
    invoice: 'in_1',
    lines: { object: 'list', data: [], has_more: false, url: '/v1/credit_notes/cn_1/lines' },
    livemode: false,
    memo: null,
    metadata: {},
    number: 'SHOP-0001-CN-01',
    out_of_band_amount: null,
    pdf: 'https://pay.stripe.com/credit_notes/cn_1/pdf',
    post_payment_amount: 5950,
    pre_payment_amount: 0,
    pretax_credit_amounts: [],
    reason: 'order_change',
    refunds: [],
    shipping_cost: null,
    status: 'issued',
    subtotal: 5000,
    subtotal_excluding_tax: 5000,
    total: 5950,
    total_excluding_tax: 5000,
    total_taxes: [],
    type: 'post_payment',
    voided_at: null,
    ...overrides,
  };
}

/**
 * A subscription with the fields the ledger reads. Its nested plan and price objects are not
 * built in full here, so this one builder is cast; the fields it does set are checked.
 */
export function subscription(overrides: Partial<Stripe.Subscription> & { quantity?: number } = {}): Stripe.Subscription {
  const { quantity = 1, ...rest } = overrides;
  const fields: Partial<Stripe.Subscription> = {
    id: 'sub_1',
    object: 'subscription',
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    created: T0,
    currency: 'usd',
    customer: 'cus_buyer',
    ended_at: null,
    livemode: false,
    metadata: {},
    start_date: T0,
    status: 'active',
    trial_end: null,
    trial_start: null,
    items: {
      object: 'list',
      data: [{ id: 'si_1', object: 'subscription_item', quantity, price: { id: 'price_gold' } } as Stripe.SubscriptionItem],
      has_more: false,
      url: '/v1/subscription_items?subscription=sub_1',
    },
    ...rest,
  };
  return fields as Stripe.Subscription;
}

/** A Checkout line item as `checkout.sessions.listLineItems` returns it; its price names only the product id. */
export function lineItem(id: string, product: string, amountTotal: number, amountTax = 0): Stripe.LineItem {
  return {
    id,
    object: 'item',
    adjustable_quantity: null,
    amount_discount: 0,
    amount_subtotal: amountTotal - amountTax,
    amount_tax: amountTax,
    amount_total: amountTotal,
    currency: 'usd',
    description: product,
    metadata: {},
    price: { id: `price_${product}`, object: 'price', product } as Stripe.Price,
    quantity: 1,
  };
}

/**
 * A discount as Stripe expands it (webhooks name invoice discounts by id only; `expand[]=discounts`
 * and Checkout's line items show this object): by default partner promotion code `promo_alice`.
 */
export function discount(overrides: Partial<Stripe.Discount> = {}): Stripe.Discount {
  return {
    id: 'di_1',
    object: 'discount',
    checkout_session: null,
    customer: 'cus_buyer',
    customer_account: null,
    end: null,
    invoice: null,
    invoice_item: null,
    promotion_code: 'promo_alice',
    source: { coupon: 'co_1', type: 'coupon' },
    start: T0,
    subscription: null,
    subscription_item: null,
    ...overrides,
  };
}
