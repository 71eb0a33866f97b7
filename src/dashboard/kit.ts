import { createHash } from 'node:crypto';
import type { Attribution } from '../core/attribution.js';
import { AttributionError, CommissionInPayoutError, ConflictError, PayoutChangedError } from '../core/kernel/errors.js';
import type { Html } from './html.js';

/** A request as any framework can give it: the body is the raw form text, or the fields a parser already read. */
export interface DashboardRequest {
  method: string;
  /** The full URL, e.g. `https://shop.example/admin/attribution/partners/ptn_1`. */
  url: string;
  headers: Headers | Record<string, string | string[] | undefined>;
  body?: string | Record<string, unknown> | undefined;
  /** The client's address as the server saw it (the partner application form's rate limit). */
  remoteAddress?: string | undefined;
}

export interface DashboardResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the management pages get from the dashboard: its mount, its CSRF check and its page frame. */
export interface PageKit {
  attribution: Attribution;
  basePath: string;
  /** The data mode the dashboard shows. */
  livemode: boolean;
  /** The CSRF token for this browser's forms, and the cookie to set on its first page. */
  csrfFor(request: DashboardRequest, url: URL, user: string): { token: string; setCookie?: string };
  /** Whether the form's token matches this browser's cookie and user. */
  csrfValid(request: DashboardRequest, token: string | undefined, user: string): boolean;
  page(status: number, title: string, content: Html, setCookie?: string): DashboardResponse;
  text(status: number, message: string, extra?: Record<string, string>): DashboardResponse;
}

/** A request's form fields: the raw form text, or the fields a framework's parser already read. */
export function formFields(body: DashboardRequest['body']): Map<string, string> {
  if (typeof body === 'string') return new Map(new URLSearchParams(body));
  const fields = new Map<string, string>();
  for (const [key, value] of Object.entries(body ?? {})) if (typeof value === 'string') fields.set(key, value);
  return fields;
}

/** Runs a form's action: the library's refusal of bad input answers 400 (409 for a conflict) with its message; our failures throw on, to a 5xx. */
export async function refusing(kit: PageKit, action: () => Promise<DashboardResponse>): Promise<DashboardResponse> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ConflictError || error instanceof CommissionInPayoutError || error instanceof PayoutChangedError) return kit.text(409, error.message);
    if (error instanceof AttributionError) return kit.text(400, error.message);
    throw error;
  }
}

export function redirect(kit: PageKit, location: string): DashboardResponse {
  const response = kit.text(303, '');
  return { ...response, headers: { ...response.headers, location } };
}

/**
 * The one script of the dashboard: copy buttons. The page's CSP admits it by its hash, so no
 * inline handler or other script can run. Without a clipboard it selects the text, to copy by hand.
 */
const COPY_SCRIPT = `document.addEventListener('click',function(e){var b=e.target.closest('button[data-copy]');if(!b)return;var f=document.getElementById(b.getAttribute('data-copy'));var s=document.getElementById(b.getAttribute('data-copy')+'-status');function done(t){if(s)s.textContent=t;}f.focus();f.select();if(navigator.clipboard){navigator.clipboard.writeText(f.value).then(function(){done('Copied to the clipboard.');},function(){done('Selected: press Ctrl+C (⌘C) to copy.');});}else{done('Selected: press Ctrl+C (⌘C) to copy.');}});`;
const COPY_HASH = createHash('sha256').update(COPY_SCRIPT).digest('base64');

/** The page with the copy script, and a CSP that lets that script (and nothing else) run. */
export function withCopyScript(response: DashboardResponse): DashboardResponse {
  const csp = response.headers['content-security-policy'];
  return {
    ...response,
    headers: { ...response.headers, ...(csp ? { 'content-security-policy': `${csp}; script-src 'sha256-${COPY_HASH}'` } : {}) },
    body: response.body.replace('</body>', `<script>${COPY_SCRIPT}</script></body>`),
  };
}
