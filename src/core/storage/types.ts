import type { Amount } from '../money.js';

/** The id of the `program` shorthand, and of everything recorded before programs had ids. */
export const DEFAULT_PROGRAM_ID = 'default';

/** Partner status: a disabled partner's links record nothing and earn nothing. */
export type PartnerStatus = 'active' | 'disabled';

export interface Partner {
  id: string;
  name: string;
  email: string | null;
  status: PartnerStatus;
  metadata: Record<string, unknown>;
  createdAt: Date;
}

export interface NewPartner {
  name: string;
  email?: string | null;
  metadata?: Record<string, unknown>;
}

/** Partners on common terms within one program: its reward applies unless a partner has their own. */
export interface PartnerGroupRecord {
  id: string;
  programId: string;
  name: string;
  /** The group's sale reward as configured (validated by the caller), or null for the program's. */
  reward: unknown;
  createdAt: Date;
}

/** A partner's own settings in one program. */
export interface PartnerProgram {
  programId: string;
  /** The partner's own sale reward there, or null. */
  reward: unknown;
  groupId: string | null;
}

/** A referral code: the `?via=<code>` value of a partner link. Codes are case-insensitive. */
export interface Link {
  /** Unique across programs, so `?via=<code>` alone names the partner and the program. */
  code: string;
  partnerId: string;
  /** The program whose terms the code's visitors are attributed under. */
  programId: string;
  createdAt: Date;
  disabledAt: Date | null;
}

/** A Stripe promotion code (`promo_…`) whose use attributes a sale to a partner. */
export interface PromotionCode {
  id: string;
  partnerId: string;
  programId: string;
  createdAt: Date;
}

export interface Click {
  /** Unguessable, URL-safe: travels in the cookie and in Stripe metadata. */
  id: string;
  partnerId: string;
  /** The program of the link's code. */
  programId: string;
  linkCode: string;
  landingUrl: string | null;
  referrer: string | null;
  userAgent: string | null;
  /** HMAC of the visitor's IP with a secret salt: the raw IP is never stored. */
  ipHash: string | null;
  country: string | null;
  createdAt: Date;
}

export type NewClick = Omit<Click, 'createdAt' | 'programId'> & { createdAt?: Date; programId?: string };

/** How a customer came to belong to a partner (DESIGN.md §3). */
export type AttributionSource = 'click' | 'promotion_code';

/**
 * A buyer within one program: a person who came through two programs is a customer in each, with
 * a partner, locked terms and a block of its own in each.
 */
export interface Customer {
  id: string;
  programId: string;
  livemode: boolean;
  /** The merchant's own user id (`sa_customer_key` in Stripe metadata). */
  externalId: string | null;
  stripeCustomerId: string | null;
  /** Lower-cased. */
  email: string | null;
  name: string | null;
  partnerId: string | null;
  clickId: string | null;
  attributedBy: AttributionSource | null;
  attributedAt: Date | null;
  /** Set by a self-referral or a manual fraud void: no commissions for this customer any more. */
  blockedReason: string | null;
  createdAt: Date;
}

export interface NewCustomer {
  livemode: boolean;
  /** Default `'default'`. */
  programId?: string;
  externalId?: string | null;
  stripeCustomerId?: string | null;
  email?: string | null;
  name?: string | null;
}

export interface CustomerAttribution {
  partnerId: string;
  clickId: string | null;
  attributedBy: AttributionSource;
  at: Date;
}

