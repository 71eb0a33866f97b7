import { NextResponse, type NextRequest } from 'next/server.js';
import { attributionFromEnv, type Attribution } from '../core/attribution.js';
import { clickCaptureProblem, webhookProblem } from '../core/options/resolve.js';
import type { ConfigurationError } from '../core/kernel/errors.js';
import type { AttributionRequest } from '../core/clicks/request.js';
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

/**
 * Next.js loads the proxy before every route, so a setting missing in production must not throw
 * there (every page would answer 500): it is logged once per instance and the feature it serves
 * is switched off, the rest of the site unaffected. Not while `next build` loads the routes: the
 * build machine rarely holds the secrets, and only the running server needs them.
 */
const reported = new WeakMap<Attribution, Set<string>>();

function reportOnce(attribution: Attribution, problem: ConfigurationError, consequence: string): void {
  if (process.env.NEXT_PHASE === 'phase-production-build') return;
  const seen = reported.get(attribution) ?? new Set<string>();
  reported.set(attribution, seen);
  if (seen.has(problem.message)) return;
  seen.add(problem.message);
  // The message is the whole story: a stack of minified bundle frames would only bury it.
  attribution.options.logger.error({}, `${consequence}. ${problem.message}`);
}

function withCookie(response: Response, setCookie: string | undefined): Response {
  if (setCookie) response.headers.append('set-cookie', setCookie);
  return response;
}

/**
 * Next 16 `proxy.ts` (Node runtime): records the click of a referral visit and sets the cookie.
 * The request continues with the new click in its `Cookie` header, so the page or route handler
 * it reaches already sees it. Pass your own proxy as `next` to compose (it receives that request).
 * In production without an IP salt it logs the fix once and only calls `next`: clicks are not
 * recorded, pages keep working.
 */
export function attributionMiddleware(
  attribution: Attribution = attributionFromEnv(),
  next: (request: NextRequest, init: { request: { headers: Headers } }) => Response | Promise<Response> = (_request, init) =>
    NextResponse.next(init),
): ((request: NextRequest) => Promise<Response>) & { attribution: Attribution } {
  const { cookieName } = attribution.options.clicks;
  const problem = clickCaptureProblem(attribution.options);
  if (problem) {
    reportOnce(attribution, problem, 'Click capture is off');
    return Object.assign((request: NextRequest) => Promise.resolve(next(request, { request: { headers: request.headers } })), { attribution });
  }
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
 * instance's own `attribution.fetch`. Without a webhook secret every delivery answers 500 naming
 * the setting (Stripe retries, so nothing is lost once it is set); in production that is also
 * logged once when the route loads.
 */
export function webhookRoute(attribution: Attribution = attributionFromEnv()): (request: Request) => Promise<Response> {
  const problem = webhookProblem(attribution.options);
  if (problem) reportOnce(attribution, problem, 'Stripe webhooks are refused with 500');
  return attribution.fetch;
}

/**
 * The Node-runtime half of click capture for Next 14/15, whose `middleware.ts` runs on the Edge
 * and cannot reach the database: `app/api/attribution/click/route.ts` exports
 * `export const GET = clickCaptureRoute(attribution)`, and `stripe-attribution/nextjs/edge`'s
 * middleware forwards referral visits to it. Only the visit's own headers are used; the
 * landing URL comes from the `url` query parameter. In production without an IP salt it answers
 * 500 naming the setting (and logs it once), so the middleware sets no cookie.
 */
export function clickCaptureRoute(attribution: Attribution = attributionFromEnv()): (request: Request) => Promise<Response> {
  const problem = clickCaptureProblem(attribution.options);
  if (problem) {
    reportOnce(attribution, problem, 'Click capture is off');
    // The Edge middleware sets no cookie on a failed capture: the page it forwards for still renders.
    return () => Promise.resolve(Response.json({ error: problem.message }, { status: 500 }));
  }
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
