import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import { ConfigurationError } from '../kernel/errors.js';
import { resolveLayout } from '../storage/layout.js';
import type { AttributionRequest } from '../clicks/request.js';
import type { DatabaseOption } from '../storage/database.js';
import { DEFAULT_PROGRAM_ID, type Customer, type Partner } from '../storage/types.js';
import { rewardTerms, storedRate, type EventReward, type SaleReward, type StoredRate } from '../commissions/rewards.js';
import { Hooks } from '../transaction/hooks.js';
import { resolvePortalOptions, type PortalLinkOptions, type ResolvedPortalOptions } from '../partners/portal-links.js';
import { consoleLogger, redactingLogger, type Logger } from '../kernel/logger.js';
import { resolveLegacyKeys, type LegacyKeysOption, type LegacySource } from './legacy-keys.js';

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
  /** Whether leads tracked from your own code are live-mode data. Default `true`. */
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
   * committed, so its later subscriptions and invoices carry it. A failed write is reported to
   * `onError` and not retried. Needs `stripe`. Default `false`.
   */
  backfillCustomerMetadata?: boolean;
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
  convert: AttributionOptions['convert'];
  backfillCustomerMetadata: boolean;
  /** The tools whose metadata keys are read besides ours; empty when `legacyKeys` is off. */
  legacyKeys: readonly LegacySource[];
  /** Hook registry: events delivered after their transaction commits. */
  hooks: Hooks;
  /** Settings production needs that are missing: reported when click capture is installed. */
  missingInProduction: Array<'ipSalt' | 'webhookSecret'>;
}

/**
 * Throws when click capture would run in production without a stable IP salt. Called when a
 * middleware is installed, so the app fails at boot with the fix rather than on a visitor's request.
 */
export function assertClickCaptureConfigured(options: ResolvedOptions): void {
  if (options.missingInProduction.includes('ipSalt')) {
    throw new ConfigurationError(
      'Set clicks.ipSalt or STRIPE_ATTRIBUTION_IP_SALT to a long random secret: it salts the hashes of ' +
        "visitors' IP addresses, and without a stable one they cannot be compared across restarts or instances.",
    );
  }
}

/**
 * Throws when a webhook route is mounted in production without a signing secret: every delivery
 * would be refused (Stripe retrying for days while sales go unrecorded), so the app fails at boot
 * instead. Outside production the route answers 500 naming the setting, so an app that only
 * captures clicks in development still starts.
 */
export function assertWebhookConfigured(options: ResolvedOptions): void {
  if (options.missingInProduction.includes('webhookSecret')) {
    throw new ConfigurationError(
      'Set webhookSecret or STRIPE_WEBHOOK_SECRET to your Stripe endpoint’s signing secret (whsec_…): without it ' +
        'no webhook can be verified. If this app only captures clicks, turn the webhook route off (webhookPath: false).',
    );
  }
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Every default, decided in one place. */
export function resolveOptions(options: AttributionOptions, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  // Checked here so a typo fails at boot, not at the first visitor (where capture only reports it).
  resolveLayout(options);
  const clicks = options.clicks ?? {};
  const ipSalt = clicks.ipSalt ?? env.STRIPE_ATTRIBUTION_IP_SALT;
  const cookieName = clicks.cookieName ?? 'sa_click';
  if (!COOKIE_NAME.test(cookieName)) throw new ConfigurationError(`clicks.cookieName "${cookieName}" is not a valid cookie name`);
  const lifetimeDays = clicks.lifetimeDays ?? 90;
  if (!(lifetimeDays > 0)) throw new ConfigurationError('clicks.lifetimeDays must be a positive number of days');
  const params = (clicks.params ?? ['via', 'ref', 'aff']).filter(Boolean);
  if (params.length === 0) throw new ConfigurationError('clicks.params needs at least one query parameter name');
  const clickWrites = options.clickWrites ?? 'sync';
  if (clickWrites !== 'sync' && clickWrites !== 'batched') throw new ConfigurationError(`clickWrites must be 'sync' or 'batched', got ${String(clickWrites)}`);
  const clickBatch = {
    flushIntervalMs: options.clickBatch?.flushIntervalMs ?? 1000,
    maxBatch: options.clickBatch?.maxBatch ?? 500,
    maxBuffered: options.clickBatch?.maxBuffered ?? 10_000,
    linkCacheSeconds: options.clickBatch?.linkCacheSeconds ?? 60,
  };
  for (const [name, value] of Object.entries(clickBatch)) {
    if (!(value > 0)) throw new ConfigurationError(`clickBatch.${name} must be a positive number`);
  }
  const programs = resolvePrograms(options);
  if (options.backfillCustomerMetadata && !options.stripe) throw new ConfigurationError('backfillCustomerMetadata needs stripe: your client writes the metadata');
  const withoutCurrency = [...programs.values()].find((program) => !program.currency);
  if (options.convert && withoutCurrency) {
    throw new ConfigurationError(`convert needs ${where(withoutCurrency.id, options)}.currency: the currency to convert commissions into`);
  }
  const logger = redactingLogger(options.logger ?? consoleLogger);
  const onError = options.onError ?? ((error: unknown, during: string) => logger.error({ err: error }, `${during} failed`));
  const stripeTimeoutMs = options.stripeTimeoutMs ?? 10_000;
  if (!(stripeTimeoutMs > 0)) throw new ConfigurationError('stripeTimeoutMs must be a positive number of milliseconds');
  const secrets = options.webhookSecret === undefined ? [] : [options.webhookSecret].flat().filter(Boolean);
  const maxBodyBytes = options.webhooks?.maxBodyBytes ?? 1_048_576;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) throw new ConfigurationError('webhooks.maxBodyBytes must be a positive whole number of bytes');
  const production = env.NODE_ENV === 'production';

  return {
    database: options.database,
    tablePrefix: options.tablePrefix,
    schema: options.schema,
    webhookSecrets: secrets,
    stripe: options.stripe,
    stripeTimeoutMs,
    attributionModel: options.attributionModel ?? 'last-click',
    clicks: {
      params,
      cookieName,
      cookieDomain: clicks.cookieDomain,
      lifetimeDays,
      trustProxy: clicks.trustProxy ?? false,
      consent: clicks.consent,
      ipSalt: ipSalt || randomBytes(32).toString('base64url'),
    },
    clickWrites,
    clickBatch,
    missingInProduction: production ? [...(ipSalt ? [] : ['ipSalt' as const]), ...(secrets.length ? [] : ['webhookSecret' as const])] : [],
    programs,
    defaultProgramId: programs.keys().next().value!,
    isSelfReferral: options.isSelfReferral,
    convert: options.convert,
    backfillCustomerMetadata: options.backfillCustomerMetadata ?? false,
    legacyKeys: resolveLegacyKeys(options.legacyKeys),
    livemode: options.livemode ?? true,
    clock: options.clock ?? (() => new Date()),
    onError,
    logger,
    webhooks: { maxBodyBytes },
    portal: resolvePortalOptions(options.portal, env),
    hooks: new Hooks(onError),
  };
}

