import { captureClick, readClickCookie, type CaptureResult } from './clicks/capture.js';
import { createClickWriter } from './clicks/writer.js';
import { currentContext, runInContext, type AttributionContext } from './clicks/context.js';
import { trackLead, type LeadResult, type TrackLeadInput } from './leads/track-lead.js';
import { trackEvent, type TrackEventInput, type TrackEventResult } from './milestones/track-event.js';
import type { AttributionOptions, ResolvedOptions } from './options/options.js';
import { resolveOptions } from './options/resolve.js';
import { createPartners, type Partners } from './partners/partners.js';
import { createApplications, type Applications } from './partners/applications.js';
import type { AttributionRequest } from './clicks/request.js';
import { openStorage } from './storage/database.js';
import type { MigrationReport, Storage } from './storage/types.js';
import { isMalformedPayload, malformedEvent, verifyWebhook, type WebhookResponse } from './webhooks/handle-webhook.js';
import { applyParked, processEvent } from './webhooks/dispatch.js';
import { serveWebhook } from './http/webhook.js';
import { reconcile, type ReconcileRequest, type ReconcileResult } from './webhooks/reconcile.js';
import { trackSale, type TrackSaleInput } from './sales/track-sale.js';
import type { Customer, CustomerLookup, ReportInterval, ReportRow, Sale } from './storage/types.js';
import { Hooks, type AttributionEventName, type Handler } from './transaction/hooks.js';
import { OutboxWorker, type DrainResult } from './transaction/outbox.js';
import { CUSTOMER_KEY_WRITE_BACK, writeCustomerKey, type CustomerKeyWriteBack } from './stripe/customer-key-write-back.js';
import type { OutboxEvent, OutboxStatus } from './storage/types.js';
import { transactionRunner } from './transaction/run.js';
import { createCommissions, type Commissions } from './commissions/ledger.js';
import { createPayouts, type Payouts } from './payouts/payouts.js';
import { createConnect, type Connect } from './partners/connect.js';
import { AttributionError, ConfigurationError } from './kernel/errors.js';
import { isValidClientReferenceId } from './stripe/enrich.js';
import { wrapStripe } from './stripe/wrap-stripe.js';
import { configuredProgram } from './programs/programs.js';
import type Stripe from 'stripe';

export interface Attribution {
  /** Applies the packaged schema migrations to the database. Idempotent and safe to run concurrently. */
  migrate(): Promise<MigrationReport>;
  /** The storage behind this instance, opened on first use. */
  storage(): Promise<Storage>;
  /**
   * Writes the clicks buffered by `clickWrites: 'batched'` now (a no-op otherwise). `close()` does it
   * too; call it yourself before a shutdown that skips `close()`.
   */
  flushClicks(): Promise<void>;
  /** Writes buffered clicks, then closes what the library opened itself (its pool, the embedded database); yours stays open. */
  close(): Promise<void>;

  /** Partners and their referral codes. */
  readonly partners: Partners;
  /** Partner applications: submitted through the dashboard's public `/apply` page or your own form, approved or rejected by you. */
  readonly applications: Applications;
  /** The options in force, defaults applied. */
  readonly options: ResolvedOptions;

  /**
   * Records a click when the request is a visit through a partner link and returns the cookie to
   * set; otherwise reads the visitor's click from the cookie without touching the database.
   * Adapters call it for every request.
   */
  captureClick(request: AttributionRequest): Promise<CaptureResult>;
  /** The visitor's click id from the request's cookie (well-formed ids only), without recording anything. */
  readClickCookie(request: AttributionRequest): string | null;
  /** Runs `fn` (the rest of a request) with `context` as the current attribution context. */
  runInContext<T>(context: AttributionContext, fn: () => T): T;
  /** The current request's attribution context, inside the middleware. */
  context(): AttributionContext | undefined;

  /** Records a signup and credits the visitor's partner once (see `TrackLeadInput`). */
  trackLead(input: TrackLeadInput): Promise<LeadResult>;
  /**
   * Records a custom milestone of a customer (`demo_booked`, `trial_activated`), attributed like a
   * sale and rewarded by `program.eventRewards`; idempotent on `idempotencyKey`. Inside a request
   * the visitor's click counts; from a job, only the customer's partner.
   */
  trackEvent(name: string, input: TrackEventInput): Promise<TrackEventResult>;

  /**
   * Your Stripe client, same type and same instance underneath, whose `checkout.sessions.create`,
   * `customers.create`, `subscriptions.create` and `paymentIntents.create` carry the attribution of
   * the current request — or of `explicit`, for code outside a request (jobs, queues). Your own
   * values are never overwritten; everything else passes through untouched.
   */
  wrapStripe<T extends Stripe>(stripe: T, explicit?: ExplicitAttribution): T;
  /**
   * A Stripe Payment Link URL with `client_reference_id` set to the visitor's click (the current
   * request's, or `clickId`); unchanged when there is none.
   */
  paymentLinkUrl(url: string, clickId?: string | null): string;
  /** Attributes for `<stripe-pricing-table>`: `{ 'client-reference-id': clickId }`, or `{}` without a click. */
  pricingTableAttributes(clickId?: string | null): { 'client-reference-id'?: string };

