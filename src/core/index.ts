export { attributionFromEnv, createAttribution, type Attribution, type ExplicitAttribution } from './attribution.js';
export type { AttributionOptions, ClickOptions, ConnectOptions, ProgramDefinition, ProgramOptions, ResolvedOptions, ResolvedProgram } from './options/options.js';
export type { LegacyKeysOption, LegacySource } from './options/legacy-keys.js';
export type { AttributionContext } from './clicks/context.js';
export type { AttributionEventName, AttributionEvents, HookEvent } from './transaction/hooks.js';
export type { DrainResult, OutboxOptions } from './transaction/outbox.js';
export { SIGNATURE_HEADER as OUTGOING_WEBHOOK_SIGNATURE_HEADER, verifyOutgoingWebhook, type OutgoingWebhookBody, type OutgoingWebhookEndpoint } from './transaction/signed-webhooks.js';
export type { Payouts } from './payouts/payouts.js';
export type { PayoutRunResult } from './payouts/transfers.js';
export type { Connect, OnboardRequest, PayoutMethod } from './partners/connect.js';
export type { Commissions } from './commissions/ledger.js';
export type { CommissionReview } from './fraud/review.js';
export type { FraudContext, FraudOptions, FraudRule, FraudRulesOptions } from './options/fraud-options.js';
export type { EventReward, RewardDuration, Rate, SaleReward } from './commissions/rewards.js';
export type { PortalLinkOptions } from './partners/portal-links.js';
export type { AttributionRequest } from './clicks/request.js';
export type { CaptureResult } from './clicks/capture.js';
export type { LeadResult, TrackLeadInput } from './leads/track-lead.js';
export type { TrackEventInput, TrackEventResult } from './milestones/track-event.js';
export type { CreatePartnerInput, InProgram, PartnerGroup, PartnerGroups, PartnerInProgram, Partners, PartnerWithCodes } from './partners/partners.js';
export type { ApplicationDecision, ApplicationInput, Applications, SubmitOptions } from './partners/applications.js';
export type { WebhookResponse } from './webhooks/handle-webhook.js';
export { LookupTimeoutError } from './transaction/lookups.js';
export type { ReconcileProgress, ReconcileRequest, ReconcileResult } from './webhooks/reconcile.js';
export {
  AttributionError,
  CommissionInPayoutError,
  ConfigurationError,
  ConflictError,
  InvalidValueError,
  EmbeddedDatabaseLockedError,
  MigrationError,
  MissingDependencyError,
  PayoutChangedError,
  RateLimitedError,
  PayoutTransferError,
  CrossBorderError,
} from './kernel/errors.js';
export type { Amount } from './kernel/money.js';
export type { DatabaseOption } from './storage/database.js';
export { createKyselyStorage, KyselyStorage, type KyselyStorageOptions } from './storage/kysely-storage.js';
export { migrationSql } from './storage/migrations/index.js';
export { resolveLayout, type TableLayout } from './storage/layout.js';
export { PGliteDialect } from './storage/pglite-dialect.js';
export type * from './storage/types.js';
export { DEFAULT_PROGRAM_ID } from './storage/types.js';
