/**
 * Edge-safe click capture for Next.js 14/15 `middleware.ts`. Nothing here imports Node modules
 * or the database: a referral visit is forwarded, with the visitor's own headers, to the Node
 * route exporting `clickCaptureRoute` (`stripe-attribution/nextjs`), which records the click and
 * answers with the cookie; this middleware copies that cookie onto the page's response.
 * Requests without a referral parameter are let through untouched, with no extra round trip.
 */
import { NextResponse } from 'next/server.js';

export interface EdgeAttributionOptions {
  /** Path of the route exporting `clickCaptureRoute`. Default `/api/attribution/click`. */
  captureRoute?: string;
  /** Must match `clicks.params` of the server's instance. Default `['via', 'ref', 'aff']`. */
  params?: string[];
  /** How long the page may wait for the capture route before going on without a cookie. Default 1500 ms. */
  captureTimeoutMs?: number;
}

const FORWARDED_HEADERS = [
  'cookie', 'user-agent', 'referer', 'x-forwarded-for', 'x-forwarded-proto', 'x-real-ip', 'sec-purpose', 'purpose',
  'cf-ipcountry', 'x-vercel-ip-country', 'cloudfront-viewer-country', 'x-country-code',
];

type Middleware = (request: Request) => Promise<Response>;

/**
 * `middleware.ts`: `export const middleware = attributionEdgeMiddleware()`, or pass your own
 * middleware as `next` to add the cookie to its response.
 */
export function attributionEdgeMiddleware(
  options: EdgeAttributionOptions = {},
  next: (request: Request) => Response | Promise<Response> = () => NextResponse.next(),
): Middleware {
  const captureRoute = options.captureRoute ?? '/api/attribution/click';
  const params = options.params ?? ['via', 'ref', 'aff'];
  const captureTimeoutMs = options.captureTimeoutMs ?? 1500;
  return async (request) => {
    const url = new URL(request.url);
    const isReferral = request.method === 'GET' && params.some((param) => url.searchParams.has(param));
    if (!isReferral) return next(request);

    const capture = new URL(captureRoute, url);
    capture.searchParams.set('url', request.url);
    const headers = new Headers();
    for (const name of FORWARDED_HEADERS) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    const [captured, response] = await Promise.all([
      fetch(capture, { headers, signal: AbortSignal.timeout(captureTimeoutMs) }).catch(() => undefined),
      next(request),
    ]);
    // The page never waits on, or fails with, attribution: a failed capture just sets no cookie.
    const setCookie = captured?.ok ? captured.headers.get('set-cookie') : null;
    if (!setCookie) return response;
    try {
      response.headers.append('set-cookie', setCookie);
      return response;
    } catch {
      // Responses such as Response.redirect() have immutable headers: copy, then add.
      const copy = new Response(response.body, response);
      copy.headers.append('set-cookie', setCookie);
      return copy;
    }
  };
}