  /**
   * Verifies a Stripe webhook delivery (the raw body exactly as received, and the
   * `Stripe-Signature` header) and processes it. Adapters send back `status` and `body` as JSON.
   */
  handleWebhook(rawBody: string | Uint8Array, signature: string | null | undefined): Promise<WebhookResponse>;
  /**
   * The Stripe webhook endpoint as a Fetch handler (standard `Request` → `Response`), whatever path
   * it is mounted at: `export const POST = attribution.fetch` in a Next.js route, or any runtime that
   * speaks Fetch. It refuses what Stripe never sends before reading it — another method (405), a
   * body other than `application/json` (415), more than `webhooks.maxBodyBytes` (413, declared or
   * read) — then verifies and processes the raw bytes as `handleWebhook` does, answering its status
   * and JSON body. The framework adapters serve their webhook route through it.
   */
  fetch(request: Request): Promise<Response>;
  /**
   * Processes a Stripe event you already verified in your own webhook route, with the same
   * guarantees. Throws when it could not be recorded (answer 5xx so Stripe retries).
   */
  handleEvent(event: Stripe.Event): Promise<WebhookResponse>;
  /** Retries events parked until their counterpart arrived (run it from a cron; safe in several instances). */
  applyParked(): Promise<{ retried: number; stillParked: number }>;
  /**
   * Re-reads Stripe's event list (30 days at most: an older `since` is clamped) through the `stripe`
   * client and applies, oldest first, what the webhook missed, exactly once; then `applyParked()`.
   * Failed events are reported to `onError` and counted, never thrown.
   */
  reconcile(request: ReconcileRequest): Promise<ReconcileResult>;
  /** Records a sale billed outside Stripe; `invoiceId` is its idempotency key. */
  trackSale(input: TrackSaleInput): Promise<{ sale: Sale; duplicate: boolean }>;
  /** The commission ledger and its lifecycle: pending → approved → paid; held; voided. */
  readonly commissions: Commissions;
  /** Payouts of approved commissions, per partner and currency: exported as CSV, or paid by Stripe transfer. */
  readonly payouts: Payouts;
  /** Partners' Stripe connected accounts, which `payouts.pay` and `payouts.run` transfer to. */
  readonly connect: Connect;
  /**
   * Per partner and period (UTC): clicks, leads, milestone events by name, sales, revenue and refunds (untaxed), and
   * commissions by status, per currency, never added across currencies. Live data unless
   * `livemode: false`. Every program's unless `programId`. Default interval `month`.
   */
  report(request: { from: Date; to: Date; interval?: ReportInterval; partnerId?: string; programId?: string; livemode?: boolean }): Promise<ReportRow[]>;
  /**
   * Subscribes to ledger events (`lead.created`, `sale.created`, `commission.*`, `payout.*`,
   * `partner.*`). Each
   * event is written to the outbox in the transaction of its ledger change and delivered after
   * commit, outside the request, at least once and in order per customer: dedupe on `event.id`.
   * A handler that throws is reported to `onError` and the event retried with backoff (every
   * handler of it again). Returns an unsubscribe.
   */
  on<K extends AttributionEventName>(name: K, handler: Handler<K>): () => void;
  /** The transactional outbox behind `on()`, outgoing webhooks and the metadata write-back. */
  readonly outbox: {
    /** Delivers every event due now, here, until none is left: for tests, scripts and serverless functions. */
    drain(): Promise<DrainResult>;
    /** Makes failed and given-up events (these ids, or all) due again now, attempts reset. Returns how many. */
    retry(ids?: readonly string[]): Promise<number>;
    /** Counts of pending, failing, given-up and stuck events, and the latest error. */
    status(): Promise<OutboxStatus>;
    /** Undelivered events that failed at least once, oldest first. */
    failed(limit?: number): Promise<OutboxEvent[]>;
  };
  /** The sales ledger: live-mode sales unless `livemode: false` (Stripe test mode), oldest first. */
  readonly sales: { list(filter?: { partnerId?: string; customerId?: string; programId?: string; livemode?: boolean }): Promise<Sale[]> };
  /**
   * Customers by your id, Stripe's id, or email. A person is a customer in each program they came
   * through: without `programId`, the record they were attributed in first (else the oldest).
   */
  readonly customers: {
    get(by: CustomerLookup): Promise<Customer | undefined>;
    /**
     * Erases the personal data of a customer (both modes unless `livemode` is given) and keeps the
     * money ledger as it was: see `Storage.forgetCustomer` for what goes and what stays. `who` is
     * your user id, or `{ email }` / `{ stripeCustomerId }` for buyers you never gave an id (guests,
     * Payment Link buyers). False when no such customer is known.
     */
    forget(who: string | { externalId: string } | { email: string } | { stripeCustomerId: string }, options?: { livemode?: boolean }): Promise<boolean>;
  };
}

