import type { Commission, CommissionStatus } from '../core/storage/types.js';
import { html, money, type Html } from './html.js';
import { formFields, redirect, refusing, type DashboardRequest, type DashboardResponse, type PageKit } from './kit.js';
import { refused } from './partners.js';

const STATUSES: readonly CommissionStatus[] = ['pending', 'approved', 'held', 'paid', 'voided'];

/**
 * `/commissions`: every commission of the dashboard's mode, newest first, filtered by status, with
 * approve (the dashboard's own route) and void with a reason (`/commissions/<id>/void-by-hand`;
 * `/void` is the fraud review's, for held commissions).
 */
export function commissionPages(kit: PageKit) {
  const { attribution, basePath } = kit;
  const here = `${basePath}/commissions`;

  async function list(request: DashboardRequest, url: URL, user: string): Promise<DashboardResponse> {
    const status = url.searchParams.get('status') ?? '';
    if (status && !STATUSES.includes(status as CommissionStatus)) return kit.text(400, `Unknown status "${status}": one of ${STATUSES.join(', ')}.`);
    const csrf = kit.csrfFor(request, url, user);
    const [all, partners] = await Promise.all([attribution.commissions.list(), attribution.partners.list()]);
    const names = new Map(partners.map((p) => [p.id, p.name]));
    const shown = all.filter((c) => c.livemode === kit.livemode && (!status || c.status === status)).reverse();
    const done = url.searchParams.get('done');
    const filter = html`<nav aria-label="Filter by status"><a href="${here}"${status ? '' : html` aria-current="page"`}>All</a>${STATUSES.map((s) => html` · <a href="${here}?status=${s}"${status === s ? html` aria-current="page"` : ''}>${s}</a>`)}</nav>`;
    return kit.page(200, 'Commissions', html`${done === 'void' ? html`<p class="notice" role="status">Commission voided.</p>` : done === 'approve' ? html`<p class="notice" role="status">Approved: ${url.searchParams.get('count') ?? '0'} commission${url.searchParams.get('count') === '1' ? '' : 's'}.</p>` : ''}
<p class="muted">${kit.livemode ? 'Live' : 'Test-mode'} commissions, newest first.</p>${filter}
${shown.length === 0 ? html`<p>No commissions${status ? ` ${status}` : ''}.</p>` : table(shown, names, csrf.token)}`, csrf.setCookie);
  }

  function table(commissions: Commission[], names: Map<string, string>, csrf: string): Html {
    return html`<div class="scroll" tabindex="0" role="region" aria-label="Commissions table"><table><caption>Commissions</caption>
<thead><tr><th scope="col">Commission</th><th scope="col">Partner</th><th scope="col">Kind</th><th scope="col" class="n">Amount</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Actions</th></tr></thead>
<tbody>${commissions.map(
      (c) => html`<tr data-commission="${c.id}"><td><code>${c.id}</code></td><td>${names.get(c.partnerId) ?? c.partnerId}</td><td>${c.kind}</td><td class="n">${money(c.amount, c.currency)}</td>
<td><span class="status status-${c.status}" data-field="status">${c.status}</span></td><td data-field="reason">${c.reason ?? ''}</td><td>${actions(c, csrf)}</td></tr>`,
    )}</tbody></table></div>`;
  }

  function actions(c: Commission, csrf: string): Html {
    const hidden = html`<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="return" value="${here}">`;
    // A commission in a pending payout goes with its payout: cancel the payout to change it.
    if (c.payoutId && c.status === 'approved') return html`in payout <code>${c.payoutId}</code>`;
    const approve = c.status === 'pending' ? html`<form class="inline" method="post" action="${basePath}/commissions/${c.id}/approve">${hidden}<button type="submit" aria-label="Approve commission ${c.id}">Approve</button></form> ` : '';
    // A held commission is the fraud review's to clear or void.
    const voidable = c.status === 'pending' || c.status === 'approved';
    const reason = `reason-${c.id}`;
    const voidForm = voidable
      ? html`<form class="inline" method="post" action="${basePath}/commissions/${c.id}/void-by-hand">${hidden}<label for="${reason}">Reason</label> <input id="${reason}" name="reason" required size="14"> <button type="submit" aria-label="Void commission ${c.id}">Void</button></form>`
      : '';
    return html`${approve}${voidForm}`;
  }

  async function voidOne(request: DashboardRequest, id: string, user: string): Promise<DashboardResponse> {
    const fields = formFields(request.body);
    if (!kit.csrfValid(request, fields.get('csrf'), user)) return refused(kit);
    return refusing(kit, async () => {
      await attribution.commissions.void(id, (fields.get('reason') ?? '').trim());
      return redirect(kit, `${here}?done=void`);
    });
  }

  /** The response for a path of these pages; undefined for any other path. */
  return async function route(request: DashboardRequest, url: URL, path: string, method: string, user: string): Promise<DashboardResponse | undefined> {
    if (path === '/commissions') return method === 'GET' ? list(request, url, user) : kit.text(405, 'Use GET.', { allow: 'GET' });
    const match = /^\/commissions\/([^/]+)\/void-by-hand$/.exec(path);
    if (!match) return undefined;
    if (method !== 'POST') return kit.text(405, 'Use the form’s button (POST).', { allow: 'POST' });
    let id: string;
    try {
      id = decodeURIComponent(match[1]!);
    } catch {
      return kit.text(400, 'Malformed path: an id that is not valid percent-encoding.');
    }
    return voidOne(request, id, user);
  };
}
