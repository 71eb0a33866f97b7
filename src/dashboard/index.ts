import { randomBytes } from 'node:crypto';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { Attribution } from '../core/attribution.js';
import { CommissionInPayoutError, ConfigurationError } from '../core/kernel/errors.js';
import { verifyPortalToken } from '../core/partners/portal-links.js';
import { BodyTooLargeError, readAtMost } from '../core/http/body.js';
import { header } from '../core/clicks/request.js';
import { CSRF_COOKIE, csrfKey, csrfToken, newNonce, validCsrf } from './csrf.js';
import { loadDashboardData, type DashboardData } from './data.js';
import { html, page, type Html } from './html.js';
import { formFields, type DashboardRequest, type DashboardResponse, type PageKit } from './kit.js';
import { commissionPages } from './commissions.js';
import { partnerPages } from './partners.js';
import { charts, commissionsTable, eventStream, partnersTable, payoutsTable, type ViewContext } from './views.js';
import { applicationPages, type ApplicationPageOptions } from './applications.js';
import { viewOf, viewSwitch, withView, type DashboardView } from './filters.js';
import { reviewAction, reviewPage, type ReviewAction } from './review.js';
import { connectSection, payoutMethodsTable, startOnboarding } from './payout-methods.js';
import type { PartnerWithCodes } from '../core/partners/partners.js';

export type { DashboardRequest, DashboardResponse } from './kit.js';

/** `R` is what `authorize` receives: the framework's own request (Express `req`, Koa `ctx`, …), or the `DashboardRequest`. */
export interface DashboardOptions<R = DashboardRequest> {
  /**
   * Required: whether this request may see and act on the merchant's dashboard (your session or
   * role check). `false` answers 403; throwing an error with `status: 401` answers 401. The partner
   * portal (`/portal`) is not behind it: its signed link is its authorization. Return
   * `{ user: id }` instead of `true` to bind the forms' CSRF tokens to that user, so a token
   * served to one signed-in user is refused for another on the same browser.
   */
  authorize: (request: R) => boolean | { user: string } | Promise<boolean | { user: string }>;
  /** Where the dashboard is mounted. Default `/attribution`. */
  basePath?: string;
  /**
   * The secret the forms' CSRF key is derived from; give every instance behind a load balancer
   * the same one. Default: `portal.secret`. Required with `NODE_ENV=production`; elsewhere a
   * random one per process is made (forms then break on restart, and across instances).
   */
  secret?: string;
  /**
   * Whether a proxy in front of the app is yours and sets `X-Forwarded-Proto` (a TLS-terminating
   * load balancer): then a request it forwarded over https gets `Secure` cookies. Default false:
   * anyone can send that header, so only the request's own URL counts.
   */
  trustProxy?: boolean;
  /** Days in the time-series chart. Default 30. */
  days?: number;
  /** Live or test data shown first (`?mode=live|test` switches). Default: the instance's `livemode`. */
  livemode?: boolean;
  /**
   * Opens the public partner application page at `<basePath>/apply` (outside `authorize`, like
   * the portal). Default off. `true` or options: rate limit, the form's minimum and maximum age,
   * the program applicants join.
   */
  applications?: boolean | ApplicationPageOptions;
  /** Latest events shown per kind. Default 20. */
  latest?: number;
}

/** The dashboard's request handler: `undefined` for a path outside `basePath`, for the adapter to pass on. */
export type DashboardHandler<R = DashboardRequest> = ((request: DashboardRequest, native: R) => Promise<DashboardResponse | undefined>) & {
  basePath: string;
  /** Whether a path is the dashboard's (adapters read a form body only then). */
  owns(pathname: string): boolean;
  /**
   * The same handler for a Fetch `Request`: reads a `POST`'s form (413 past `MAX_FORM_BYTES`) and
   * answers a `Response`; `undefined` for a path outside `basePath`.
   */
  fetch(request: Request, native: R, client?: { remoteAddress?: string | undefined }): Promise<Response | undefined>;
};

