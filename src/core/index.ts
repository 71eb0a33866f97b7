export { attributionFromEnv, createAttribution, type Attribution, type ExplicitAttribution } from './attribution.js';
export type { AttributionOptions, ClickOptions, ProgramDefinition, ProgramOptions, ResolvedOptions, ResolvedProgram } from './options.js';
export type { LegacyKeysOption, LegacySource } from './webhooks/legacy-keys.js';
export type { AttributionContext } from './context.js';
export type { AttributionEventName, AttributionEvents } from './hooks.js';
export type { Payouts } from './commissions/payouts.js';
export type { Commissions } from './commissions/ledger.js';
export type { EventReward, RewardDuration, Rate, SaleReward } from './commissions/rewards.js';
export type { PortalLinkOptions } from './portal-links.js';
export type { AttributionRequest } from './request.js';
export type { CaptureResult } from './clicks/capture.js';
export type { LeadResult, TrackLeadInput } from './leads/track-lead.js';
export type { TrackEventInput, TrackEventResult } from './milestones.js';
export type { CreatePartnerInput, InProgram, PartnerGroup, PartnerGroups, PartnerInProgram, Partners, PartnerWithCodes } from './partners.js';
export type { WebhookResponse } from './webhooks/handle-webhook.js';
export { LookupTimeoutError } from './transaction/lookups.js';
export type { ReconcileProgress, ReconcileRequest, ReconcileResult } from './webhooks/reconcile.js';
export {
  AttributionError,
  ConfigurationError,
  ConflictError,
  InvalidValueError,
  EmbeddedDatabaseLockedError,
  MigrationError,
  MissingDependencyError,
} from './errors.js';
export type { Amount } from './money.js';
export type { DatabaseOption } from './storage/database.js';
export { createKyselyStorage, KyselyStorage, type KyselyStorageOptions } from './storage/kysely-storage.js';
export { migrationSql } from './storage/migrations/index.js';
export { resolveLayout, type TableLayout } from './storage/layout.js';
export { PGliteDialect } from './storage/pglite-dialect.js';
export type * from './storage/types.js';
export { DEFAULT_PROGRAM_ID } from './storage/types.js';