export interface Sale {
  id: string;
  /** Its customer's program (the default program's when it has no customer). */
  programId: string;
  livemode: boolean;
  customerId: string | null;
  /** Null for an unattributed sale: still recorded, it explains the funnel. */
  partnerId: string | null;
  clickId: string | null;
  stripePaymentIntentId: string | null;
  stripeInvoiceId: string | null;
  stripeCheckoutSessionId: string | null;
  stripeSubscriptionId: string | null;
  /** `trackSale`'s idempotency key for billing outside Stripe. */
  externalInvoiceId: string | null;
  /** Untaxed, in minor units of `currency`, as paid. */
  amount: Amount;
  currency: string;
  /** Untaxed, refunded to the payment method (cumulative, from `charge.refunded`). */
  amountRefunded: Amount;
  /** Untaxed, under disputes that are open or lost. */
  amountDisputed: Amount;
  /** Untaxed, credited to the customer's balance or settled out of band by credit notes. */
  amountCredited: Amount;
  /**
   * What the buyer was charged for it, tax included, in the charge's currency (null for sales made
   * before it was kept, and for `trackSale`): disputes are scaled against it without asking Stripe.
   */
  chargeAmount: Amount | null;
  billingReason: string | null;
  /** Stripe's own time of the payment, never the time of delivery. */
  occurredAt: Date;
  createdAt: Date;
}

export interface NewSale {
  livemode: boolean;
  customerId?: string | null;
  partnerId?: string | null;
  clickId?: string | null;
  stripePaymentIntentId?: string | null;
  stripeInvoiceId?: string | null;
  stripeCheckoutSessionId?: string | null;
  stripeSubscriptionId?: string | null;
  externalInvoiceId?: string | null;
  amount: Amount;
  currency: string;
  chargeAmount?: Amount | null;
  billingReason?: string | null;
  occurredAt: Date;
  lines?: NewSaleLine[];
}

export interface SubscriptionState {
  id: string;
  livemode: boolean;
  customerId: string | null;
  status: string;
  quantity: number | null;
  stripePriceId: string | null;
  canceledAt: Date | null;
  /** Set when the subscription ended: churn. */
  endedAt: Date | null;
  /** Stripe's time of the event this state comes from. */
  at: Date;
}

/** A sale's share per line item (pro rata, largest remainder, summing to the sale's amount). */
export interface SaleLine {
  position: number;
  stripeProductId: string | null;
  stripePriceId: string | null;
  description: string | null;
  quantity: number | null;
  amount: Amount;
}

export type NewSaleLine = Omit<SaleLine, 'position'>;

/** The identifiers under which a sale may already be known; any one matching is the same sale. */
export interface SaleKeys {
  stripePaymentIntentId?: string | null;
  stripeInvoiceId?: string | null;
  stripeCheckoutSessionId?: string | null;
  externalInvoiceId?: string | null;
}

export type CommissionKind = 'sale' | 'lead' | 'clawback' | 'event';

/** A custom milestone of a customer's (`trackEvent`): a booked demo, an activated trial. */
export interface Milestone {
  id: string;
  /** Its customer's program. */
  programId: string;
  livemode: boolean;
  /** Your name for it, e.g. `demo_booked`: what `program.eventRewards` is keyed by. */
  name: string;
  /** Your key: a repeat with the same key (in the same mode) is the same milestone. */
  idempotencyKey: string;
  customerId: string;
  /** The customer's partner when it happened; null when the customer belongs to none. */
  partnerId: string | null;
  clickId: string | null;
  /** What it is worth (e.g. a deal value), in minor units of `currency`. */
  value: Amount | null;
  currency: string | null;
  occurredAt: Date;
  createdAt: Date;
}

export type NewMilestone = Omit<Milestone, 'id' | 'createdAt' | 'programId'>;
export type CommissionStatus = 'pending' | 'approved' | 'held' | 'paid' | 'voided';