/** Largest form body read: the dashboard's forms are a few hundred bytes. */
export const MAX_FORM_BYTES = 16_384;

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** Refuses to build a dashboard without `authorize`: an open ledger with payout buttons is never a default. */
export function createDashboard<R = DashboardRequest>(attribution: Attribution, options: DashboardOptions<R>): DashboardHandler<R> {
  if (typeof options?.authorize !== 'function') {
    throw new ConfigurationError('attributionDashboard() needs an authorize(request) function: the dashboard shows your revenue and can approve and pay commissions.');
  }
  const basePath = (options.basePath ?? '/attribution').replace(/\/+$/, '');
  if (!basePath.startsWith('/')) throw new ConfigurationError(`basePath must start with "/", got "${options.basePath}"`);
  const configured = options.secret ?? attribution.options.portal.secret;
  if (!configured && process.env.NODE_ENV === 'production') {
    throw new ConfigurationError(
      'attributionDashboard() needs a stable secret in production: pass secret (or portal.secret) from your environment, the same for every instance. ' +
        'Without one each process signs its forms with its own random key, so forms fail across instances and after every restart.',
    );
  }
  const key = csrfKey(configured ?? randomBytes(32).toString('base64url'));
  const trustProxy = options.trustProxy ?? false;
  const days = options.days ?? 30;
  const latest = options.latest ?? 20;
  const livemode = options.livemode ?? attribution.options.livemode;
  const programs = [...attribution.options.programs.keys()];
  const load = (view: DashboardView, partnerId?: string): Promise<DashboardData> =>
    loadDashboardData(attribution, { ...view, days, latest, now: attribution.options.clock(), ...(partnerId ? { partnerId } : {}) });
  const applications = applicationPages(
    attribution,
    {
      basePath,
      secret: configured ?? randomBytes(32).toString('base64url'),
      trustProxy,
      page: (status, title, content, { setCookie, nav: withNav = true } = {}) => htmlPage(status, title, withNav ? nav : html``, content, setCookie),
      text,
      redirect: (location) => ({ status: 303, headers: { ...SECURITY_HEADERS, location }, body: '' }),
      fields: formFields,
      csrf: (request, url, user) => csrfFor(request, url, user),
      csrfValid: (request, fields, user) => validCsrf(key, parseCookies(header(request, 'cookie') ?? '')[CSRF_COOKIE], fields.get('csrf') ?? undefined, user),
    },
    options.applications === true ? {} : options.applications || undefined,
  );

  const owns = (pathname: string) => pathname === basePath || pathname.startsWith(`${basePath}/`);
  const handler = async (request: DashboardRequest, native: R): Promise<DashboardResponse | undefined> => {
    const url = URL.canParse(request.url) ? new URL(request.url) : undefined;
    // A Host header no URL can hold: nothing of ours to answer, and nothing the merchant's app can read either.
    if (!url) return text(400, 'Malformed request URL.');
    if (!owns(url.pathname)) return undefined;
    const path = url.pathname.slice(basePath.length) || '/';
    const method = request.method.toUpperCase();

    if (path === '/portal' && method === 'GET') return portal(url);
    if (path === '/apply') return applications.enabled ? applications.apply(request, url, method) : text(404, 'No such dashboard page.');
    // Stripe's onboarding: the button's POST, and Stripe's GET back when its link expired.
    if (path === '/portal/connect' && (method === 'POST' || method === 'GET') && attribution.options.connect.enabled) return portalConnect(url, method === 'POST' ? formFields(request.body) : url.searchParams);

    const allowed = await authorized(native);
    if (typeof allowed === 'number') return text(allowed, allowed === 401 ? 'Sign in to see the attribution dashboard.' : 'You may not see the attribution dashboard.');
    const user = allowed.user;

    if (method === 'GET' && path === '/applications') return applications.list(request, url, user);
    const decision = /^\/applications\/([^/]+)\/(approve|reject)$/.exec(path);
    if (decision) {
      if (method !== 'POST') return text(405, 'Use the form’s button (POST).', { allow: 'POST' });
      const applicant = decoded(decision[1]);
      return applicant === null ? text(400, 'Malformed path: an id that is not valid percent-encoding.') : applications.decide(request, applicant!, decision[2] as 'approve' | 'reject', user);
    }
    const view = viewOf(url, livemode, programs);
    if (typeof view === 'string') return text(400, view);
    if (method === 'GET' && path === '/') return overview(request, url, user, view);
    const managed = (await partnerRoutes(request, url, path, method, user)) ?? (await commissionRoutes(request, url, path, method, user));
    if (managed) return managed;
    const partnerPage = /^\/partners\/([^/]+)$/.exec(path);
    const action = /^\/commissions\/([^/]+)\/(approve|mark-paid|clear|void)$/.exec(path);
    const revoke = /^\/partners\/([^/]+)\/revoke-portal-links$/.exec(path);
    const id = decoded((partnerPage ?? action ?? revoke)?.[1]);
    if (id === null) return text(400, 'Malformed path: an id that is not valid percent-encoding.');
    if (method === 'GET' && partnerPage) return partnerDetail(request, url, id!, user, view);
    if (method === 'GET' && path === '/export.csv') return csvExport(view);
    if (method === 'GET' && path === '/review') return review(request, url, user, view);
    if (action || revoke) {
      if (method !== 'POST') return text(405, 'Use the form’s button (POST).', { allow: 'POST' });
      if (revoke) return revokePortalLinks(request, id!, user);
      if (action![2] === 'clear' || action![2] === 'void') return decide(request, id!, action![2], user);
      return act(request, url, id!, action![2] as 'approve' | 'mark-paid', user);
    }
    return text(404, 'No such dashboard page.');
  };

  /** The signed-in user as `authorize` named them ('' when it said only `true`), or the refusal. */
  async function authorized(request: R): Promise<{ user: string } | 401 | 403> {
    try {
      const verdict = await options.authorize(request);
      if (verdict === true) return { user: '' };
      return typeof verdict === 'object' && verdict !== null && typeof verdict.user === 'string' ? { user: verdict.user } : 403;
    } catch (error) {
      if ((error as { status?: unknown }).status === 401) return 401;
      throw error;
    }
  }

  /** The CSRF nonce of this browser, made (and set as a cookie) on its first page. */
  function csrfFor(request: DashboardRequest, url: URL, user: string): { token: string; setCookie?: string } {
    const existing = parseCookies(header(request, 'cookie') ?? '')[CSRF_COOKIE];
    if (existing) return { token: csrfToken(key, existing, user) };
    const nonce = newNonce();
    const forwarded = trustProxy ? header(request, 'x-forwarded-proto')?.split(',', 1)[0]!.trim().toLowerCase() : undefined;
    const secure = url.protocol === 'https:' || forwarded === 'https';
    return {
      token: csrfToken(key, nonce, user),
      setCookie: serializeCookie(CSRF_COOKIE, nonce, { httpOnly: true, sameSite: 'strict', path: basePath, secure }),
    };
  }

  function htmlPage(status: number, title: string, nav: Html, content: Html, setCookie?: string): DashboardResponse {
    return {
      status,
      headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', ...(setCookie ? { 'set-cookie': setCookie } : {}) },
      body: page(title, nav, content),
    };
  }

  const nav = html`<nav aria-label="Dashboard"><a href="${basePath}/">Overview</a> · <a href="${basePath}/partners">Partners</a> · <a href="${basePath}/commissions">Commissions</a> · <a href="${basePath}/review">Review</a> · <a href="${basePath}/applications">Applications</a></nav>`;
  /** What a page of the ledger shows and how to change it, and the export of the same view. */
  const viewBar = (view: DashboardView, here: string) =>
    html`${viewSwitch(here, view, programs)}<p><a href="${withView(`${basePath}/export.csv`, view, livemode)}" download>Export CSV</a> <span class="muted">(this view)</span></p>`;
  const pageKit: PageKit = {
    attribution,
    basePath,
    livemode,
    csrfFor,
    csrfValid: (request, token, user) => validCsrf(key, parseCookies(header(request, 'cookie') ?? '')[CSRF_COOKIE], token, user),
    page: (status, title, content, setCookie) => htmlPage(status, title, nav, content, setCookie),
    text,
  };
  const partnerRoutes = partnerPages(pageKit);
  const commissionRoutes = commissionPages(pageKit);

  function notice(url: URL): Html {
    const done = url.searchParams.get('done');
    const count = url.searchParams.get('count');
    if (done === 'clear' || done === 'void') return html`<p class="notice" role="status">${done === 'clear' ? 'Cleared' : 'Voided'}: 1 commission.</p>`;
    if (done === 'revoked') return html`<p class="notice" role="status">Every earlier portal link of this partner is revoked.</p>`;
    return done === 'approve' || done === 'mark-paid'
      ? html`<p class="notice" role="status">${done === 'approve' ? 'Approved' : 'Marked paid'}: ${count ?? '0'} commission${count === '1' ? '' : 's'}.</p>`
      : html``;
  }

  async function overview(request: DashboardRequest, url: URL, user: string, view: DashboardView): Promise<DashboardResponse> {
    const [data, methods, outbox] = await Promise.all([load(view), attribution.connect.payoutMethods(), attribution.outbox.status()]);
    const csrf = csrfFor(request, url, user);
    const names = new Map(data.partners.map((p) => [p.partner.id, p.partner.name]));
    const context: ViewContext = { basePath, csrf: csrf.token, here: withView(`${basePath}/`, view, livemode) };
    const undelivered = outbox.failing + outbox.dead;
    return htmlPage(200, 'Partner attribution', nav, html`${notice(url)}${viewBar(view, `${basePath}/`)}
${undelivered > 0 ? html`<p class="notice" role="alert" data-outbox-failing="${String(undelivered)}">Hook events failing: ${String(outbox.failing)} retrying, ${String(outbox.dead)} given up (npx stripe-attribution outbox status).</p>` : html``}
<h2>Overall</h2>${charts(data, days, 'All partners')}
<h2>Partners</h2>${partnersTable(data.partners, (p) => withView(`${basePath}/partners/${encodeURIComponent(p.id)}`, view, livemode))}
<h2>Latest events</h2>${eventStream(data, names)}
<h2>Commissions</h2>${commissionsTable(data.commissions, names, context)}
<h2>Payout methods</h2>${payoutMethodsTable(methods)}`, csrf.setCookie);
  }

  async function partnerDetail(request: DashboardRequest, url: URL, partnerId: string, user: string, view: DashboardView): Promise<DashboardResponse> {
    const data = await load(view, partnerId);
    const partner = data.partners[0];
    if (!partner) return text(404, 'No such partner.');
    const csrf = csrfFor(request, url, user);
    const names = new Map([[partner.partner.id, partner.partner.name]]);
    const path = `${basePath}/partners/${encodeURIComponent(partnerId)}`;
    const here = withView(path, view, livemode);
    return htmlPage(200, `Partner: ${partner.partner.name}`, nav, html`${notice(url)}${viewBar(view, path)}
<p><a href="${path}/manage">Manage ${partner.partner.name}: details, codes, reward, portal link</a></p>
${charts(data, days, partner.partner.name)}
<h2>Totals</h2>${partnersTable(data.partners, null)}
<h2>Latest events</h2>${eventStream(data, names)}
<h2>Commissions</h2>${commissionsTable(data.commissions, names, { basePath, csrf: csrf.token, here })}
<h2>Payouts</h2>${payoutsTable(data)}
<h2>Portal links</h2><form method="post" action="${path}/revoke-portal-links"><input type="hidden" name="csrf" value="${csrf.token}"><button type="submit">Revoke every portal link of ${partner.partner.name}</button></form>`, csrf.setCookie);
  }

  /** Revokes a partner's portal links (CSRF-checked form), then back to their page. */
  async function revokePortalLinks(request: DashboardRequest, partnerId: string, user: string): Promise<DashboardResponse> {
    const nonce = parseCookies(header(request, 'cookie') ?? '')[CSRF_COOKIE];
    if (!validCsrf(key, nonce, formFields(request.body).get('csrf') ?? undefined, user)) return text(403, 'The form expired or came from another site: reload the page and try again.');
    if (!(await attribution.partners.get(partnerId))) return text(404, 'No such partner.');
    await attribution.partners.revokePortalLinks(partnerId);
    return { status: 303, headers: { ...SECURITY_HEADERS, location: `${basePath}/partners/${encodeURIComponent(partnerId)}?done=revoked` }, body: '' };
  }

  /** The partner a portal token names, or the refusal. */
  async function portalPartner(token: string): Promise<PartnerWithCodes | DashboardResponse> {
    const portalSecret = attribution.options.portal.secret;
    const verdict = portalSecret ? verifyPortalToken(portalSecret, token, attribution.options.clock()) : { refused: 'forged' as const };
    if ('refused' in verdict) {
      return text(403, verdict.refused === 'expired' ? 'This portal link has expired: ask for a new one.' : 'This portal link is not valid.');
    }
    const partner = await attribution.partners.get(verdict.partnerId);
    if (!partner) return text(403, 'This portal link is not valid.');
    if (partner.status === 'disabled') return text(403, 'This partner account is disabled.');
    if (partner.status !== 'active') return text(403, 'This partner account is not approved.');
    if ((await (await attribution.storage()).portalLinkVersion(partner.id)) !== verdict.version) {
      return text(403, 'This portal link was revoked: ask for a new one.');
    }
    return partner;
  }

  async function portalConnect(url: URL, fields: { get(name: string): string | null | undefined }): Promise<DashboardResponse> {
    const token = fields.get('token') ?? '';
    const partner = await portalPartner(token);
    if (!('id' in partner)) return partner;
    const portalUrl = new URL(`${basePath}/portal?token=${encodeURIComponent(token)}`, url).href;
    const refreshUrl = new URL(`${basePath}/portal/connect?token=${encodeURIComponent(token)}`, url).href;
    const country = fields.get('country') ?? undefined;
    const started = await startOnboarding(attribution, partner.id, { portalUrl, refreshUrl, ...(country ? { country } : {}) });
    if ('refused' in started) return text(422, started.refused);
    return { status: 303, headers: { ...SECURITY_HEADERS, location: started.location }, body: '' };
  }

  async function portal(url: URL): Promise<DashboardResponse> {
    const token = url.searchParams.get('token') ?? '';
    const partner = await portalPartner(token);
    if (!('id' in partner)) return partner;
    const [data, method] = await Promise.all([load({ livemode }, partner.id), attribution.connect.payoutMethod(partner.id)]);
    const names = new Map([[partner.id, partner.name]]);
    return htmlPage(200, `Partner portal: ${partner.name}`, html``, html`
<h2>Your links</h2><ul>${partner.codes.map((code) => html`<li><code>${attribution.partners.shareUrl(code)}</code></li>`)}</ul>
${charts(data, days, 'You')}
<h2>Totals</h2>${partnersTable(data.partners, null)}
<h2>Commissions</h2>${commissionsTable(data.commissions, names, null)}
<h2>Payouts</h2>${payoutsTable(data)}
${method && attribution.options.connect.enabled ? html`<h2>Getting paid</h2>${connectSection(method, `${basePath}/portal/connect`, token)}` : html``}`);
  }

  async function review(request: DashboardRequest, url: URL, user: string, view: DashboardView): Promise<DashboardResponse> {
    const csrf = csrfFor(request, url, user);
    const here = withView(`${basePath}/review`, view, livemode);
    const content = await reviewPage(attribution, { basePath, csrf: csrf.token, here }, view.livemode);
    return htmlPage(200, 'Fraud review', nav, html`${notice(url)}${viewSwitch(`${basePath}/review`, view, programs)}${content}`, csrf.setCookie);
  }

  async function decide(request: DashboardRequest, commissionId: string, action: ReviewAction, user: string): Promise<DashboardResponse> {
    const fields = formFields(request.body);
    const nonce = parseCookies(header(request, 'cookie') ?? '')[CSRF_COOKIE];
    if (!validCsrf(key, nonce, fields.get('csrf') ?? undefined, user)) return text(403, 'The form expired or came from another site: reload the page and try again.');
    const refused = await reviewAction(attribution, commissionId, action, fields, user);
    if (refused) return text(refused.status, refused.message);
    return { status: 303, headers: { ...SECURITY_HEADERS, location: `${basePath}/review?done=${action}` }, body: '' };
  }

  async function act(request: DashboardRequest, url: URL, commissionId: string, action: 'approve' | 'mark-paid', user: string): Promise<DashboardResponse> {
    const fields = formFields(request.body);
    const nonce = parseCookies(header(request, 'cookie') ?? '')[CSRF_COOKIE];
    if (!validCsrf(key, nonce, fields.get('csrf') ?? undefined, user)) return text(403, 'The form expired or came from another site: reload the page and try again.');
    let counts: { approved: number; paid: number };
    try {
      counts =
        action === 'approve' ? { ...(await attribution.commissions.approve([commissionId])), paid: 0 } : { approved: 0, ...(await attribution.commissions.markPaid([commissionId])) };
    } catch (error) {
      if (error instanceof CommissionInPayoutError) return text(409, error.message);
      throw error;
    }
    const { approved, paid } = counts;
    const back = new URL(fields.get('return') ?? '', url);
    // Only back into the dashboard: a forged return address must not make it an open redirect.
    const inside = back.origin === url.origin && (back.pathname === `${basePath}/` || back.pathname === `${basePath}/commissions` || back.pathname.startsWith(`${basePath}/partners/`));
    const target = inside ? back : new URL(`${basePath}/`, url);
    target.searchParams.set('done', action);
    target.searchParams.set('count', String(approved + paid));
    return {
      status: 303,
      headers: { ...SECURITY_HEADERS, location: `${target.pathname}${target.search}` },
      body: '',
    };
  }

  async function csvExport(view: DashboardView): Promise<DashboardResponse> {
    const data = await load(view);
    const head = ['partner_id', 'partner_name', 'clicks', 'leads', 'currency', 'sales', 'revenue_minor', 'refunded_minor', 'commission_pending_minor', 'commission_approved_minor', 'commission_held_minor', 'commission_paid_minor', 'commission_voided_minor'];
    const rows = data.partners.flatMap((p) => {
      const currencies = Object.entries(p.currencies);
      const base = [p.partner.id, spreadsheetSafe(p.partner.name), String(p.clicks), String(p.leads)];
      if (currencies.length === 0) return [[...base, '', '0', '0', '0', '0', '0', '0', '0', '0']];
      return currencies.map(([currency, t]) => [...base, currency, String(t.sales), String(t.revenue), String(t.refunded), ...(['pending', 'approved', 'held', 'paid', 'voided'] as const).map((s) => String(t.commissions[s]))]);
    });
    return {
      status: 200,
      headers: {
        ...SECURITY_HEADERS,
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="partners-${view.livemode ? 'live' : 'test'}${view.programId ? `-${view.programId.replace(/[^A-Za-z0-9_-]/g, '_')}` : ''}.csv"`,
      },
      body: [head, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n',
    };
  }

  const fetch = async (request: Request, native: R, client: { remoteAddress?: string | undefined } = {}): Promise<Response | undefined> => {
    if (!owns(new URL(request.url).pathname)) return undefined;
    let body: string | undefined;
    if (request.method === 'POST') {
      try {
        body = new TextDecoder().decode(await readAtMost(request, MAX_FORM_BYTES));
      } catch (error) {
        if (error instanceof BodyTooLargeError) return new Response('Form too large', { status: 413 });
        throw error;
      }
    }
    const response = await handler({ method: request.method, url: request.url, headers: request.headers, body, remoteAddress: client.remoteAddress }, native);
    if (!response) return undefined;
    // A redirect, or an answer with nothing to say, goes out without a body.
    return new Response(response.status === 303 || response.body === '' ? null : response.body, { status: response.status, headers: response.headers });
  };

  return Object.assign(handler, { basePath, owns, fetch });
}

/** A path segment decoded; null when it is not valid percent-encoding (`%E0%A4%A`). */
function decoded(segment: string | undefined): string | null | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function text(status: number, message: string, extra: Record<string, string> = {}): DashboardResponse {
  return { status, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...extra }, body: message };
}

/** Free text that a spreadsheet would run as a formula gets a leading quote. */
function spreadsheetSafe(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