/**
 * Creates the attribution instance. Nothing connects until the first call that needs the
 * database, so creating it at module load is cheap and never throws for a database that is down.
 */
export function createAttribution(options: AttributionOptions = {}): Attribution {
  const resolved = resolveOptions(options);
  // The options are plain data; the runtime objects are the instance's, handed down from here.
  const hooks: Hooks = new Hooks(resolved.clock, (name: string): boolean => worker.wants(name), (): void => worker.kick());
  const transactions = transactionRunner(hooks, resolved.stripeTimeoutMs);
  let opened: Promise<Storage> | undefined;
  const storage = (): Promise<Storage> => {
    opened ??= openStorage(resolved).then(
      (storage) => {
        // Delivery starts once the database is open, never at module load.
        worker.start();
        return storage;
      },
      (error: unknown) => {
        opened = undefined;
        throw error;
      },
    );
    return opened;
  };
  const stripe = resolved.stripe;
  const internal = new Map<string, (payload: unknown) => Promise<void>>();
  if (resolved.backfillCustomerMetadata && stripe) {
    internal.set(CUSTOMER_KEY_WRITE_BACK, (payload) => writeCustomerKey(stripe, payload as CustomerKeyWriteBack, resolved.stripeTimeoutMs));
  }
  const worker: OutboxWorker = new OutboxWorker(storage, hooks, {
    options: resolved.outbox,
    endpoints: resolved.outgoingWebhooks,
    internal,
    clock: resolved.clock,
    onError: resolved.onError,
  });

  const clicks = createClickWriter(resolved, storage);
  // Whatever reads the ledger first writes this process's buffered clicks, so it finds them.
  const ledger = async (): Promise<Storage> => {
    await clicks.flush();
    return storage();
  };

  const instance: Attribution = {
    options: resolved,
    storage: ledger,
    migrate: async () => (await storage()).migrate(),
    flushClicks: () => clicks.flush(),
    close: async () => {
      await clicks.flush();
      await worker.stop();
      if (!opened) return;
      const pending = opened;
      opened = undefined;
      await (await pending).close();
    },
    partners: createPartners(ledger, resolved, transactions),
    applications: createApplications(ledger, resolved, transactions),
    captureClick: (request) => captureClick(resolved, clicks, request),
    readClickCookie: (request) => readClickCookie(request, resolved.clicks.cookieName),
    runInContext,
    context: currentContext,
    trackLead: async (input) => trackLead(resolved, transactions, await ledger(), input),
    trackEvent: async (name, input) => trackEvent(resolved, transactions, await ledger(), name, input),
    wrapStripe: (stripe, explicit = {}) => {
      if (explicit.programId) configuredProgram(resolved, explicit.programId);
      // With one program, the program says nothing a click does not: the metadata stays as it was.
      const namesPrograms = resolved.programs.size > 1;
      return wrapStripe(stripe, () => {
        const context = currentContext();
        const programId = explicit.programId !== undefined ? explicit.programId : (context?.programId ?? null);
        return {
          clickId: explicit.clickId !== undefined ? explicit.clickId : (context?.clickId ?? null),
          customerKey: explicit.customerKey !== undefined ? explicit.customerKey : (context?.customerKey ?? null),
          programId: namesPrograms ? programId : null,
        };
      });
    },
    paymentLinkUrl: (url, clickId) => {
      const id = clientReferenceId(clickId);
      if (!id) return url;
      const link = new URL(url);
      link.searchParams.set('client_reference_id', id);
      return link.href;
    },
    pricingTableAttributes: (clickId) => {
      const id = clientReferenceId(clickId);
      return id ? { 'client-reference-id': id } : {};
    },
    handleWebhook: async (rawBody, signature) => {
      const verified = await verifyWebhook(resolved, rawBody, signature);
      if ('response' in verified) return verified.response;
      const malformed = malformedEvent(verified.event);
      if (malformed) return { status: 400, body: { error: `Malformed Stripe event: ${malformed}` } };
      try {
        return await processEvent(await ledger(), resolved, transactions, verified.event);
      } catch (error) {
        // Nothing was kept (one transaction). A payload no Stripe object could be is refused; any
        // other failure is ours and answers 5xx, so Stripe delivers it again.
        resolved.onError(error, `processing Stripe event ${verified.event.id}`);
        if (isMalformedPayload(error)) {
          return { status: 400, body: { error: `Malformed Stripe event: ${(error as Error).message}` } };
        }
        return { status: 500, body: { error: 'The event could not be processed; Stripe will retry it' } };
      }
    },
    fetch: (request) => serveWebhook(instance, request),
    handleEvent: async (event) => processEvent(await ledger(), resolved, transactions, event),
    applyParked: async () => applyParked(await ledger(), resolved, transactions),
    reconcile: async (request) => reconcile(await ledger(), resolved, transactions, request),
    trackSale: async (input) => {
      if (input.programId !== undefined) configuredProgram(resolved, input.programId);
      return trackSale(resolved, transactions, await ledger(), input);
    },
    // Like report(): test-mode data never mixes into live figures unless asked for.
    sales: { list: async ({ livemode = true, ...filter } = {}) => (await ledger()).listSales({ livemode, ...filter }) },
    commissions: createCommissions(ledger, resolved, transactions),
    on: (name, handler) => hooks.on(name, handler),
    outbox: {
      drain: async () => {
        await clicks.flush();
        return worker.drain();
      },
      retry: async (ids) => {
        const retried = await (await ledger()).retryOutboxEvents({ ...(ids ? { ids } : {}), now: resolved.clock() });
        if (retried > 0) worker.kick();
        return retried;
      },
      status: () => worker.status(),
      failed: async (limit = 100) => (await ledger()).listFailedOutboxEvents(limit),
    },
    report: async ({ interval = 'month', livemode = true, ...rest }) => (await ledger()).report({ interval, livemode, ...rest }),
    payouts: createPayouts(ledger, resolved, transactions),
    connect: createConnect(ledger, resolved),
    customers: {
      get: async (by) => (await ledger()).findCustomer(by),
      forget: async (who, { livemode } = {}) =>
        (await (await ledger()).forgetCustomer({ ...(typeof who === 'string' ? { externalId: who } : who), ...(livemode === undefined ? {} : { livemode }) })).length > 0,
    },
  };
  return instance;
}

