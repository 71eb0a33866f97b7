import type { NextFunction, Request, Response } from 'express';
import { attributionFromEnv, type Attribution } from '../core/attribution.js';
import { assertClickCaptureConfigured, assertWebhookConfigured } from '../core/options/resolve.js';
import { fromNodeRequest } from '../core/clicks/request.js';
import { clickWithoutVisit } from '../core/clicks/capture.js';
import { createDashboard, type DashboardOptions } from '../dashboard/index.js';
import { serveDashboard } from '../dashboard/node.js';
import { DEFAULT_WEBHOOK_PATH, serveWebhook } from '../core/http/webhook.js';
import { fromWebResponse, toWebRequest } from '../core/http/node.js';

export interface ExpressAttributionOptions {
  /**
   * Where Stripe posts webhooks. Default `/webhooks/stripe`. `false` mounts no webhook route (an
   * app that only captures clicks), and then needs no webhook secret.
   */
  webhookPath?: string | false;
}

export type ExpressAttributionMiddleware = ((req: Request, res: Response, next: NextFunction) => void) & {
  /** The instance behind the middleware (built from the environment when none was given). */
  attribution: Attribution;
};

const MOUNT_FIX =
  'Mount attributionMiddleware() before express.json() / express.urlencoded(), or keep those parsers off the webhook path.';

/**
 * Express 4 and 5: click capture and the attribution context for every route, and the Stripe
 * webhook route reading the raw body itself.
 */
export function attributionMiddleware(
  attribution: Attribution = attributionFromEnv(),
  options: ExpressAttributionOptions = {},
): ExpressAttributionMiddleware {
  const webhookPath = options.webhookPath ?? DEFAULT_WEBHOOK_PATH;
  assertClickCaptureConfigured(attribution.options);
  if (webhookPath !== false) assertWebhookConfigured(attribution.options);
  const settings = attribution.options.clicks;

  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'POST' && req.path === webhookPath) {
      webhook(attribution, req)
        .then(fromWebResponse)
        .then(({ status, headers, body }) => void res.status(status).set(headers).send(body))
        .catch(next);
      return;
    }
    const known = clickWithoutVisit(settings, req.method, req.originalUrl, req.headers.cookie);
    if (known !== undefined) {
      attribution.runInContext({ clickId: known }, next);
      return;
    }
    attribution.captureClick(fromNodeRequest(req, req.originalUrl)).then(({ clickId, setCookie, programId }) => {
      if (setCookie) res.append('Set-Cookie', setCookie);
      attribution.runInContext({ clickId, programId }, next);
    }, next);
  };
  return Object.assign(middleware, { attribution });
}

function webhook(attribution: Attribution, req: Request): Promise<globalThis.Response> {
  // express.raw() / express.text() before us leave the exact bytes: use them.
  const kept = Buffer.isBuffer(req.body) || typeof req.body === 'string' ? (req.body as Buffer | string) : undefined;
  const parsed = kept === undefined && ((req as { _body?: boolean })._body === true || req.readableEnded);
  // A consumed stream has nothing left to pass on: the core answers with the fix instead.
  return serveWebhook(attribution, toWebRequest(req, req.originalUrl, parsed ? '' : kept), parsed ? MOUNT_FIX : undefined);
}

/**
 * The merchant dashboard and partner portal, server-rendered:
 * `app.use(attributionDashboard(attribution, { authorize: (req) => req.user?.isAdmin === true, basePath: '/admin/attribution' }))`.
 * Refuses to mount without `authorize`. Works with or without `express.urlencoded()` before it.
 */
export function attributionDashboard(
  attribution: Attribution,
  options: DashboardOptions<Request>,
): (req: Request, res: Response, next: NextFunction) => void {
  const dashboard = createDashboard(attribution, options);
  return (req, res, next) => {
    serveDashboard(dashboard, req, req.originalUrl, req.body, req).then((response) => {
      if (!response) return next();
      res.status(response.status).set(response.headers).send(response.body);
    }, next);
  };
}