export interface Commission {
  id: string;
  /** Its customer's program, whose terms it was computed with. */
  programId: string;
  livemode: boolean;
  partnerId: string;
  customerId: string | null;
  saleId: string | null;
  /** The milestone an `event` commission rewards. */
  eventId: string | null;
  kind: CommissionKind;
  status: CommissionStatus;
  amount: Amount;
  currency: string;
  reason: string | null;
  holdUntil: Date | null;
  /** The exact commission on the whole sale, × 10 000: what every later change is computed from. */
  exactNumerator: bigint;
  /** The sale amount `exactNumerator` was computed on. */
  basisAmount: Amount;
  /** The status to return to when the dispute that holds it is won. */
  statusBeforeHold: CommissionStatus | null;
  approvedAt: Date | null;
  paidAt: Date | null;
  payoutId: string | null;
  /** With currency conversion: the whole commission in the sale's currency, and as converted. */
  conversion: { sourceAmount: Amount; convertedAmount: Amount } | null;
  createdAt: Date;
}

export interface NewCommission {
  livemode: boolean;
  partnerId: string;
  customerId?: string | null;
  saleId?: string | null;
  eventId?: string | null;
  /** A reward paid once per customer and event name: a second commission with the same key is not created. */
  onceKey?: string | null;
  kind: CommissionKind;
  status: CommissionStatus;
  amount: Amount;
  currency: string;
  reason?: string | null;
  holdUntil?: Date | null;
  exactNumerator?: bigint;
  basisAmount?: Amount;
  approvedAt?: Date | null;
  /** When it was earned (the sale's or lead's time). Default: now. */
  earnedAt?: Date;
  conversion?: { sourceAmount: Amount; convertedAmount: Amount } | null;
}

export interface Payout {
  id: string;
  partnerId: string;
  /** A payout pays one program's commissions. */
  programId: string;
  partnerName: string;
  partnerEmail: string | null;
  livemode: boolean;
  currency: string;
  amount: Amount;
  status: 'pending' | 'paid';
  createdAt: Date;
  paidAt: Date | null;
}

export type ReportInterval = 'day' | 'week' | 'month' | 'all';

export interface ReportRequest {
  from: Date;
  /** Exclusive. */
  to: Date;
  interval: ReportInterval;
  livemode: boolean;
  partnerId?: string;
  /** Only this program's clicks, leads, events, sales and commissions. Default: every program's. */
  programId?: string;
}

export interface CurrencyTotals {
  /** Number of sales. */
  sales: number;
  /** Untaxed sale amounts as recorded. */
  revenue: Amount;
  /** Untaxed: refunded to the card plus credited by credit notes. */
  refunded: Amount;
  /** Net commission amounts (adjustments included) by status. */
  commissions: Record<CommissionStatus, Amount>;
}

export interface ReportRow {
  partnerId: string;
  /** Start of the period (UTC); `from` for interval `all`. */
  period: Date;
  clicks: number;
  leads: number;
  /** Milestones (`trackEvent`) by name. */
  events: Record<string, number>;
  /** Never added across currencies. */
  currencies: Record<string, CurrencyTotals>;
}

export interface PartnerCodes {
  codes: string[];
  promotionCodes: string[];
  /** The same, by program id. */
  programs: Record<string, { codes: string[]; promotionCodes: string[] }>;
}

export type CustomerLookup =
  | { id: string }
  | { stripeCustomerId: string; programId?: string }
  | { externalId: string; livemode?: boolean; programId?: string }
  | { email: string; livemode?: boolean; programId?: string };

/** A Stripe event whose effects are committed. */
export interface WebhookEventRecord {
  id: string;
  type: string;
  livemode: boolean;
  apiVersion: string | null;
  /** Stripe's `event.created`. */
  createdAt: Date;
}

/** An event that arrived before what it depends on, kept until its counterpart arrives. */
export interface ParkedEvent {
  eventId: string;
  /** What it waits for, e.g. `payment_intent:pi_123`: the counterpart's arrival looks this up. */
  waitingFor: string;
  event: unknown;
  attempts: number;
  lastError: string | null;
  parkedAt: Date;
}

/** The outcome of an insert that is idempotent on a unique key. */
export interface Inserted<T> {
  record: T;
  /** False when the record already existed: this call was a repeat and changed nothing. */
  created: boolean;
}

