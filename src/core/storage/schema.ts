import type { ColumnType, Generated } from 'kysely';

/** int8 columns: written as numbers, read back as string (node-postgres) or number (PGlite). */
type Money = ColumnType<string | number | bigint, number, number>;
type CreatedAt = ColumnType<Date, Date | undefined, never>;
type Json<T> = ColumnType<T, string, string>;

/**
 * The tables as the queries name them. Their real names carry the configured prefix (`sa_` by
 * default) and live in the configured schema; `TablePrefixPlugin` maps one to the other.
 */
export interface Database {
  partners: {
    id: string;
    name: string;
    email: string | null;
    status: string;
    metadata: Json<Record<string, unknown>>;
    /** The partner's Stripe connected account, which payouts are transferred to. */
    stripe_account_id: ColumnType<string | null, string | null | undefined, string | null>;
    stripe_account_country: ColumnType<string | null, string | null | undefined, string | null>;
    /** The account's `transfers` capability as `account.updated` last told it; null before any. */
    transfers_status: ColumnType<string | null, string | null | undefined, string | null>;
    portal_link_version: ColumnType<number, number | undefined, number>;
    created_at: CreatedAt;
    /** Set on a partner who applied through the application form. */
    applied_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
    application: ColumnType<unknown, string | null | undefined, string | null>;
    decided_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  };
  /** Application submissions per hashed IP and rate-limit window. */
  application_attempts: {
    ip_hash: string;
    window_start: Date;
    attempts: number;
  };
  /** A partner's own terms in one program. */
  partner_programs: {
    partner_id: string;
    program_id: string;
    reward: ColumnType<unknown, string | null | undefined, string | null>;
    group_id: ColumnType<string | null, string | null | undefined, string | null>;
    created_at: CreatedAt;
  };
  /** Partners on common terms within one program. */
  partner_groups: {
    id: string;
    program_id: string;
    name: string;
    reward: ColumnType<unknown, string | null | undefined, string | null>;
    created_at: CreatedAt;
  };
  links: {
    code: string;
    program_id: ColumnType<string, string | undefined, string>;
    partner_id: string;
    created_at: CreatedAt;
    disabled_at: Date | null;
  };
  promotion_codes: {
    id: string;
    program_id: ColumnType<string, string | undefined, string>;
    partner_id: string;
    created_at: CreatedAt;
  };
  clicks: {
    id: string;
    program_id: ColumnType<string, string | undefined, string>;
    partner_id: string;
    link_code: string;
    landing_url: string | null;
    referrer: string | null;
    user_agent: string | null;
    ip_hash: string | null;
    country: string | null;
    created_at: CreatedAt;
  };
  customers: {
    id: string;
    program_id: ColumnType<string, string | undefined, string>;
    livemode: boolean;
    external_id: string | null;
    stripe_customer_id: string | null;
    email: string | null;
    name: string | null;
    partner_id: string | null;
    click_id: string | null;
    attributed_by: string | null;
    attributed_at: Date | null;
    reward_terms: ColumnType<unknown, string | null | undefined, string>;
    first_sale_id: string | null;
    first_sale_at: Date | null;
    blocked_reason: string | null;
    stripe_metadata_written_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
    created_at: CreatedAt;
  };
  sales: {
    id: string;
    program_id: ColumnType<string, string | undefined, string>;
    livemode: boolean;
    customer_id: string | null;
    partner_id: string | null;
    click_id: string | null;
    stripe_payment_intent_id: string | null;
    stripe_invoice_id: string | null;
    stripe_checkout_session_id: string | null;
    stripe_subscription_id: string | null;
    external_invoice_id: string | null;
    amount: Money;
    currency: string;
    amount_refunded: ColumnType<string | number | bigint, number | undefined, number>;
    amount_disputed: ColumnType<string | number | bigint, number | undefined, number>;
    amount_credited: ColumnType<string | number | bigint, number | undefined, number>;
    charge_amount: ColumnType<string | number | bigint | null, number | null | undefined, number | null>;
    billing_reason: string | null;
    card_fingerprint: ColumnType<string | null, string | null | undefined, string | null>;
    occurred_at: Date;
    created_at: CreatedAt;
  };
  sale_lines: {
    sale_id: string;
    position: number;
    stripe_product_id: string | null;
    stripe_price_id: string | null;
    description: string | null;
    quantity: number | null;
    amount: Money;
  };
  commissions: {
    id: string;
    program_id: ColumnType<string, string | undefined, string>;
    livemode: boolean;
    partner_id: string;
    customer_id: string | null;
    sale_id: string | null;
    kind: string;
    status: string;
    amount: Money;
    currency: string;
    reason: string | null;
    hold_until: Date | null;
    exact_numerator: ColumnType<string | number | bigint, string | number | undefined, string | number>;
    basis_amount: ColumnType<string | number | bigint, number | undefined, number>;
    /** The merchant's own changes to a sale's commission, net: kept by every later reconcile. */
    manual_amount: ColumnType<string | number | bigint, number | undefined, number>;
    status_before_hold: string | null;
    approved_at: Date | null;
    paid_at: Date | null;
    payout_id: string | null;
    earned_at: ColumnType<Date, Date | undefined, Date>;
    source_amount: ColumnType<string | number | bigint | null, number | null | undefined, number | null>;
    converted_amount: ColumnType<string | number | bigint | null, number | null | undefined, number | null>;
    event_id: string | null;
    once_key: string | null;
    /** The fraud rules' flags (`[{ rule, reason }]`), when any flagged it. */
    flags: ColumnType<unknown, string | null | undefined, string | null>;
    review: ColumnType<string | null, string | null | undefined, string | null>;
    created_at: CreatedAt;
    updated_at: ColumnType<Date, Date | undefined, Date>;
  };
  /** The merchant's decisions on flagged commissions, one per commission. */
  commission_reviews: {
    id: string;
    commission_id: string;
    decision: string;
    note: string | null;
    decided_by: string | null;
    created_at: CreatedAt;
  };
  milestones: {
    id: string;
    program_id: ColumnType<string, string | undefined, string>;
    livemode: boolean;
    name: string;
    idempotency_key: string;
    customer_id: string;
    partner_id: string | null;
    click_id: string | null;
    value: ColumnType<string | number | bigint | null, number | null, number | null>;
    currency: string | null;
    occurred_at: Date;
    created_at: CreatedAt;
  };
  commission_adjustments: {
    id: string;
    commission_id: string;
    amount: Money;
    reason: string;
    created_at: CreatedAt;
  };
  sale_credits: {
    credit_note_id: string;
    sale_id: string;
    amount: Money;
    created_at: CreatedAt;
  };
  charge_refunds: {
    sale_id: string;
    charge_id: string;
    amount_refunded: Money;
    created_at: CreatedAt;
  };
  sale_disputes: {
    id: string;
    sale_id: string;
    amount: Money;
    status: string;
    stripe_updated_at: Date;
    created_at: CreatedAt;
  };
  subscriptions: {
    id: string;
    livemode: boolean;
    customer_id: string | null;
    status: string;
    quantity: number | null;
    stripe_price_id: string | null;
    canceled_at: Date | null;
    ended_at: Date | null;
    stripe_updated_at: Date;
    created_at: CreatedAt;
  };
  payouts: {
    id: string;
    program_id: ColumnType<string, string | undefined, string>;
    partner_id: string;
    livemode: boolean;
    currency: string;
    amount: Money;
    /** How many commissions it was made of: with `amount`, what marking it paid checks. */
    commission_count: ColumnType<number, number | undefined, number>;
    status: string;
    created_at: CreatedAt;
    paid_at: Date | null;
    /** The Stripe transfer that paid it, when paid through Connect. */
    transfer_id: ColumnType<string | null, string | null | undefined, string | null>;
    /** Part of the transfer's idempotency key: moved on by a refused transfer only. */
    transfer_version: ColumnType<number, number | undefined, number>;
    /** When a run claimed it to transfer; another run leaves it alone for a while. */
    transfer_claimed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
    transfer_error: ColumnType<string | null, string | null | undefined, string | null>;
    reversed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  };
  invoice_payments: {
    payment_intent_id: string;
    invoice_id: string;
    created_at: CreatedAt;
  };
  webhook_events: {
    id: string;
    type: string;
    livemode: boolean;
    api_version: string | null;
    stripe_created_at: Date;
    processed_at: Generated<Date>;
  };
  parked_events: {
    event_id: string;
    waiting_for: string;
    event: Json<unknown>;
    attempts: Generated<number>;
    last_error: string | null;
    parked_at: Generated<Date>;
  };
  outbox_events: {
    id: string;
    seq: Generated<string | number>;
    name: string;
    payload: Json<unknown>;
    ordering_key: string | null;
    attempts: Generated<number>;
    next_attempt_at: Date | null;
    claimed_until: Date | null;
    claim_token: string | null;
    last_error: string | null;
    delivered_at: Date | null;
    created_at: CreatedAt;
  };
}

export type TableName = keyof Database;

/** Every table the library owns, in creation order. */
export const TABLES: readonly TableName[] = [
  'partners',
  'links',
  'promotion_codes',
  'clicks',
  'customers',
  'sales',
  'sale_lines',
  'commissions',
  'commission_adjustments',
  'payouts',
  'sale_credits',
  'sale_disputes',
  'subscriptions',
  'invoice_payments',
  'webhook_events',
  'parked_events',
  'milestones',
  'partner_programs',
  'partner_groups',
  'charge_refunds',
  'application_attempts',
  'commission_reviews',
  'outbox_events',
];
