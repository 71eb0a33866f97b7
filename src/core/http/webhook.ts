import type { ResolvedOptions } from '../options.js';
import { webhookBodyTooLarge } from '../webhooks/handle-webhook.js';
import type { WebhookResponse } from '../webhooks/response.js';
import { BodyTooLargeError, readAtMost } from './body.js';

/** Where the adapters mount the Stripe webhook route unless told otherwise. */
export const DEFAULT_WEBHOOK_PATH = '/webhooks/stripe';

/** What the webhook endpoint needs of the instance: its options and the raw-body handler. */
export interface WebhookHandler {
  readonly options: ResolvedOptions;
  handleWebhook(rawBody: string | Uint8Array, signature: string | null | undefined): Promise<WebhookResponse>;
}

/**
 * The Stripe webhook endpoint as a Fetch handler: every check an adapter would otherwise repeat,
 * in this order — `POST` only (405), `application/json` only (415, Stripe posts nothing else), a
 * declared length over `webhooks.maxBodyBytes` refused unread (413), a body a framework's parser
 * already consumed (500 with `alreadyParsed`, the adapter's own words on how to mount it), then the
 * body read up to the limit (413 past it, declared length or not), verified and processed.
 *
 * `alreadyParsed` is for the Node adapters only: they alone can see that a body parser ran first.
 */
export async function serveWebhook(handler: WebhookHandler, request: Request, alreadyParsed?: string): Promise<Response> {
  const { options } = handler;
  if (request.method !== 'POST') {
    return Response.json({ error: 'Stripe webhooks are POST requests' }, { status: 405, headers: { allow: 'POST' } });
  }
  const refused = checkHead(options, request.headers);
  if (refused) return json(refused);
  if (alreadyParsed !== undefined) return json(bodyAlreadyParsed(alreadyParsed));
  let body: Uint8Array;
  try {
    // The exact bytes Stripe signed; decoding to text and back could alter them.
    body = await readAtMost(request, options.webhooks.maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return json(webhookBodyTooLarge(options));
    throw error;
  }
  return json(await handler.handleWebhook(body, request.headers.get('stripe-signature')));
}

function json({ status, body }: WebhookResponse): Response {
  return Response.json(body, { status });
}

/**
 * Checks a webhook request before its body is read: Stripe always posts `application/json`, so
 * any other type (or none) answers 415, and a declared length over `webhooks.maxBodyBytes` answers
 * 413 without reading a byte.
 */
function checkHead(options: ResolvedOptions, headers: Headers): WebhookResponse | null {
  const mediaType = (headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return {
      status: 415,
      body: { error: `Stripe webhooks are application/json; this request is ${mediaType ? `"${mediaType.slice(0, 100)}"` : 'without a Content-Type'}` },
    };
  }
  const declared = headers.get('content-length');
  if (declared !== null && declared !== '' && Number(declared) > options.webhooks.maxBodyBytes) return webhookBodyTooLarge(options);
  return null;
}

/**
 * The answer when a body parser consumed the webhook body before the adapter could read its raw
 * bytes. 500, not 400: the delivery is fine, the mounting is not, and Stripe should retry once it
 * is fixed. `fix` says how to mount the middleware in the framework at hand.
 */
function bodyAlreadyParsed(fix: string): WebhookResponse {
  return {
    status: 500,
    body: {
      error: `The Stripe webhook body was already parsed by another middleware, so its signature cannot be verified. ${fix}`,
    },
  };
}
