import { captureClick, readClickCookie, type CaptureResult } from './clicks/capture.js';
import { currentContext, runInContext, type AttributionContext } from './context.js';
import { trackLead, type LeadResult, type TrackLeadInput } from './leads.js';
import { resolveOptions, type AttributionOptions, type ResolvedOptions } from './options.js';
import { createPartners, type Partners } from './partners.js';
import type { AttributionRequest } from './request.js';
import { openStorage } from './storage/database.js';
import type { MigrationReport, Storage } from './storage/types.js';
import { verifyWebhook, type WebhookResponse } from './webhooks/handle-webhook.js';

export interface Attribution {
  /** Applies the packaged schema migrations to the database. Idempotent and safe to run concurrently. */
  migrate(): Promise<MigrationReport>;
  /** The storage behind this instance, opened on first use. */
  storage(): Promise<Storage>;
  /** Closes what the library opened itself (its pool, the embedded database); yours stays open. */
  close(): Promise<void>;

  /** Partners and their referral codes. */
  readonly partners: Partners;
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
   * Verifies a Stripe webhook delivery (the raw body exactly as received, and the
   * `Stripe-Signature` header) and processes it. Adapters send back `status` and `body` as JSON.
   */
  handleWebhook(rawBody: string | Uint8Array, signature: string | null | undefined): Promise<WebhookResponse>;
}

/**
 * Creates the attribution instance. Nothing connects until the first call that needs the
 * database, so creating it at module load is cheap and never throws for a database that is down.
 */
export function createAttribution(options: AttributionOptions = {}): Attribution {
  const resolved = resolveOptions(options);
  let opened: Promise<Storage> | undefined;
  const storage = (): Promise<Storage> => {
    opened ??= openStorage(resolved).catch((error: unknown) => {
      opened = undefined;
      throw error;
    });
    return opened;
  };

  return {
    options: resolved,
    storage,
    migrate: async () => (await storage()).migrate(),
    close: async () => {
      if (!opened) return;
      const pending = opened;
      opened = undefined;
      await (await pending).close();
    },
    partners: createPartners(storage),
    captureClick: (request) => captureClick(resolved, storage, request),
    readClickCookie: (request) => readClickCookie(request, resolved.clicks.cookieName),
    runInContext,
    context: currentContext,
    trackLead: async (input) => trackLead(resolved, await storage(), input),
    handleWebhook: async (rawBody, signature) => {
      const verified = await verifyWebhook(resolved, rawBody, signature);
      if ('response' in verified) return verified.response;
      // Verified deliveries are refused until sale processing ships, so Stripe keeps retrying
      // them (for three days) instead of their being acknowledged and lost.
      return { status: 501, body: { error: `Processing Stripe events (${verified.event.type}) is not implemented yet` } };
    },
  };
}

/**
 * The instance `attributionMiddleware()` builds when given none: `DATABASE_URL` (else embedded
 * PGlite), `STRIPE_WEBHOOK_SECRET` (comma-separated during a rotation), and `STRIPE_SECRET_KEY`,
 * whose `sk_test_` / `rk_test_` prefix marks the data as test mode.
 */
export function attributionFromEnv(env: NodeJS.ProcessEnv = process.env): Attribution {
  const key = env.STRIPE_SECRET_KEY ?? '';
  return createAttribution({
    ...(env.DATABASE_URL ? { database: env.DATABASE_URL } : {}),
    ...(env.STRIPE_WEBHOOK_SECRET ? { webhookSecret: env.STRIPE_WEBHOOK_SECRET.split(',').map((s) => s.trim()) } : {}),
    livemode: !/^(sk|rk)_test_/.test(key),
  });
}
