import type { Context, Next } from 'koa';
import { attributionFromEnv, type Attribution } from '../core/attribution.js';
import { assertClickCaptureConfigured, assertWebhookConfigured } from '../core/options/resolve.js';
import { fromNodeRequest } from '../core/clicks/request.js';
import { clickWithoutVisit } from '../core/clicks/capture.js';
import { createDashboard, type DashboardOptions } from '../dashboard/index.js';
import { serveDashboard } from '../dashboard/node.js';
import { DEFAULT_WEBHOOK_PATH, serveWebhook } from '../core/http/webhook.js';
import { fromWebResponse, toWebRequest } from '../core/http/node.js';

export interface KoaAttributionOptions {
  /**
   * Where Stripe posts webhooks. Default `/webhooks/stripe`. `false` mounts no webhook route (an
   * app that only captures clicks), and then needs no webhook secret.
   */
  webhookPath?: string | false;
}

export type KoaAttributionMiddleware = ((ctx: Context, next: Next) => Promise<void>) & {
  /** The instance behind the middleware (built from the environment when none was given). */
  attribution: Attribution;
};

const MOUNT_FIX = 'Use attributionMiddleware() before your body parser (e.g. app.use(attributionMiddleware()) first).';

/** Koa: click capture and the attribution context for every request, and the Stripe webhook route. */
export function attributionMiddleware(
  attribution: Attribution = attributionFromEnv(),
  options: KoaAttributionOptions = {},
): KoaAttributionMiddleware {
  const webhookPath = options.webhookPath ?? DEFAULT_WEBHOOK_PATH;
  assertClickCaptureConfigured(attribution.options);
  if (webhookPath !== false) assertWebhookConfigured(attribution.options);

  const settings = attribution.options.clicks;

  // Not an async function: a page view without a referral returns the next middleware's promise as is.
  const middleware = (ctx: Context, next: Next): Promise<void> => {
    if (ctx.method === 'POST' && ctx.path === webhookPath) return answerWebhook(attribution, ctx);
    const known = clickWithoutVisit(settings, ctx.method, ctx.originalUrl, ctx.req.headers.cookie);
    if (known !== undefined) return attribution.runInContext({ clickId: known }, next);
    return captureThenNext(attribution, ctx, next);
  };
  return Object.assign(middleware, { attribution });
}

async function captureThenNext(attribution: Attribution, ctx: Context, next: Next): Promise<void> {
  const { clickId, setCookie, programId } = await attribution.captureClick(fromNodeRequest(ctx.req, ctx.originalUrl));
  if (setCookie) ctx.append('Set-Cookie', setCookie);
  await attribution.runInContext({ clickId, programId }, next);
}

async function answerWebhook(attribution: Attribution, ctx: Context): Promise<void> {
  const { status, headers, body } = await fromWebResponse(await webhook(attribution, ctx));
  ctx.status = status;
  ctx.set(headers);
  ctx.body = body;
}

function webhook(attribution: Attribution, ctx: Context): Promise<Response> {
  // koa-bodyparser and @koa/bodyparser keep the untouched text beside the parsed body.
  const rawBody = (ctx.request as { rawBody?: unknown }).rawBody;
  const kept = typeof rawBody === 'string' ? rawBody : undefined;
  const parsed = kept === undefined && ((ctx.request as { body?: unknown }).body !== undefined || ctx.req.readableEnded);
  // A consumed stream has nothing left to pass on: the core answers with the fix instead.
  return serveWebhook(attribution, toWebRequest(ctx.req, ctx.originalUrl, parsed ? '' : kept), parsed ? MOUNT_FIX : undefined);
}

/**
 * The merchant dashboard and partner portal, server-rendered:
 * `app.use(attributionDashboard(attribution, { authorize: (ctx) => ctx.state.user?.isAdmin === true, basePath: '/admin/attribution' }))`.
 * Refuses to mount without `authorize`.
 */
export function attributionDashboard(attribution: Attribution, options: DashboardOptions<Context>): (ctx: Context, next: Next) => Promise<void> {
  const dashboard = createDashboard(attribution, options);
  return async (ctx, next) => {
    const response = await serveDashboard(dashboard, ctx.req, ctx.originalUrl, (ctx.request as { body?: unknown }).body, ctx);
    if (!response) return next();
    ctx.status = response.status;
    ctx.set(response.headers);
    ctx.body = response.body;
  };
}
