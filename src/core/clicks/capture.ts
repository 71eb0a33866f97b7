import { createHmac } from 'node:crypto';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { ResolvedOptions } from '../options/options.js';
import { header, type AttributionRequest } from './request.js';
import { isBot } from './bots.js';
import { isClickId, newClickId } from './click-id.js';
import type { ClickWriter } from './writer.js';

export interface CaptureResult {
  /** The visitor's click id after this request: a new click, the cookie's, or null. */
  clickId: string | null;
  /** A `Set-Cookie` header value to send, when this request changed the visitor's click. */
  setCookie?: string;
  /** The click's program, when this request looked the click up (a visit through a partner link). */
  programId?: string;
}

const REFERRAL_CODE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const COUNTRY_HEADERS = ['cf-ipcountry', 'x-vercel-ip-country', 'cloudfront-viewer-country', 'x-country-code'];
const MAX_TEXT = 2048;
const DAY_MS = 86_400_000;

/**
 * Records a partner click when a visitor lands on a referral link, and says which click the rest
 * of the request belongs to. Requests without a referral parameter are answered from the cookie
 * alone, without touching the database. A storage failure never breaks the merchant's page: it is
 * reported through `onError` and the visit continues with the cookie's click.
 */
export async function captureClick(
  options: ResolvedOptions,
  clicks: ClickWriter,
  request: AttributionRequest,
): Promise<CaptureResult> {
  const settings = options.clicks;
  const cookieClickId = readClickCookie(request, settings.cookieName);
  const code = request.method.toUpperCase() === 'GET' ? referralCode(request.url, settings.params) : undefined;
  if (!code || isPrefetch(request) || isBot(header(request, 'user-agent'))) return { clickId: cookieClickId };
  try {
    if (settings.consent && !(await settings.consent(request))) return { clickId: cookieClickId };
    const now = options.clock();
    const lifetimeMs = settings.lifetimeDays * DAY_MS;
    const id = newClickId();
    const visit = {
      id,
      landingUrl: truncate(request.url),
      referrer: truncate(header(request, 'referer')),
      userAgent: truncate(header(request, 'user-agent')),
      ipHash: hashIp(clientIp(request, settings.trustProxy), settings.ipSalt),
      country: countryOf(request),
      createdAt: now,
    };
    const newClick = (programId: string): CaptureResult => ({ clickId: id, setCookie: clickCookie(request, options, id, lifetimeMs), programId });
    // A code of a program no longer configured brings no one: its visits are not clicks.
    const programIds = [...options.programs.keys()];
    if (!cookieClickId) {
      // No earlier click to compare with: the link is looked up and the click written at once.
      const written = await clicks.writeThroughLink(code, programIds, visit);
      return written ? newClick(written.programId) : { clickId: null };
    }
    const found = await clicks.findActiveLink(code);
    if (!found || !options.programs.has(found.link.programId)) return { clickId: cookieClickId };
    const previous = await clicks.findClick(cookieClickId);
    const previousLive = previous !== undefined && now.getTime() - previous.createdAt.getTime() < lifetimeMs;
    // A reload or a return through the same link is the same click, not a new one.
    if (previousLive && previous.linkCode === found.link.code) return { clickId: cookieClickId, programId: previous.programId };

    await clicks.write({ ...visit, partnerId: found.partner.id, programId: found.link.programId, linkCode: found.link.code });
    // First-click: the other partner's visit is counted, but the earlier click keeps the visitor.
    if (previousLive && options.attributionModel === 'first-click') return { clickId: cookieClickId, programId: previous.programId };
    return newClick(found.link.programId);
  } catch (error) {
    options.onError(error, 'click capture');
    return { clickId: cookieClickId };
  }
}

/** The cookie that carries a new click for the click lifetime. */
function clickCookie(request: AttributionRequest, options: ResolvedOptions, id: string, lifetimeMs: number): string {
  const settings = options.clicks;
  return serializeCookie(settings.cookieName, id, {
    httpOnly: true,
    sameSite: 'lax',
    secure: isSecure(request, settings.trustProxy),
    path: '/',
    maxAge: Math.floor(lifetimeMs / 1000),
    ...(settings.cookieDomain ? { domain: settings.cookieDomain } : {}),
  });
}

/** The click id carried by the request's cookie, if it is well-formed. */
export function readClickCookie(request: AttributionRequest, cookieName: string): string | null {
  return clickOfCookieHeader(header(request, 'cookie'), cookieName);
}

/**
 * What `captureClick` answers for a request that cannot be a referral visit, without a promise:
 * the cookie's click. `undefined` when the request may be one (a GET whose query may name a
 * referral code): then `captureClick` decides. For the Node adapters, which call it on every
 * request before anything else, so a page view pays for no promise, no parsed URL and no database.
 * `target` is the request target as received (path and query).
 */
