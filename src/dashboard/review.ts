import type { Attribution } from '../core/attribution.js';
import { AttributionError, ConflictError } from '../core/kernel/errors.js';
import type { Commission } from '../core/storage/types.js';
import { html, money, type Html } from './html.js';
import type { ViewContext } from './views.js';

export type ReviewAction = 'clear' | 'void';

/** The review page: every commission a fraud rule held, with its flags and a clear and a void form. */
export async function reviewPage(attribution: Attribution, context: ViewContext, livemode: boolean): Promise<Html> {
  const [held, partners] = await Promise.all([attribution.commissions.review.list({ livemode }), attribution.partners.list()]);
  const names = new Map(partners.map((p) => [p.id, p.name]));
  if (held.length === 0) return html`<p>No commissions held for review.</p>`;
  return html`<div class="scroll" tabindex="0" role="region" aria-label="Review table"><table>
<caption>Commissions held by a fraud rule, oldest first: nothing here is approved or paid until you decide</caption>
<thead><tr><th scope="col">Commission</th><th scope="col">Partner</th><th scope="col" class="n">Amount</th><th scope="col">Flags</th><th scope="col">Decision</th></tr></thead>
<tbody>${held.map(
    (c) => html`<tr data-commission="${c.id}"><td><code>${c.id}</code></td><td>${names.get(c.partnerId) ?? c.partnerId}</td><td class="n">${money(c.amount, c.currency)}</td>
<td><ul>${c.flags.map((flag) => html`<li data-rule="${flag.rule}"><strong>${flag.rule}</strong>: ${flag.reason}</li>`)}</ul></td><td>${forms(c, context)}</td></tr>`,
  )}</tbody></table></div>`;
}

function forms(commission: Commission, context: ViewContext): Html {
  const form = (action: ReviewAction, label: string, field: Html) =>
    html`<form class="inline" method="post" action="${context.basePath}/commissions/${commission.id}/${action}"><input type="hidden" name="csrf" value="${context.csrf}">${field}<button type="submit" aria-label="${label} commission ${commission.id}">${label}</button></form>`;
  return html`${form('clear', 'Clear', html`<input name="note" aria-label="Note on clearing ${commission.id}" placeholder="note">`)} ${form('void', 'Void', html`<input name="reason" required aria-label="Reason for voiding ${commission.id}" placeholder="reason">`)}`;
}

/** Applies a review form; the answer's text for a refusal (a decided commission, a missing reason), else null. */
export async function reviewAction(attribution: Attribution, id: string, action: ReviewAction, fields: ReadonlyMap<string, string>, user: string): Promise<{ status: number; message: string } | null> {
  const by = user || 'dashboard';
  try {
    if (action === 'clear') await attribution.commissions.review.clear(id, { by, ...(fields.get('note') ? { note: fields.get('note')! } : {}) });
    else await attribution.commissions.review.void(id, { by, reason: fields.get('reason')?.trim() ?? '' });
    return null;
  } catch (error) {
    if (error instanceof ConflictError) return { status: 409, message: error.message };
    if (error instanceof AttributionError) return { status: 400, message: error.message };
    throw error;
  }
}
