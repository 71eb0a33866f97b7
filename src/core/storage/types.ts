/**
 * The storage contract: the composition of one small store per domain (each file holds its record
 * types, its interface with the guarantees of each call, and its Kysely implementation), plus what
 * only a whole storage does (migrate, transactions, forgetting a customer, closing).
 */
import type { MigrationReport } from './migrations/migration.js';
import type { ApplicationStore } from './applications.js';
import type { AttributionEvidenceStore } from './attribution-evidence.js';
import type { ClickStore } from './clicks.js';
import type { CommissionStore } from './commissions.js';
import type { CustomerStore } from './customers.js';
import type { ForgetRequest } from './forget-customer.js';
import type { FraudStore } from './fraud.js';
import type { InvoicePaymentStore } from './invoice-payments.js';
import type { MilestoneStore } from './milestones.js';
import type { OutboxStore } from './outbox.js';
import type { PartnerProgramStore } from './partner-programs.js';
import type { PartnerStore } from './partners.js';
import type { PayoutStore } from './payouts.js';
import type { PayoutAccountStore } from './payout-accounts.js';
import type { PayoutTransferStore } from './payout-transfers.js';
import type { ReportStore } from './reports.js';
import type { SaleDisputeStore } from './sale-disputes.js';
import type { SaleRefundStore } from './sale-refunds.js';
import type { SaleStore } from './sales.js';
import type { SubscriptionStore } from './subscriptions.js';
import type { WebhookEventStore } from './webhook-events.js';

export { DEFAULT_PROGRAM_ID } from './programs.js';
export type { MigrationReport };
export type { Inserted } from './inserted.js';
export type { SaleKeys } from './sale-keys.js';
export type { Application, ApplicationDetails, ApplicationStatus } from './applications.js';
export type { AttributionEvidence, EvidenceClick, EvidenceCustomer, EvidenceRequest, PartnerTerms } from './attribution-evidence.js';
export type { Click, NewClick, VisitClick } from './clicks.js';
export type { Commission, CommissionKind, CommissionStatus, FraudFlag, NewCommission, ReviewState } from './commissions.js';
export type { AttributionSource, Customer, CustomerAttribution, CustomerLookup, NewCustomer } from './customers.js';
export type { ForgetRequest } from './forget-customer.js';
export type { FraudEvidence, FraudEvidenceRequest, ReviewDecision } from './fraud.js';
export type { Milestone, NewMilestone } from './milestones.js';
export type { NewOutboxEvent, OutboxEvent, OutboxStatus } from './outbox.js';
export type { PartnerGroupRecord, PartnerProgram } from './partner-programs.js';
export type { Link, NewPartner, Partner, PartnerCodes, PartnerStatus, PromotionCode } from './partners.js';
export type { PaidPayout, Payout } from './payouts.js';
export type { PayoutAccount } from './payout-accounts.js';
export type { PayoutTransferClaim } from './payout-transfers.js';
export type { CurrencyTotals, ReportInterval, ReportRequest, ReportRow } from './reports.js';
export type { NewSale, NewSaleLine, Sale, SaleLine } from './sales.js';
export type { SubscriptionState } from './subscriptions.js';
export type { ParkedEvent, WebhookEventRecord } from './webhook-events.js';

/**
 * The domain operations on stored attribution data. On `Storage` each call commits on its own;
 * inside `Storage.transaction` they all commit or roll back together.
 *
 * Concurrency promise: every idempotent write is decided by a unique key in the database, never by
 * a read before the write. Callers in any number of processes racing on the same key get exactly
 * one `created: true` (or `true`); the others wait for the winner's transaction to end and then see
 * its row — or, if the winner rolled back, one of them wins instead.
 */
export interface StorageOperations
  extends PartnerStore,
    PartnerProgramStore,
    ClickStore,
    CustomerStore,
    SaleStore,
    SaleRefundStore,
    SaleDisputeStore,
    InvoicePaymentStore,
    SubscriptionStore,
    CommissionStore,
    PayoutStore,
    PayoutTransferStore,
    PayoutAccountStore,
    ReportStore,
    MilestoneStore,
    WebhookEventStore,
    AttributionEvidenceStore,
    ApplicationStore,
    FraudStore,
    OutboxStore {}

export interface Storage extends StorageOperations {
  /** Applies pending schema migrations. Idempotent; concurrent callers serialise on a database lock. */
  migrate(): Promise<MigrationReport>;
  /**
   * The migrations `migrate()` would apply, without applying them (`doctor` reports them). Optional
   * for a custom Storage, whose schema the library does not manage.
   */
  pendingMigrations?(): Promise<string[]>;
  /**
   * Runs `fn` in one database transaction: everything it wrote commits when it resolves and
   * nothing is kept when it throws (the error is rethrown).
   */
  transaction<T>(fn: (tx: StorageOperations) => Promise<T>): Promise<T>;
  /**
   * Erases the personal data of the customer known by your user id `externalId`, by `email` (a
   * guest, a Payment Link buyer) or by `stripeCustomerId` (in one mode, or in both without
   * `livemode`), atomically: in one transaction, all or nothing, with the rows it
   * changes locked, so a concurrent webhook either runs before (and is erased) or after (and
   * finds the tombstone). Erased: the customer's email and name, their user id (replaced by the
   * tombstone `forgotten:<customer id>`), the same for customers of the same email and mode that
   * Stripe reported without a user id; the user agent, IP hash, landing URL, referrer and country of
   * the clicks that credited them or their sales; their email, name and user id inside parked events.
   * Kept: ids (the Stripe customer id included, so refunds and renewals still find the ledger),
   * sales, commissions, payouts and amounts, so reports do not change. A forgotten customer's email
   * is never filled in again by a later event. Returns the ids of the customers forgotten; none
   * when no customer is known by that identifier (or it was already forgotten).
   */
  forgetCustomer(request: ForgetRequest): Promise<string[]>;
  /** Releases connections (and the embedded database's lock). Only closes what it opened. */
  close(): Promise<void>;
}