export function clickWithoutVisit(settings: ResolvedOptions['clicks'], method: string, target: string, cookieHeader: string | undefined): string | null | undefined {
  if (method.toUpperCase() === 'GET' && mayNameReferral(target, settings.params)) return undefined;
  return clickOfCookieHeader(cookieHeader, settings.cookieName);
}

/**
 * The click id in a Cookie header. This runs on every request, and browsers send every cookie of the
 * site (analytics, sessions): only the pair that names ours is looked at, and it goes to the parser
 * only when it is not plainly `name=clk_…` (quoted, encoded, spaced). Cookie names are not decoded,
 * so a header without ours spelled out cannot carry it; the first pair of that name counts.
 */
function clickOfCookieHeader(cookieHeader: string | undefined, cookieName: string): string | null {
  if (!cookieHeader) return null;
  let at = cookieHeader.indexOf(cookieName);
  while (at !== -1) {
    const semicolon = cookieHeader.indexOf(';', at);
    const end = semicolon === -1 ? cookieHeader.length : semicolon;
    const start = cookieHeader.lastIndexOf(';', at) + 1;
    // Only a name after nothing but blanks starts the pair; a later mention inside the same pair
    // cannot, so the search goes on from the next pair (each pair is read once, whatever the header).
    if (isBlank(cookieHeader, start, at)) {
      const valueAt = at + cookieName.length + 1;
      if (cookieHeader.charCodeAt(valueAt - 1) === EQUALS) {
        const plain = cookieHeader.slice(valueAt, end);
        if (isClickId(plain)) return plain;
      }
      const value = parseCookies(cookieHeader.slice(start, end))[cookieName];
      if (value !== undefined) return isClickId(value) ? value : null;
    }
    at = cookieHeader.indexOf(cookieName, end + 1);
  }
  return null;
}

const EQUALS = 0x3d;

/** Whether `text` holds only spaces and tabs between `from` and `to`, as the cookie parser trims them. */
function isBlank(text: string, from: number, to: number): boolean {
  for (let index = from; index < to; index += 1) {
    const code = text.charCodeAt(index);
    if (code !== 0x20 && code !== 0x09) return false;
  }
  return true;
}

/**
 * Whether the URL's query may hold one of `params`, by a look at the text alone: a parameter name
 * is written out, percent-encoded, or split by a tab the URL parser drops. False positives only
 * cost the full parse.
 */
function mayNameReferral(url: string, params: readonly string[]): boolean {
  const query = url.indexOf('?');
  if (query === -1) return false;
  if (url.includes('%', query) || url.includes('\t', query)) return true;
  for (const param of params) if (url.includes(param, query)) return true;
  return false;
}

function referralCode(url: string, params: readonly string[]): string | undefined {
  // Cheap test first: most requests carry no referral parameter, many no query string at all.
  if (!mayNameReferral(url, params)) return undefined;
  let searchParams: URLSearchParams;
  try {
    searchParams = new URL(url).searchParams;
  } catch {
    return undefined;
  }
  for (const param of params) {
    const value = searchParams.get(param)?.trim();
    if (value && REFERRAL_CODE.test(value)) return value.toLowerCase();
  }
  return undefined;
}

/** Browsers prefetching a page the visitor has not opened yet. */
function isPrefetch(request: AttributionRequest): boolean {
  const purpose = header(request, 'sec-purpose') ?? header(request, 'purpose') ?? header(request, 'x-purpose');
  return purpose !== undefined && /prefetch|prerender/i.test(purpose);
}

function clientIp(request: AttributionRequest, trustProxy: boolean): string | undefined {
  const forwarded = trustProxy ? header(request, 'x-forwarded-for')?.split(',')[0]?.trim() : undefined;
  return forwarded || request.remoteAddress || undefined;
}

function isSecure(request: AttributionRequest, trustProxy: boolean): boolean {
  if (trustProxy) {
    const proto = header(request, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
    if (proto) return proto === 'https';
  }
  return request.url.toLowerCase().startsWith('https:');
}

function hashIp(ip: string | undefined, salt: string): string | null {
  return ip ? createHmac('sha256', salt).update(ip).digest('base64url').slice(0, 32) : null;
}

function countryOf(request: AttributionRequest): string | null {
  for (const name of COUNTRY_HEADERS) {
    const value = header(request, name)?.trim().toUpperCase();
    if (value && /^[A-Z]{2}$/.test(value)) return value;
  }
  return null;
}

function truncate(value: string | undefined): string | null {
  return value ? value.slice(0, MAX_TEXT) : null;
}
