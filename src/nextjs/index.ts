import { NextResponse, type NextRequest } from 'next/server.js';
import { attributionFromEnv, type Attribution } from '../core/attribution.js';
import { assertClickCaptureConfigured, assertWebhookConfigured } from '../core/options.js';
import type { AttributionRequest } from '../core/request.js';
import { createDashboard, type DashboardOptions } from '../dashboard/index.js';

/**
 * Next.js App Router, Node runtime. Wire it in three files:
 *
 * - `proxy.ts` (Next 16): `export const proxy = attributionMiddleware(attribution)` records referral
 *   visits and sets the cookie. On Next 14/15, whose `middleware.ts` runs on the Edge, use
 *   `stripe-attribution/nextjs/edge` there and `clickCaptureRoute` below.
 * - `app/api/webhooks/stripe/route.ts`: `export const POST = webhookRoute(attribution)`.
 * - route handlers that track leads: `export const POST = withAttribution(handler, attribution)`.
 */
export type { AttributionRequest };

type RouteHandler<C> = (request: Request, context: C) => Response | Promise<Response>;

function fromWebRequest(request: Request, url = request.url): AttributionRequest {
  // Next passes no socket: its server records the peer as the last X-Forwarded-For hop.
  const peer = request.headers.get('x-forwarded-for')?.split(',').pop()?.trim();
  return { method: request.method, url, headers: request.headers, remoteAddress: peer };
}

function withCookie(response: Response, setCookie: string | undefined): Response {
  if (setCookie) response.headers.append('set-cookie', setCookie);
  return response;
}

/**
 * Next 16 `proxy.ts` (Node runtime): records the click of a referral visit and sets the cookie.
 * The request continues with the new click in its `Cookie` header, so the page or route handler
 * it reaches already sees it. Pass your own proxy as `next` to compose (it receives that request).
 */
export function attributionMiddleware(
  attribution: Attribution = attributionFromEnv(),
  next: (request: NextRequest, init: { request: { headers: Headers } }) => Response | Promise<Response> = (_request, init) =>
    NextResponse.next(init),
): ((request: NextRequest) => Promise<Response>) & { attribution: Attribution } {
  assertClickCaptureConfigured(attribution.options);
  const { cookieName } = attribution.options.clicks;
  const proxy = async (request: NextRequest): Promise<Response> => {
    const { clickId, setCookie } = await attribution.captureClick(fromWebRequest(request));
    const headers = new Headers(request.headers);
    if (setCookie && clickId) headers.set('cookie', replaceCookie(headers.get('cookie'), cookieName, clickId));
    return withCookie(await next(request, { request: { headers } }), setCookie);
  };
  return Object.assign(proxy, { attribution });
}

/**
 * The request's Cookie header with one cookie replaced. Every other pair is kept byte for byte:
 * re-serialising them would re-encode values and drop duplicates the app may rely on.
 */
function replaceCookie(header: string | null, name: string, value: string): string {
  const others = (header ?? '')
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '' && pair.split('=', 1)[0]!.trim() !== name);
  return [...others, `${name}=${value}`].join('; ');
}

/**
 * Wraps a route handler (or anything called with the request) so `attribution.trackLead()` and
 * the wrapped Stripe client inside it know the visitor's click from the cookie. Clicks themselves
 * are recorded by the proxy / middleware, once per visit.
 */
export function withAttribution<C>(handler: RouteHandler<C>, attribution: Attribution = attributionFromEnv()): RouteHandler<C> {
  return (request, context) =>
    attribution.runInContext({ clickId: attribution.readClickCookie(fromWebRequest(request)) }, () => handler(request, context));
}

/**
 * `app/api/webhooks/stripe/route.ts`: `export const POST = webhookRoute(attribution)`: the
 * instance's own `attribution.fetch`, after a startup check that throws in production when no
 * webhook secret is configured.
 */
export function webhookRoute(attribution: Attribution = attributionFromEnv()): (request: Request) => Promise<Response> {
  assertWebhookConfigured(attribution.options);
  return attribution.fetch;
}

/**
 * The Node-runtime half of click capture for Next 14/15, whose `middleware.ts` runs on the Edge
 * and cannot reach the database: `app/api/attribution/click/route.ts` exports
 * `export const GET = clickCaptureRoute(attribution)`, and `stripe-attribution/nextjs/edge`'s
 * middleware forwards referral visits to it. Only the visit's own headers are used; the
 * landing URL comes from the `url` query parameter.
 */
export function clickCaptureRoute(attribution: Attribution = attributionFromEnv()): (request: Request) => Promise<Response> {
  assertClickCaptureConfigured(attribution.options);
  return async (request) => {
    const landing = new URL(request.url).searchParams.get('url');
    if (!landing || !/^https?:\/\//i.test(landing)) return Response.json({ error: 'Expected ?url=<landing URL>' }, { status: 400 });
    const { clickId, setCookie } = await attribution.captureClick({ ...fromWebRequest(request, landing), method: 'GET' });
    return withCookie(Response.json({ clickId }), setCookie);
  };
}

/**
 * The merchant dashboard and partner portal, server-rendered, for an optional catch-all route at
 * its `basePath`, e.g. `app/admin/attribution/[[...path]]/route.ts`:
 * `export const { GET, POST } = attributionDashboard(attribution, { authorize, basePath: '/admin/attribution' })`.
 * `authorize` receives the `Request` (read your session cookie from it). Refuses to mount without it.
 */
export function attributionDashboard(
  attribution: Attribution,
  options: DashboardOptions<Request>,
): { GET: (request: Request) => Promise<Response>; POST: (request: Request) => Promise<Response> } {
  const dashboard = createDashboard(attribution, options);
  const handle = async (request: Request): Promise<Response> =>
    (await dashboard.fetch(request, request)) ?? new Response('Not found', { status: 404 });
  return { GET: handle, POST: handle };
}
