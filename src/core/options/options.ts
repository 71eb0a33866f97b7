/** The public option types, every field documented with its default; `resolve.ts` applies the defaults and the boot checks. */
import type Stripe from 'stripe';
import type { AttributionRequest } from '../clicks/request.js';
import type { DatabaseOption } from '../storage/database.js';
import type { Customer, Partner } from '../storage/types.js';
import type { EventReward, SaleReward, StoredRate } from '../commissions/rewards.js';
import type { PortalLinkOptions, ResolvedPortalOptions } from '../partners/portal-links.js';
import type { Logger } from '../kernel/logger.js';
import type { LegacyKeysOption, LegacySource } from './legacy-keys.js';
import type { FraudOptions, ResolvedFraud } from './fraud-options.js';
import type { OutboxOptions, ResolvedOutboxOptions } from '../transaction/outbox.js';
import type { OutgoingWebhookEndpoint } from '../transaction/signed-webhooks.js';

export interface ClickOptions {
  /** Query parameters that carry a partner's referral code. Default `['via', 'ref', 'aff']`. */
  params?: string[];
  /** Name of the first-party cookie holding the click id. Default `sa_click`. */
  cookieName?: string;
  /** Cookie domain, e.g. `.example.com` to share the click between the marketing site and the app. Default: none (host only). */
  cookieDomain?: string;
  /** How long a click can still attribute a customer, and the cookie's lifetime. Default 90 days. */
  lifetimeDays?: number;
  /**
   * Whether to believe `X-Forwarded-Proto` / `X-Forwarded-For` (set it behind your own load
   * balancer or Vercel, never when clients reach the server directly). Default `false`.
   */
  trustProxy?: boolean;
  /**
   * Asked before a click is stored or a cookie set, for consent-management setups. Without
   * consent the visit records nothing. Default: consent assumed.
   */
  consent?: (request: AttributionRequest) => boolean | Promise<boolean>;
  /**
   * Secret that salts the hash of visitors' IP addresses (the raw IP is never stored). Default:
   * `$STRIPE_ATTRIBUTION_IP_SALT`; required when `NODE_ENV=production`, otherwise a random salt per
   * process is used.
   */
  ipSalt?: string;
}

export interface ClickBatchOptions {
  /** Longest a click waits in the buffer before it is written. Default 1000 ms. */
  flushIntervalMs?: number;
  /** A buffer this full is written at once, without waiting for the interval. Default 500. */
  maxBatch?: number;
  /**
   * Clicks kept while the database is unreachable; beyond it new clicks are refused (reported to
   * `onError`, the visit goes on with its earlier cookie). Default 10 000.
   */
  maxBuffered?: number;
  /**
   * How long a referral code's link is remembered: a link disabled (or a partner banned) meanwhile
   * still records clicks for up to this long. Default 60 s.
   */
  linkCacheSeconds?: number;
}

export interface ProgramOptions {
  /**
   * The program's currency (lower-case ISO code): lead rewards are paid in it. Sale commissions are
   * in the sale's currency.
   */
  currency?: string;
  /** Days a commission stays `pending` after its sale before it can be approved. Default 30. */
  holdDays?: number;
  /** What a partner earns on a sale. Without it, sales are recorded but earn nothing. */
  reward?: SaleReward;
  /**
   * A flat amount per new customer, paid once when the customer is first attributed. With
   * `perTrialSeat: true`, a subscription created in `trialing` pays it for every seat (the
   * quantities of its items): the customer's own lead is the first seat, and each further seat is
   * a lead commission of its own, paid once per customer and seat number — so a customer's lead
   * rewards cover the seats of their largest trial, however often the event arrives. Default
   * `false`: one lead reward per customer.
   */
  leadReward?: { type: 'flat'; amount: number; perTrialSeat?: boolean };
  /**
   * Rewards for custom milestones, by the name given to `trackEvent` (e.g. `demo_booked`): flat
   * (in `currency`) or a percent of the event's `value`, for every event or `once` per customer.
   * Events without a reward are recorded and reported but earn nothing.
   */
  eventRewards?: Record<string, EventReward>;
}

/** One program of several (`programs`): its own id, currency, hold period and rewards. */
export interface ProgramDefinition extends ProgramOptions {
  /**
   * The program's id: what its referral codes, customers, sales, commissions and payouts are kept
   * under, and what `metadata.sa_program_id` names. 1–64 lower-case letters, digits, `-` or `_`.
   * Data recorded before several programs existed belongs to `'default'`.
   */
  id: string;
}