export interface MigrationReport {
  /** Names of the migrations this call applied, in order; empty when nothing was pending. */
  applied: string[];
}

/**
 * The domain operations on stored attribution data. On `Storage` each call commits on its own;
 * inside `Storage.transaction` they all commit or roll back together.
 *
 * Concurrency promise: every idempotent write is decided by a unique key in the database, never by
 * a read before the write. Callers in any number of processes racing on the same key get exactly
 * one `created: true` (or `true`); the others wait for the winner's transaction to end and then see
 * its row — or, if the winner rolled back, one of them wins instead.
 */
export interface StorageOperations {
  insertPartner(partner: NewPartner): Promise<Partner>;
  getPartner(id: string): Promise<Partner | undefined>;
  /** Every partner, by name. */
  listPartners(): Promise<Partner[]>;
  /** Attributed customers (leads), the most recently attributed first. */
  listLeads(filter: { partnerId?: string; programId?: string; livemode?: boolean; limit: number }): Promise<Customer[]>;
  setPartnerStatus(id: string, status: PartnerStatus): Promise<void>;

  /**
   * Codes are stored lower-cased, unique across programs (default program `'default'`). Throws
   * `ConflictError` if another partner owns the code, or the partner has it in another program.
   */
  insertLink(link: { partnerId: string; code: string; programId?: string }): Promise<Link>;
  /** The code's link and partner, only if both are active. */
  findActiveLink(code: string): Promise<{ link: Link; partner: Partner } | undefined>;
  /** Like `insertLink`, for a Stripe promotion code id. */
  insertPromotionCode(code: { id: string; partnerId: string; programId?: string }): Promise<PromotionCode>;
  /** The partner's referral codes and promotion code ids, oldest first, all of them and by program. */
  listPartnerCodes(partnerId: string): Promise<PartnerCodes>;
  findPromotionCodes(ids: readonly string[]): Promise<PromotionCode[]>;

  insertClick(click: NewClick): Promise<Click>;
  /** Many clicks in one statement (batched click writes); a click already stored is left as it is. */
  insertClicks(clicks: readonly NewClick[]): Promise<void>;
  getClick(id: string): Promise<Click | undefined>;

  /**
   * Idempotent on `externalId` and on `stripeCustomerId` within the program: a repeat returns the
   * stored customer.
   */
  insertCustomer(customer: NewCustomer): Promise<Inserted<Customer>>;
  /**
   * By our id, by Stripe's (unique in a program), or by your user id or email within one mode (live
   * or test). Without `livemode`, either mode. Without `programId`, any program: the customer
   * attributed first speaks for the person, then the oldest.
   */
  findCustomer(by: CustomerLookup): Promise<Customer | undefined>;
  /** Fills identifiers the customer did not have yet; never replaces one it has. */
  linkCustomer(id: string, ids: { externalId?: string; stripeCustomerId?: string; email?: string }): Promise<Customer>;
  /**
   * Gives an unattributed customer to a partner. Returns false (and changes nothing) when the
   * customer already has one: attribution never moves.
   */
  attributeCustomer(id: string, attribution: CustomerAttribution): Promise<boolean>;
  /**
   * Whether any sale is recorded for the customer (a buyer is not claimed by a later click),
   * not counting the sale known under `except` — the purchase being attributed right now.
   */
  customerHasSales(customerId: string, except?: SaleKeys): Promise<boolean>;