/** Attribution given explicitly to `wrapStripe`, instead of the request's. */
export interface ExplicitAttribution {
  clickId?: string | null;
  /** Your id for the user (`sa_customer_key`). */
  customerKey?: string | null;
  /**
   * The program the objects belong to (`sa_program_id`), e.g. on your resellers' checkout page.
   * Default: the program of the click this request captured, when there are several programs.
   */
  programId?: string | null;
}

/** The click to put in `client_reference_id`: the given one, else the request's. */
function clientReferenceId(clickId: string | null | undefined): string | null {
  const id = clickId === undefined ? (currentContext()?.clickId ?? null) : clickId;
  if (id !== null && !isValidClientReferenceId(id)) {
    // Stripe drops an invalid client_reference_id without a word; refuse it loudly instead.
    throw new AttributionError(`"${id}" cannot be a Stripe client_reference_id (letters, digits, "-" and "_", at most 200)`);
  }
  return id;
}

/**
 * The instance `attributionMiddleware()` builds when given none: `DATABASE_URL` (else embedded
 * PGlite), `STRIPE_WEBHOOK_SECRET` (comma-separated during a rotation), and `STRIPE_SECRET_KEY`,
 * whose `sk_test_` / `rk_test_` prefix marks the data as test mode.
 */
export function attributionFromEnv(env: NodeJS.ProcessEnv = process.env): Attribution {
  const key = env.STRIPE_SECRET_KEY ?? '';
  // One instance per process and settings, however many adapters (or bundles) ask for it.
  const cacheKey = JSON.stringify([env.DATABASE_URL, env.STRIPE_WEBHOOK_SECRET, key, env.STRIPE_ATTRIBUTION_IP_SALT, env.NODE_ENV]);
  const instances = ((globalThis as Record<symbol, unknown>)[Symbol.for('stripe-attribution.fromEnv')] ??= new Map()) as Map<string, Attribution>;
  const existing = instances.get(cacheKey);
  if (existing) return existing;
  if (!env.DATABASE_URL && env.NODE_ENV === 'production') {
    // Each instance would quietly keep its own embedded database: almost surely a missing variable.
    throw new ConfigurationError(
      'DATABASE_URL is not set. In production every app instance must share one Postgres; to use the embedded ' +
        "database on purpose, create the instance yourself: createAttribution({ database: './.stripe-attribution' }).",
    );
  }
  const created = createAttribution({
    ...(env.DATABASE_URL ? { database: env.DATABASE_URL } : {}),
    ...(env.STRIPE_WEBHOOK_SECRET ? { webhookSecret: env.STRIPE_WEBHOOK_SECRET.split(',').map((s) => s.trim()) } : {}),
    livemode: !/^(sk|rk)_test_/.test(key),
  });
  instances.set(cacheKey, created);
  return created;
}