/** A program as the engine uses it: defaults applied, rewards validated. */
export interface ResolvedProgram {
  id: string;
  currency: string;
  holdDays: number;
  reward: SaleReward | null;
  leadReward: number | null;
  /** `leadReward.perTrialSeat`: a trial pays the lead reward once per seat. */
  leadRewardPerTrialSeat: boolean;
  eventRewards: Record<string, { rate: StoredRate; once: boolean }>;
}

export interface WebhookOptions {
  /**
   * Largest webhook body accepted, in bytes; a larger one answers 413 without being read further.
   * Stripe's events are a few kilobytes (an invoice with many lines tens of kilobytes). Default 1 MB
   * (1 048 576).
   */
  maxBodyBytes?: number;
}

export interface ConnectOptions {
  /**
   * Your Stripe account's country (ISO 3166-1 alpha-2, e.g. `US`), which decides where partners can
   * receive transfers. Default: read once from Stripe (`GET /v1/account`) through `stripe`.
   */
  country?: string;
}

export interface AttributionOptions {
  /**
   * Where attribution data lives: a Postgres URL, your own `Kysely` instance for Postgres, a
   * custom `Storage`, `memory://`, or a directory for embedded PGlite.
   * Default: embedded PGlite in `./.stripe-attribution`.
   */
  database?: DatabaseOption;
  /** Prefix of every table, index and constraint the library creates. Default `sa_`. */
  tablePrefix?: string;
  /** A Postgres schema of their own for the tables, created by `migrate()`. Default: none (search path). */
  schema?: string;
  /** Your Stripe webhook endpoint's signing secret (`whsec_…`), or several during a rotation. */
  webhookSecret?: string | string[];
  /** Your Stripe client. Used to verify webhooks and for the few API look-ups an event may need. */
  stripe?: Stripe;
  /**
   * Paying partners through Stripe Connect (`connect.onboard`, `payouts.pay`, `payouts.run`). Pass it
   * (`connect: {}` at least) with `stripe` to offer partners "Get paid with Stripe" in their portal.
   */
  connect?: ConnectOptions;
  /**
   * How long one Stripe API look-up made for a webhook may take before the event fails (answered
   * 5xx, so Stripe retries it later). Look-ups never run while a database transaction is open.
   * Default 10 000 ms.
   */
  stripeTimeoutMs?: number;
  /** Which click wins when a visitor followed several partner links before the lead. Default `last-click`. */
  attributionModel?: 'last-click' | 'first-click';
  /** Click capture and cookie settings. */
  clicks?: ClickOptions;
  /**
   * How a referral visit's click reaches the database. `sync` (default): the link is looked up and
   * the click inserted before the page is answered — two round trips, nothing lost.
   * `batched`: links come from a short-lived cache and clicks from a bounded buffer written in one
   * statement per flush (`clickBatch`), so the visit waits on nothing. The trade-off: a process
   * that dies without `close()` loses the clicks of its last flush interval; a lead or checkout
   * handled by *another* instance within that interval does not find its click (this instance
   * writes its buffer before any of its own lead, event, webhook or report reads).
   */
  clickWrites?: 'sync' | 'batched';
  /** Buffer and cache settings of `clickWrites: 'batched'`. */
  clickBatch?: ClickBatchOptions;
  /**
   * Whether leads, sales and milestones tracked from your own code are live-mode data (Stripe's own
   * events carry their mode). Default: `false` when `stripe` uses a test key (`sk_test_…`,
   * `rk_test_…`), so a person's lead lands in the mode of their test-mode purchases; else `true`.
   */
  livemode?: boolean;
  /**
   * Converts a commission into `program.currency` (integer minor units in `to`), for programs that
   * pay in one currency whatever the sale's. Called once per commission, at the sale's time; later
   * refunds scale the converted amount by the same rate. Without it, commissions are in the sale's
   * currency.
   */
  convert?: (input: { amount: number; from: string; to: string; at: Date }) => number | Promise<number>;
  /**
   * The partner program: rewards, hold period. Terms are locked per customer at their first sale.
   * The shorthand for one program, whose id is `'default'`.
   */
  program?: ProgramOptions;
  /**
   * Several programs side by side (affiliates and resellers on different terms), instead of
   * `program`. A partner may have codes in several; each click, lead and sale belongs to the
   * program of the code that brought the visitor (or the one `metadata.sa_program_id` names). The
   * first program takes purchases that show no program at all.
   */
  programs?: ProgramDefinition[];
  /**
   * Extra self-referral check besides "the buyer's email is the partner's": return true to void the
   * commission (and block the customer's later ones).
   */
  isSelfReferral?: (input: { partner: Partner; customer: Customer }) => boolean;
  /**
   * Fraud review: rules that flag a new sale commission, which is then created `held` with its
   * flags until you clear or void it (`commissions.review`, the dashboard, `review` in the CLI).
   * Every built-in rule is on by default; `rules.<name>: false` turns one off. See README.
   */
  fraud?: FraudOptions;
  /** "Now", for click expiry (and later approvals). Tests move it. Default `() => new Date()`. */
  clock?: () => Date;
  /**
   * Told about failures that must not break your pages (e.g. the database is down while a
   * visitor lands on a partner link: the page still renders). Default: `console.error`.
   */
  onError?: (error: unknown, during: string) => void;
  /**
   * Where the library logs: a pino-compatible logger (`error`/`warn`/`info`/`debug`, called as
   * `(obj, msg)`). Entries are redacted first: no webhook secret, API key or full email reaches
   * it. Default: the console (without debug).
   */
  logger?: Logger;
  /** Limits of the webhook route. */
  webhooks?: WebhookOptions;
  /** Signed, expiring partner portal links (`partners.portalUrl`). */
  portal?: PortalLinkOptions;
  /**
   * When a sale attributes a Stripe customer whose metadata lacks `sa_customer_key`, write your
   * user id there through `stripe` (`customers.update`), once per customer and after the ledger
   * committed, so its later subscriptions and invoices carry it. The write goes through the outbox,
   * outside the webhook's answer: the customer is read first (a customer whose metadata has the key
   * is left alone), each call limited by `stripeTimeoutMs`, and a failure is retried with backoff.
   * Needs `stripe`. Default `false`.
   */
  backfillCustomerMetadata?: boolean;
  /** Delivery of hook events from the transactional outbox (see `OutboxOptions`). */
  outbox?: OutboxOptions;
  /**
   * URLs that receive every hook event (or those listed in `events`) as a signed POST from the
   * outbox, for notifications living in another service; verify with `verifyOutgoingWebhook`.
   */
  outgoingWebhooks?: OutgoingWebhookEndpoint[];
  /**
   * For merchants moving from a hosted tool: also read the Stripe metadata keys that tool's
   * integration writes, so customers and subscriptions it tracked keep their attribution. `true`
   * reads every tool's keys; a list reads only those of `'dub'` (`dubCustomerExternalId`,
   * `dubCustomerId`, `dubClickId`, `client_reference_id` `dub_id_…`), `'rewardful'` (`referral`, a
   * UUID `client_reference_id`), `'affitor'` (`affitor_customer_key`, `affitor_click_id`) and
   * `'selgeo'` (`aff_click_id`, `client_reference_id`). They are read where our own keys are —
   * checkout sessions, customers, subscriptions, invoices (and their subscription's metadata) — but
   * not on bare payment intents, which without our `sa_via` marker cannot be told apart from a
   * Checkout's own payment. Our keys always win. A peer's user id finds customers you tracked or
   * imported with it; a peer's click id counts only if the clicks table holds a click with that id
   * (imported) and it was live; anything else is ignored, never an error. Default `false`.
   */
  legacyKeys?: LegacyKeysOption;
}

