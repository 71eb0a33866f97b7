import type Stripe from 'stripe';
import type { Attribution } from '../core/attribution.js';
import { stripeKeyMode } from '../core/stripe/key-mode.js';
import { CONNECT_EVENT_TYPES, HANDLED_EVENT_TYPES } from '../core/webhooks/event-handlers.js';
import { explain } from './errors.js';
import type { OutboxStatus } from '../core/storage/types.js';

/** One line of `doctor`: `fail` makes it exit 1, `warn` is worth a look but works. */
export interface Check {
  status: 'ok' | 'warn' | 'fail';
  name: string;
  detail: string;
}

export interface DoctorContext {
  /** The config file the instance came from, if any. */
  configPath: string | undefined;
  /** `NODE_ENV` of the environment doctor runs in: the production checks only mean something there. */
  nodeEnv: string | undefined;
  /** Repeated in the hint of a database check ("run migrate with the same flags"). */
  databaseFlags: string;
}

/**
 * Checks what a merchant gets wrong when setting up, each on its own line. The checks that need the
 * database or Stripe say so and carry on when either is out of reach, so one run shows everything.
 */
export async function runDoctor(attribution: Attribution, context: DoctorContext): Promise<Check[]> {
  const { options } = attribution;
  const checks: Check[] = [
    context.configPath
      ? { status: 'ok', name: 'config', detail: context.configPath }
      : { status: 'warn', name: 'config', detail: 'none found: reconcile, payouts create and apply-parked refuse to run without your app’s configuration' },
  ];

  const database = await databaseChecks(attribution, context.databaseFlags);
  checks.push(...database);

  checks.push(
    options.webhookSecrets.length > 0
      ? { status: 'ok', name: 'webhook secret', detail: `${options.webhookSecrets.length} signing secret${options.webhookSecrets.length === 1 ? '' : 's'} set` }
      : { status: 'fail', name: 'webhook secret', detail: 'not set: no webhook can be verified. Set webhookSecret or STRIPE_WEBHOOK_SECRET (whsec_…)' },
  );
  if (context.nodeEnv !== 'production') {
    checks.push({ status: 'warn', name: 'ip salt', detail: 'NODE_ENV is not production: run doctor with your production environment to check the IP salt' });
  } else {
    checks.push(
      options.missingInProduction.includes('ipSalt')
        ? { status: 'fail', name: 'ip salt', detail: 'not set in production: set clicks.ipSalt or STRIPE_ATTRIBUTION_IP_SALT to a long random secret' }
        : { status: 'ok', name: 'ip salt', detail: 'set' },
    );
  }

  checks.push(keyModeCheck(options.stripe, options.livemode));
  checks.push(await endpointCheck(options.stripe));
  return checks;
}

async function databaseChecks(attribution: Attribution, databaseFlags: string): Promise<Check[]> {
  let pending: string[] | undefined;
  let parked: number;
  let outbox: OutboxStatus;
  let payouts: { live: number; test: number };
  try {
    const storage = await attribution.storage();
    pending = await storage.pendingMigrations?.();
    if (pending && pending.length > 0) {
      return [{ status: 'fail', name: 'database', detail: `reachable, ${pending.length} migration${pending.length === 1 ? '' : 's'} pending (${pending.join(', ')}): run npx stripe-attribution migrate${databaseFlags}` }];
    }
    parked = await storage.countParkedEvents();
    outbox = await attribution.outbox.status();
    const [live, test] = await Promise.all([
      attribution.payouts.list({ status: 'pending', livemode: true }),
      attribution.payouts.list({ status: 'pending', livemode: false }),
    ]);
    payouts = { live: live.length, test: test.length };
  } catch (error) {
    return [{ status: 'fail', name: 'database', detail: explain(error, databaseFlags).message.split('\n')[0]! }];
  }
  return [
    { status: pending ? 'ok' : 'warn', name: 'database', detail: pending ? 'reachable, migrations up to date' : 'reachable; a custom storage: its schema is yours to migrate' },
    parked === 0
      ? { status: 'ok', name: 'parked events', detail: 'none waiting' }
      : { status: 'warn', name: 'parked events', detail: `${parked} waiting for a counterpart: npx stripe-attribution apply-parked retries them` },
    outboxCheck(outbox),
    payouts.live + payouts.test === 0
      ? { status: 'ok', name: 'payouts', detail: 'none pending' }
      : { status: 'warn', name: 'payouts', detail: `${payouts.live} live and ${payouts.test} test pending: pay them, then npx stripe-attribution payouts mark-paid <id…>` },
  ];
}

