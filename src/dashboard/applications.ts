import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { Attribution } from '../core/attribution.js';
import { header } from '../core/clicks/request.js';
import { AttributionError, ConflictError, RateLimitedError } from '../core/kernel/errors.js';
import type { Application } from '../core/storage/types.js';
import { newNonce } from './csrf.js';
import { APPLY_COOKIE, checkFormToken, formTokenKey, issueFormToken } from './form-token.js';
import { html, type Html } from './html.js';

/** The public application page (`<basePath>/apply`), off unless `applications` is given. */
export interface ApplicationPageOptions {
  /** The program applicants join. Default: the default program. */
  programId?: string;
  /** Applications one address may send per window, counted in the database. Default 5 per hour. */
  rateLimit?: { max?: number; windowSeconds?: number };
  /** A form sent sooner than this after it was served is refused as a bot's. Default 3 s. */
  minSeconds?: number;
  /** A form older than this is refused (sent again with a fresh token). Default 2 hours. */
  maxAgeSeconds?: number;
}

interface PageRequest {
  method: string;
  url: string;
  headers: Headers | Record<string, string | string[] | undefined>;
  body?: string | Record<string, unknown> | undefined;
  remoteAddress?: string | undefined;
}

interface PageResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the dashboard hands its application pages: its pages, plain answers, forms and CSRF check. */
export interface PageKit {
  basePath: string;
  secret: string;
  trustProxy: boolean;
  page(status: number, title: string, content: Html, options?: { setCookie?: string | undefined; nav?: boolean }): PageResponse;
  text(status: number, message: string, extra?: Record<string, string>): PageResponse;
  redirect(location: string): PageResponse;
  fields(body: PageRequest['body']): Map<string, string>;
  csrf(request: PageRequest, url: URL, user: string): { token: string; setCookie?: string };
  csrfValid(request: PageRequest, fields: Map<string, string>, user: string): boolean;
}

const HONEYPOT = 'website';
const HIDDEN = 'position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden';