  /**
   * Idempotent on any of the sale's keys: one payment is one sale, whichever event came first. The
   * sale belongs to its customer's program.
   */
  insertSale(sale: NewSale): Promise<Inserted<Sale>>;
  findSale(keys: SaleKeys): Promise<Sale | undefined>;
  listSales(filter: { partnerId?: string; customerId?: string; programId?: string; livemode?: boolean }): Promise<Sale[]>;
  /**
   * Credits an unattributed sale (the same purchase, whose attribution arrived later) and moves it
   * to that customer's program. False if it had a partner.
   */
  attributeSale(saleId: string, attribution: { partnerId: string; clickId: string | null; customerId: string }): Promise<boolean>;
  /** Fills the sale's payment intent when it was not known yet; never replaces one. */
  setSalePaymentIntent(saleId: string, paymentIntentId: string): Promise<void>;
  /**
   * Raises the sale's refunded amount to `amount` (never lowers it): refunds arrive as cumulative
   * totals, so a repeated or older event changes nothing.
   */
  raiseSaleRefunded(saleId: string, amount: Amount): Promise<Sale>;
  /**
   * Raises what one charge of the sale has had refunded to `amountRefunded` (Stripe's cumulative
   * total; never lowered) and returns the sum over all the sale's charges — an invoice may be paid
   * by several. Concurrent refunds of one sale's charges take turns on the sale's row, so each sum
   * sees the others.
   */
  recordChargeRefund(refund: { saleId: string; chargeId: string; amountRefunded: Amount }): Promise<Amount>;

  /** Records a credit note's reduction of a sale once (keyed by the credit note) and returns the sale. */
  recordSaleCredit(credit: { creditNoteId: string; saleId: string; amount: Amount }): Promise<Sale>;
  /** Removes a voided credit note's reduction; returns the sale it applied to, if any. */
  removeSaleCredit(creditNoteId: string): Promise<string | undefined>;
  /**
   * Records a dispute's latest state (keyed by the dispute; an older event never overwrites a newer
   * one) and returns the sale, whose disputed amount counts disputes open or lost.
   */
  recordDispute(dispute: { id: string; saleId: string; amount: Amount; status: string; at: Date }): Promise<Sale>;
  /** Records a subscription's state as of `at`; an older event never overwrites a newer one. */
  upsertSubscription(subscription: SubscriptionState): Promise<void>;
  getSubscription(id: string): Promise<SubscriptionState | undefined>;

  /** Remembers which invoice a payment intent paid. Idempotent. */
  recordInvoicePayment(link: { paymentIntentId: string; invoiceId: string }): Promise<void>;
  findInvoiceForPaymentIntent(paymentIntentId: string): Promise<string | undefined>;
  findPaymentIntentForInvoice(invoiceId: string): Promise<string | undefined>;
  getSaleLines(saleId: string): Promise<SaleLine[]>;
  /** Stores a sale's line shares learned after the sale (checkout line items). Idempotent. */
  addSaleLines(saleId: string, lines: readonly NewSaleLine[]): Promise<void>;

  /**
   * Locks the customer's reward terms at their first attributed sale and anchors their reward
   * window (the `'once'` sale, the start of a month window) at the earliest such sale by Stripe
   * time: the smallest `(at, saleId)`, ties at the same instant going to the smaller sale id. The
   * terms are the first caller's and never change; the anchor moves to an earlier sale whenever
   * one arrives late. One statement under the customer's row lock, so concurrent callers take
   * turns and every caller gets the locked terms and the anchor as of its turn back, with
   * `replaced`: the anchor this call moved away from (null when it moved nothing).
   */
  lockRewardTerms<T>(
    customerId: string,
    first: { terms: T; saleId: string; at: Date },
  ): Promise<{ terms: T; saleId: string; at: Date; replaced: { saleId: string; at: Date } | null }>;
  /**
   * The customer's sale commissions (not clawbacks), each with its sale's Stripe time: what a
   * moved reward anchor re-derives. Call after `lockRewardTerms`, whose row lock keeps the set still.
   */
  listCustomerSaleCommissions(customerId: string): Promise<Array<{ commission: Commission; saleOccurredAt: Date }>>;
  /**
   * Sets a commission's exact amount to zero: its sale no longer earns a reward (it fell out of
   * the customer's reward window), so reconciling it voids or claws back what was recorded, and
   * later refunds or disputes of the sale change nothing.
   */
  endCommissionReward(id: string): Promise<Commission>;
  blockCustomer(customerId: string, reason: string): Promise<void>;
  /**
   * Claims the one write-back of the customer's `sa_customer_key` to Stripe's metadata: true for
   * the first caller ever, false for every other (concurrent callers wait for the first to end).
   */
  claimStripeMetadataWrite(customerId: string, at: Date): Promise<boolean>;
  /** The partner's own reward in a program (default `'default'`), or none with `null`. */
  setPartnerReward(partnerId: string, reward: unknown, programId?: string): Promise<void>;
  getPartnerReward(partnerId: string, programId?: string): Promise<unknown>;
  /** The partner's own settings in each program they have any in. */
  listPartnerPrograms(partnerId: string): Promise<PartnerProgram[]>;
  /**
   * The rewards a partner's sale in a program may follow, most specific first: the partner's own,
   * then their group's (each null when there is none).
   */
  getPartnerTerms(partnerId: string, programId: string): Promise<{ reward: unknown; groupReward: unknown }>;