/** Hook events (and the metadata write-back) that fail, were given up, or that no instance is delivering. */
function outboxCheck(status: OutboxStatus): Check {
  const name = 'hook events';
  const why = status.lastError ? ` Last error: ${status.lastError.slice(0, 200)}` : '';
  if (status.dead > 0) {
    return { status: 'fail', name, detail: `${status.dead} given up after every attempt, ${status.failing} failing: fix the cause, then npx stripe-attribution outbox retry.${why}` };
  }
  if (status.stuck > 0) {
    return { status: 'warn', name, detail: `${status.stuck} waiting for over 15 minutes: no instance is delivering them (is outbox.worker off everywhere? call attribution.outbox.drain())` };
  }
  if (status.failing > 0) return { status: 'warn', name, detail: `${status.failing} failing, retried with backoff (npx stripe-attribution outbox status).${why}` };
  return { status: 'ok', name, detail: status.pending === 0 ? 'all delivered' : `${status.pending} on their way` };
}

function keyModeCheck(stripe: Stripe | undefined, livemode: boolean): Check {
  const name = 'stripe mode';
  const configured = livemode ? 'live' : 'test';
  if (!stripe) return { status: 'warn', name, detail: `no Stripe client configured; your own leads and sales are recorded as ${configured} data` };
  const mode = stripeKeyMode(stripe);
  if (!mode) return { status: 'warn', name, detail: `cannot tell the mode of the Stripe client’s key; your own leads and sales are recorded as ${configured} data` };
  if (mode !== configured) {
    return {
      status: 'fail',
      name,
      detail: `the Stripe key is a ${mode} key but livemode is ${livemode}: leads would be ${configured} data and Stripe’s sales ${mode} data, one person two customers. Remove livemode or make it agree`,
    };
  }
  return { status: 'ok', name, detail: `${mode} key, ${configured} data` };
}

/** Stripe lists up to 16 endpoints per account; one page of 100 holds them all. */
async function endpointCheck(stripe: Stripe | undefined): Promise<Check> {
  const name = 'webhook endpoint';
  if (!stripe) return { status: 'warn', name, detail: 'no Stripe client configured (createAttribution({ stripe })): endpoint not checked' };
  let endpoints: Stripe.WebhookEndpoint[];
  try {
    endpoints = (await stripe.webhookEndpoints.list({ limit: 100 })).data;
  } catch (error) {
    return { status: 'fail', name, detail: `could not list your Stripe webhook endpoints: ${error instanceof Error ? error.message : String(error)}` };
  }
  const enabled = endpoints.filter((endpoint) => endpoint.status === 'enabled');
  if (enabled.length === 0) {
    return { status: 'fail', name, detail: 'no enabled webhook endpoint in this Stripe account (and mode): add one for your /webhooks/stripe route' };
  }
  const missingOf = (endpoint: Stripe.WebhookEndpoint) =>
    // Connect events come through the endpoint listening to connected accounts, when there is one.
    endpoint.enabled_events.includes('*') ? [] : HANDLED_EVENT_TYPES.filter((type) => !CONNECT_EVENT_TYPES.includes(type) && !endpoint.enabled_events.includes(type));
  const [best] = enabled.map((endpoint) => ({ endpoint, missing: missingOf(endpoint) })).sort((a, b) => a.missing.length - b.missing.length);
  if (best!.missing.length === 0) return { status: 'ok', name, detail: `${best!.endpoint.url} receives every event type the library handles` };
  return { status: 'fail', name, detail: `${best!.endpoint.url} does not receive ${best!.missing.join(', ')}: enable them on the endpoint` };
}
