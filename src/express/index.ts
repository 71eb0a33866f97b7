import type { NextFunction, Request, Response } from 'express';
import getRawBody from 'raw-body';
import { attributionFromEnv, type Attribution } from '../core/attribution.js';
import { assertClickCaptureConfigured, assertWebhookConfigured } from '../core/options.js';
import { fromNodeRequest } from '../core/request.js';
import { bodyAlreadyParsed, checkWebhookRequest, readLimitedBody, type WebhookResponse } from '../core/webhooks/handle-webhook.js';

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
  const webhookPath = options.webhookPath ?? '/webhooks/stripe';
  assertClickCaptureConfigured(attribution.options);
  if (webhookPath !== false) assertWebhookConfigured(attribution.options);

  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'POST' && req.path === webhookPath) {
      webhook(attribution, req)
        .then(({ status, body }) => void res.status(status).json(body))
        .catch(next);
      return;
    }
    attribution.captureClick(fromNodeRequest(req, req.originalUrl)).then(({ clickId, setCookie }) => {
      if (setCookie) res.append('Set-Cookie', setCookie);
      attribution.runInContext({ clickId }, next);
    }, next);
  };
  return Object.assign(middleware, { attribution });
}

async function webhook(attribution: Attribution, req: Request): Promise<WebhookResponse> {
  const signature = req.get('stripe-signature');
  const refused = checkWebhookRequest(attribution.options, { contentType: req.get('content-type'), contentLength: req.get('content-length') });
  if (refused) return refused;
  // express.raw() / express.text() before us leave the exact bytes: use them.
  if (Buffer.isBuffer(req.body) || typeof req.body === 'string') return attribution.handleWebhook(req.body, signature);
  if ((req as { _body?: boolean })._body || req.readableEnded) return bodyAlreadyParsed(MOUNT_FIX);
  const body = await readLimitedBody(attribution.options, () => getRawBody(req, { limit: attribution.options.webhooks.maxBodyBytes }));
  return 'response' in body ? body.response : attribution.handleWebhook(body.bytes, signature);
}