  insertPartnerGroup(group: { programId: string; name: string; reward: unknown }): Promise<PartnerGroupRecord>;
  getPartnerGroup(id: string): Promise<PartnerGroupRecord | undefined>;
  listPartnerGroups(filter: { programId?: string }): Promise<PartnerGroupRecord[]>;
  setPartnerGroupReward(id: string, reward: unknown): Promise<void>;
  /**
   * Puts the partner in the group, in the group's program; a partner is in one group per
   * program, so this takes them out of another group there. False when there is no such group.
   */
  assignPartnerGroup(partnerId: string, groupId: string): Promise<boolean>;
  /** Takes the partner out of their group in the program, if any. */
  removePartnerGroup(partnerId: string, programId: string): Promise<void>;

  findSaleCommission(saleId: string, partnerId: string): Promise<Commission | undefined>;
  getCommission(id: string): Promise<Commission | undefined>;
  /** What is recorded for the sale: its commission and clawbacks, net. */
  recordedForSale(saleId: string): Promise<Amount>;
  /**
   * Adds `delta` to a commission (logged with its reason as an adjustment) and sets its status.
   * Call inside the transaction that holds the sale, so concurrent changes serialise on it.
   */
  adjustCommission(id: string, change: { delta: Amount; reason: string; status?: CommissionStatus; statusBeforeHold?: CommissionStatus | null }): Promise<Commission>;
  /** Open and lost disputed amounts of a sale. */
  disputeTotals(saleId: string): Promise<{ open: Amount; lost: Amount }>;
  /** Locks the sale's row until the transaction ends, so changes to one sale's commission take turns. */
  lockSale(saleId: string): Promise<Sale | undefined>;
  /** Approves pending commissions whose hold ended by `now`. Returns how many. */
  approveDueCommissions(now: Date): Promise<number>;
  /** Marks approved commissions paid. Returns how many changed. */
  /** Approves the given pending commissions before their hold ends (others are left as they are); each row changes once. */
  approveCommissions(ids: readonly string[], now: Date): Promise<number>;
  markCommissionsPaid(ids: readonly string[], paidAt: Date, payoutId: string | null): Promise<number>;

  /**
   * Groups approved commissions not yet in a payout (clawbacks included, netted) into one payout
   * per partner and currency, for one mode (live or test, never mixed), when the total reaches
   * `minimumAmount`. Commissions are claimed with row locks, so concurrent calls never put one
   * commission in two payouts.
   */
  createPayouts(request: { minimumAmount: Amount; currency?: string; programId?: string; livemode: boolean }): Promise<Payout[]>;
  listPayouts(filter: { status?: 'pending' | 'paid'; livemode?: boolean; partnerId?: string; programId?: string }): Promise<Payout[]>;
  /** Marks a payout and its commissions paid. */
  markPayoutPaid(id: string, paidAt: Date): Promise<Payout | undefined>;