export interface ResolvedOptions {
  database: DatabaseOption | undefined;
  tablePrefix: string | undefined;
  schema: string | undefined;
  webhookSecrets: string[];
  stripe: Stripe | undefined;
  /** `enabled`: the merchant passed `connect` and a Stripe client, so partners are offered onboarding in their portal. */
  connect: ConnectOptions & { enabled: boolean };
  stripeTimeoutMs: number;
  attributionModel: 'last-click' | 'first-click';
  clicks: Required<Omit<ClickOptions, 'cookieDomain' | 'consent'>> & Pick<ClickOptions, 'cookieDomain' | 'consent'>;
  clickWrites: 'sync' | 'batched';
  clickBatch: Required<ClickBatchOptions>;
  livemode: boolean;
  clock: () => Date;
  onError: (error: unknown, during: string) => void;
  /** The logger, redacting. */
  logger: Logger;
  webhooks: Required<WebhookOptions>;
  portal: ResolvedPortalOptions;
  /** Every configured program by id, in the order given. */
  programs: ReadonlyMap<string, ResolvedProgram>;
  /** Where a purchase that shows no program lands: the first program (`'default'` for `program`). */
  defaultProgramId: string;
  isSelfReferral: ((input: { partner: Partner; customer: Customer }) => boolean) | undefined;
  fraud: ResolvedFraud;
  convert: AttributionOptions['convert'];
  backfillCustomerMetadata: boolean;
  outbox: ResolvedOutboxOptions;
  outgoingWebhooks: readonly OutgoingWebhookEndpoint[];
  /** The tools whose metadata keys are read besides ours; empty when `legacyKeys` is off. */
  legacyKeys: readonly LegacySource[];
  /** Settings production needs that are missing: reported when click capture is installed. */
  missingInProduction: Array<'ipSalt' | 'webhookSecret'>;
}
