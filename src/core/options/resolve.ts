/** Every default applied in one place (`resolveOptions`), and the checks an app fails at boot with (`assert…Configured`). */
import { randomBytes } from 'node:crypto';
import { ConfigurationError } from '../kernel/errors.js';
import { resolveLayout } from '../storage/layout.js';
import { DEFAULT_PROGRAM_ID } from '../storage/types.js';
import { rewardTerms, storedRate } from '../commissions/rewards.js';
import { resolvePortalOptions } from '../partners/portal-links.js';
import { consoleLogger, redactingLogger } from '../kernel/logger.js';
import { resolveLegacyKeys } from './legacy-keys.js';
import { stripeKeyMode } from '../stripe/key-mode.js';
import type { AttributionOptions, ProgramDefinition, ResolvedOptions, ResolvedProgram } from './options.js';
import { resolveFraud } from './fraud-options.js';
import type { OutboxOptions, ResolvedOutboxOptions } from '../transaction/outbox.js';
import type { OutgoingWebhookEndpoint } from '../transaction/signed-webhooks.js';

/**
 * What is wrong with click capture in production, if anything: without a stable IP salt the
 * hashes of visitors' IP addresses cannot be compared across restarts or instances.
 */
export function clickCaptureProblem(options: ResolvedOptions): ConfigurationError | undefined {
  if (!options.missingInProduction.includes('ipSalt')) return undefined;
  return new ConfigurationError(
    'Set clicks.ipSalt or STRIPE_ATTRIBUTION_IP_SALT to a long random secret: it salts the hashes of ' +
      "visitors' IP addresses, and without a stable one they cannot be compared across restarts or instances.",
  );
}

/**
 * What is wrong with a webhook route in production, if anything: without a signing secret every
 * delivery would be refused (Stripe retrying for days while sales go unrecorded).
 */
export function webhookProblem(options: ResolvedOptions): ConfigurationError | undefined {
  if (!options.missingInProduction.includes('webhookSecret')) return undefined;
  return new ConfigurationError(
    'Set webhookSecret or STRIPE_WEBHOOK_SECRET to your Stripe endpoint’s signing secret (whsec_…): without it ' +
      'no webhook can be verified. If this app only captures clicks, turn the webhook route off (webhookPath: false).',
  );
}

/**
 * Throws `clickCaptureProblem`. Called when a middleware is installed, so a server fails at boot
 * with the fix rather than on a visitor's request.
 */
export function assertClickCaptureConfigured(options: ResolvedOptions): void {
  const problem = clickCaptureProblem(options);
  if (problem) throw problem;
}

/**
 * Throws `webhookProblem` when a webhook route is mounted, so the server fails at boot. Outside
 * production the route answers 500 naming the setting, so an app that only captures clicks in
 * development still starts.
 */
export function assertWebhookConfigured(options: ResolvedOptions): void {
  const problem = webhookProblem(options);
  if (problem) throw problem;
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
    connect: { enabled: options.connect !== undefined && options.stripe !== undefined, ...(options.connect?.country ? { country: options.connect.country.toUpperCase() } : {}) },
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
    fraud: resolveFraud(options.fraud),
    convert: options.convert,
    backfillCustomerMetadata: options.backfillCustomerMetadata ?? false,
    outbox: resolveOutbox(options.outbox),
    outgoingWebhooks: resolveOutgoingWebhooks(options.outgoingWebhooks),
    legacyKeys: resolveLegacyKeys(options.legacyKeys),
    // A test key's leads must be test data like its sales, or one person becomes two customers.
    livemode: options.livemode ?? stripeKeyMode(options.stripe) !== 'test',
    clock: options.clock ?? (() => new Date()),
    onError,
    logger,
    webhooks: { maxBodyBytes },
    portal: resolvePortalOptions(options.portal, env),
  };
}

function resolveOutbox(given: OutboxOptions = {}): ResolvedOutboxOptions {
  const resolved = {
    worker: given.worker ?? true,
    pollMs: given.pollMs ?? 2_000,
    leaseMs: given.leaseMs ?? 60_000,
    maxAttempts: given.maxAttempts ?? 16,
    backoffMs: given.backoffMs ?? 5_000,
    maxBackoffMs: given.maxBackoffMs ?? 3_600_000,
    requestTimeoutMs: given.requestTimeoutMs ?? 10_000,
  };
  for (const key of ['pollMs', 'leaseMs', 'maxAttempts', 'backoffMs', 'maxBackoffMs', 'requestTimeoutMs'] as const) {
    if (!Number.isSafeInteger(resolved[key]) || resolved[key] <= 0) throw new ConfigurationError(`outbox.${key} must be a positive whole number`);
  }
  return resolved;
}

function resolveOutgoingWebhooks(given: OutgoingWebhookEndpoint[] = []): OutgoingWebhookEndpoint[] {
  return given.map((endpoint, index) => {
    let url: URL;
    try {
      url = new URL(endpoint.url);
    } catch {
      throw new ConfigurationError(`outgoingWebhooks[${index}].url is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigurationError(`outgoingWebhooks[${index}].url must be http(s)`);
    if (typeof endpoint.secret !== 'string' || endpoint.secret.length < 32) {
      throw new ConfigurationError(`outgoingWebhooks[${index}].secret must be at least 32 characters: it signs the events`);
    }
    return { ...endpoint };
  });
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