  /** Clicks, leads, sales, revenue, refunds and commissions per partner and period, from SQL aggregates. */
  report(request: ReportRequest): Promise<ReportRow[]>;

  /**
   * Idempotent on the milestone's idempotency key and mode: a repeat (or a concurrent duplicate,
   * once the first commits) gets the stored milestone and `created: false`. It belongs to its
   * customer's program.
   */
  insertMilestone(milestone: NewMilestone): Promise<Inserted<Milestone>>;
  findMilestone(by: { livemode: boolean; idempotencyKey: string }): Promise<Milestone | undefined>;
  listMilestones(filter: { partnerId?: string; customerId?: string; programId?: string; name?: string; livemode?: boolean }): Promise<Milestone[]>;

  /**
   * Idempotent per sale, partner and kind for sale commissions, per customer and partner for
   * leads, per milestone and partner for event commissions, and on `onceKey` when given. A
   * commission belongs to its customer's program.
   */
  insertCommission(commission: NewCommission): Promise<Inserted<Commission>>;
  listCommissions(filter: { partnerId?: string; saleId?: string; customerId?: string; programId?: string }): Promise<Commission[]>;

  /**
   * Marks a Stripe event as processed. True for the first caller; false for a repeat. Call it in
   * the same transaction as the event's effects, so a rollback also forgets the event.
   */
  recordWebhookEvent(event: WebhookEventRecord): Promise<boolean>;
  hasWebhookEvent(id: string): Promise<boolean>;

  /** Parks an event; parking the same event again only updates what it waits for. */
  parkEvent(parked: { eventId: string; waitingFor: string; event: unknown }): Promise<void>;
  /**
   * Removes and returns the events waiting for `waitingFor` (all of them when omitted). Rows
   * another transaction is taking are skipped, so concurrent callers never get the same event.
   */
  takeParkedEvents(waitingFor?: string): Promise<ParkedEvent[]>;
  countParkedEvents(): Promise<number>;
  /** Ids of parked events tried fewer than `maxAttempts` times, oldest first. */
  listParkedEventIds(maxAttempts: number): Promise<string[]>;
  /** Removes and returns one parked event, unless another transaction is taking it. */
  takeParkedEvent(eventId: string): Promise<ParkedEvent | undefined>;
  /** Counts a failed retry of a parked event (or sets the count, for one parked again) and keeps why. */
  recordParkedFailure(eventId: string, error: string, attempts?: number): Promise<void>;
}

export interface Storage extends StorageOperations {
  /** Applies pending schema migrations. Idempotent; concurrent callers serialise on a database lock. */
  migrate(): Promise<MigrationReport>;
  /**
   * Runs `fn` in one database transaction: everything it wrote commits when it resolves and
   * nothing is kept when it throws (the error is rethrown).
   */
  transaction<T>(fn: (tx: StorageOperations) => Promise<T>): Promise<T>;
  /**
   * Erases the personal data of the customer known by your user id `externalId` (in one mode, or
   * in both without `livemode`), atomically: in one transaction, all or nothing, with the rows it
   * changes locked, so a concurrent webhook either runs before (and is erased) or after (and
   * finds the tombstone). Erased: the customer's email and name, their user id (replaced by the
   * tombstone `forgotten:<customer id>`), the same for customers of the same email and mode that
   * Stripe reported without a user id; the user agent, IP hash, landing URL, referrer and country of
   * the clicks that credited them or their sales; their email, name and user id inside parked events.
   * Kept: ids (the Stripe customer id included, so refunds and renewals still find the ledger),
   * sales, commissions, payouts and amounts, so reports do not change. A forgotten customer's email
   * is never filled in again by a later event. Returns the ids of the customers forgotten; none
   * when the user id is unknown (or already forgotten).
   */
  forgetCustomer(request: { externalId: string; livemode?: boolean }): Promise<string[]>;
  /** Releases connections (and the embedded database's lock). Only closes what it opened. */
  close(): Promise<void>;
}