const PROGRAM_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** How a program is named in error messages: the option the merchant wrote. */
function where(id: string, options: AttributionOptions): string {
  return options.programs ? `programs[${id}]` : 'program';
}

function resolvePrograms(options: AttributionOptions): Map<string, ResolvedProgram> {
  if (options.program && options.programs) {
    throw new ConfigurationError('Give either program (one program) or programs (several), not both: program is programs: [{ id: \'default\', … }]');
  }
  if (options.programs && options.programs.length === 0) throw new ConfigurationError('programs needs at least one program');
  const definitions: ProgramDefinition[] = options.programs ?? [{ ...options.program, id: DEFAULT_PROGRAM_ID }];
  const programs = new Map<string, ResolvedProgram>();
  for (const definition of definitions) {
    if (typeof definition.id !== 'string' || !PROGRAM_ID.test(definition.id)) {
      throw new ConfigurationError(`Program id ${JSON.stringify(definition.id)} must be 1–64 lower-case letters, digits, "-" or "_"`);
    }
    if (programs.has(definition.id)) throw new ConfigurationError(`Two programs have the id "${definition.id}"`);
    programs.set(definition.id, resolveProgram(definition, where(definition.id, options)));
  }
  return programs;
}

function resolveProgram(program: ProgramDefinition, at: string): ResolvedProgram {
  if (program.reward) rewardTerms(program.reward); // validates the configuration at once
  const holdDays = program.holdDays ?? 30;
  if (!(holdDays >= 0)) throw new ConfigurationError(`${at}.holdDays must be zero or more days`);
  const leadReward = program.leadReward?.amount ?? null;
  if (leadReward !== null && (!Number.isSafeInteger(leadReward) || leadReward < 0)) {
    throw new ConfigurationError(`${at}.leadReward.amount must be a non-negative integer of minor units`);
  }
  if (leadReward !== null && !program.currency) throw new ConfigurationError(`${at}.leadReward needs ${at}.currency to be paid in`);
  const eventRewards = Object.fromEntries(
    Object.entries(program.eventRewards ?? {}).map(([name, reward]) => {
      const rate = storedRate(reward, `${at}.eventRewards.${name}`);
      if ('flat' in rate && !program.currency) throw new ConfigurationError(`${at}.eventRewards.${name} is flat: it needs ${at}.currency to be paid in`);
      return [name, { rate, once: reward.once ?? false }];
    }),
  );
  return { id: program.id, currency: (program.currency ?? '').toLowerCase(), holdDays, reward: program.reward ?? null, leadReward, leadRewardPerTrialSeat: program.leadReward?.perTrialSeat ?? false, eventRewards };
}
