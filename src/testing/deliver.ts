import { DEFAULT_WEBHOOK_PATH } from '../core/http/webhook.js';
import { createServer, Server, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { importOptional } from '../core/optional-dependency.js';

/**
 * Where `deliver` posts:
 * - a URL (string or `URL`) of a running app: used as is when it has a path, else `path` is appended;
 * - an `http.Server` (listening or not: an idle one is started on a free port for the delivery);
 * - a Node request listener, such as an Express app or `koaApp.callback()`;
 * - a Koa app (anything with `callback()`), or a Fastify instance (anything with `ready()` and `server`);
 * - a Fetch handler `(request: Request) => Response`, such as a Next.js route's `POST`.
 */
export type DeliveryTarget =
  | string
  | URL
  | Server
  | RequestListener
  | { callback(): RequestListener }
  | { ready(): PromiseLike<unknown>; server: Server }
  | ((request: Request) => Response | Promise<Response>);

export interface DeliverOptions {
  /** The endpoint's signing secret (`whsec_…`), the one your app verifies with. */
  secret: string;
  /** The webhook route, for targets without one. Default `/webhooks/stripe`. */
  path?: string;
  /** Signing time in seconds. Default now; an old one tests the replay tolerance. */
  timestamp?: number;
  /** Sends this `Stripe-Signature` header instead of a valid one (to test a refusal). */
  signature?: string;
  /** Further request headers. */
  headers?: Record<string, string>;
}

export interface Delivery {
  status: number;
  /** The parsed JSON body, else the text. */
  body: any;
  headers: Headers;
}

/**
 * Signs `event` as Stripe does (the SDK's own `generateTestHeaderString`) and POSTs it to
 * `target`, the way Stripe's servers deliver a webhook: the exact bytes that were signed, with
 * `Content-Type: application/json; charset=utf-8`. A string `event` is sent byte for byte.
 */
export async function deliver(target: DeliveryTarget, event: Stripe.Event | string, options: DeliverOptions): Promise<Delivery> {
  if (!options?.secret) throw new TypeError('deliver() needs { secret }: the webhook signing secret your app verifies with');
  const payload = typeof event === 'string' ? event : JSON.stringify(event, null, 2);
  const signature = options.signature ?? (await sign(payload, options.secret, options.timestamp));
  const init: RequestInit = {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)', 'stripe-signature': signature, ...options.headers },
    body: payload,
  };
  const path = options.path ?? DEFAULT_WEBHOOK_PATH;
  if (typeof target === 'string' || target instanceof URL) return read(await fetch(webhookUrl(target, path), init));
  if (target instanceof Server) return viaServer(target, path, init);
  if (typeof target === 'function') {
    // An Express app takes (req, res, next), a Koa callback (req, res); a Fetch handler takes one Request.
    if (target.length >= 2) return viaServer(createServer(target as RequestListener), path, init);
    return read(await (target as (request: Request) => Response | Promise<Response>)(new Request(new URL(path, 'http://localhost'), init)));
  }
  if ('callback' in target) return viaServer(createServer(target.callback()), path, init);
  await target.ready();
  return viaServer(target.server, path, init);
}

async function sign(payload: string, secret: string, timestamp: number | undefined): Promise<string> {
  const { default: Stripe } = await importOptional('stripe', 'Signing test webhooks', () => import('stripe'));
  const signer = new Stripe('sk_test_stripe_attribution_testing');
  return signer.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp === undefined ? {} : { timestamp }) });
}

function webhookUrl(target: string | URL, path: string): URL {
  const url = new URL(target);
  return url.pathname === '/' ? new URL(path, url) : url;
}

async function viaServer(server: Server, path: string, init: RequestInit): Promise<Delivery> {
  const started = !server.listening;
  if (started) await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  try {
    const { port } = server.address() as AddressInfo;
    return await read(await fetch(`http://127.0.0.1:${port}${path}`, init));
  } finally {
    if (started) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function read(response: Response): Promise<Delivery> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the text is the body.
  }
  return { status: response.status, body, headers: response.headers };
}