export function applicationPages(attribution: Attribution, kit: PageKit, options: ApplicationPageOptions | undefined) {
  const key = formTokenKey(kit.secret);
  const window = { minSeconds: options?.minSeconds ?? 3, maxSeconds: options?.maxAgeSeconds ?? 7200 };
  const applyPath = `${kit.basePath}/apply`;

  /** The form, with a fresh token bound to this browser's nonce (set as a cookie on its first visit). */
  function form(request: PageRequest, url: URL, status: number, values: Map<string, string>, problem?: string): PageResponse {
    const existing = parseCookies(header(request, 'cookie') ?? '')[APPLY_COOKIE];
    const nonce = existing ?? newNonce();
    const forwarded = kit.trustProxy ? header(request, 'x-forwarded-proto')?.split(',', 1)[0]!.trim().toLowerCase() : undefined;
    const setCookie = existing
      ? undefined
      : serializeCookie(APPLY_COOKIE, nonce, { httpOnly: true, sameSite: 'strict', path: applyPath, secure: url.protocol === 'https:' || forwarded === 'https', maxAge: window.maxSeconds });
    const token = issueFormToken(key, nonce, attribution.options.clock());
    const value = (name: string) => values.get(name) ?? '';
    return kit.page(
      status,
      'Apply to become a partner',
      html`${problem ? html`<p class="problem" role="alert" id="problem">${problem}</p>` : ''}
<p>Tell us who you are and how you would share our product. Once we approve your application your referral link starts counting.</p>
<form method="post" action="${applyPath}" class="apply"${problem ? html` aria-describedby="problem"` : ''}>
<input type="hidden" name="token" value="${token}">
<p><label for="name">Name</label><br><input id="name" name="name" required maxlength="200" autocomplete="name" value="${value('name')}"></p>
<p><label for="email">Email</label><br><input id="email" name="email" type="email" required maxlength="254" autocomplete="email" value="${value('email')}"></p>
<p><label for="promotion">How you promote (your site, audience, channels)</label><br><textarea id="promotion" name="promotion" required maxlength="2000" rows="4">${value('promotion')}</textarea></p>
<p><label for="code">Your referral code</label><br><input id="code" name="code" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}" aria-describedby="code-help" value="${value('code')}">
<br><span id="code-help" class="muted">Letters, digits, “-” or “_”: your link will end in <code>?via=your-code</code>.</span></p>
<div style="${HIDDEN}" aria-hidden="true"><label for="${HONEYPOT}">Leave this field empty</label><input id="${HONEYPOT}" name="${HONEYPOT}" tabindex="-1" autocomplete="off"></div>
<p><button type="submit">Apply</button></p>
</form>`,
      { setCookie, nav: false },
    );
  }

  async function submit(request: PageRequest, url: URL): Promise<PageResponse> {
    const fields = kit.fields(request.body);
    // A bot fills every field it finds; a person never sees this one.
    if (fields.get(HONEYPOT)) return kit.text(400, 'This application could not be accepted.');
    const nonce = parseCookies(header(request, 'cookie') ?? '')[APPLY_COOKIE];
    const verdict = checkFormToken(key, nonce, fields.get('token'), attribution.options.clock(), window);
    if (verdict === 'forged') return kit.text(403, 'The form came from another site or lost its cookie: open the application page again.');
    if (verdict === 'too-fast') return form(request, url, 400, fields, 'That was quick: check your answers and send the form again.');
    if (verdict === 'expired') return form(request, url, 400, fields, 'The form expired: check your answers and send it again.');
    const ip = clientIp(request, kit.trustProxy);
    try {
      await attribution.applications.submit(
        { name: fields.get('name') ?? '', email: fields.get('email') ?? '', promotion: fields.get('promotion') ?? '', code: fields.get('code') ?? '', ...(options?.programId ? { programId: options.programId } : {}) },
        // Without an address (a Fetch runtime, no trusted proxy) every applicant shares one count: never unlimited.
        { ip: ip ?? 'unknown', ...(options?.rateLimit ? { rateLimit: options.rateLimit } : {}) },
      );
    } catch (error) {
      if (error instanceof RateLimitedError) {
        return kit.text(429, error.message, { 'retry-after': String(Math.ceil(error.retryAfterSeconds)) });
      }
      if (error instanceof ConflictError) return form(request, url, 409, fields, error.message);
      if (error instanceof AttributionError) return form(request, url, 400, fields, error.message);
      throw error;
    }
    return kit.redirect(`${applyPath}?sent=1`);
  }

  async function apply(request: PageRequest, url: URL, method: string): Promise<PageResponse> {
    if (method === 'POST') return submit(request, url);
    if (method !== 'GET') return kit.text(405, 'Use the application form.', { allow: 'GET, POST' });
    if (url.searchParams.get('sent') === '1') {
      return kit.page(200, 'Application received', html`<p class="notice" role="status">Thank you: we received your application and will email you once it is reviewed.</p>`, { nav: false });
    }
    return form(request, url, 200, new Map());
  }

  /** The merchant's list: pending first, each with approve and reject. */
  async function list(request: PageRequest, url: URL, user: string): Promise<PageResponse> {
    const csrf = kit.csrf(request, url, user);
    const all = await attribution.applications.list();
    const pending = all.filter((a) => a.status === 'pending');
    const decided = all.filter((a) => a.status !== 'pending');
    const done = url.searchParams.get('done');
    const notice =
      done === 'approve' || done === 'reject'
        ? html`<p class="notice" role="status">${done === 'approve' ? 'Approved' : 'Rejected'}: ${url.searchParams.get('name') ?? ''}.</p>`
        : html``;
    return kit.page(
      200,
      'Partner applications',
      html`${notice}
<p>Public application page: <a href="${applyPath}">${applyPath}</a>${options ? '' : html` <span class="muted">(off: pass <code>applications</code> to the dashboard to open it)</span>`}</p>
<h2>Pending</h2>${applicationsTable(pending, csrf.token, 'Pending applications')}
<h2>Decided</h2>${applicationsTable(decided, null, 'Decided applications')}`,
      { setCookie: csrf.setCookie },
    );
  }

  function applicationsTable(applications: readonly Application[], csrf: string | null, caption: string): Html {
    if (applications.length === 0) return html`<p>None.</p>`;
    const button = (a: Application, action: 'approve' | 'reject', label: string) =>
      html`<form class="inline" method="post" action="${kit.basePath}/applications/${encodeURIComponent(a.partner.id)}/${action}"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" aria-label="${label} ${a.partner.name}">${label}</button></form>`;
    return html`<div class="scroll" tabindex="0" role="region" aria-label="${caption}"><table><caption>${caption}, newest first</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Code</th><th scope="col">How they promote</th><th scope="col">Applied</th><th scope="col">Status</th>${csrf ? html`<th scope="col">Action</th>` : ''}</tr></thead>
<tbody>${applications.map(
      (a) => html`<tr data-application="${a.partner.id}"><th scope="row">${a.partner.name}</th><td>${a.partner.email}</td><td><code>${a.details.code}</code></td><td>${a.details.promotion}</td>
<td><time datetime="${a.appliedAt.toISOString()}">${a.appliedAt.toISOString().slice(0, 16).replace('T', ' ')}</time></td><td data-field="status">${a.status}</td>${csrf ? html`<td>${button(a, 'approve', 'Approve')} ${button(a, 'reject', 'Reject')}</td>` : ''}</tr>`,
    )}</tbody></table></div>`;
  }

  async function decide(request: PageRequest, partnerId: string, action: 'approve' | 'reject', user: string): Promise<PageResponse> {
    if (!kit.csrfValid(request, kit.fields(request.body), user)) return kit.text(403, 'The form expired or came from another site: reload the page and try again.');
    let decided: Application;
    try {
      decided = (await attribution.applications[action](partnerId)).application;
    } catch (error) {
      if (error instanceof ConflictError) return kit.text(409, error.message);
      if (error instanceof AttributionError) return kit.text(404, error.message);
      throw error;
    }
    return kit.redirect(`${kit.basePath}/applications?done=${action}&name=${encodeURIComponent(decided.partner.name)}`);
  }

  return { enabled: options !== undefined, apply, list, decide };
}

function clientIp(request: PageRequest, trustProxy: boolean): string | undefined {
  const forwarded = trustProxy ? header(request, 'x-forwarded-for')?.split(',')[0]?.trim() : undefined;
  return forwarded || request.remoteAddress || undefined;
}
