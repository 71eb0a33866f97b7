import type { Commission, CommissionStatus, Partner } from '../core/storage/types.js';
import { funnelChart, timeSeriesChart } from './charts.js';
import { funnelOf, type DashboardData, type PartnerTotals } from './data.js';
import { html, money, type Html } from './html.js';

const STATUSES: CommissionStatus[] = ['pending', 'approved', 'held', 'paid', 'voided'];

export interface ViewContext {
  basePath: string;
  /** The CSRF token every form carries. */
  csrf: string;
  /** Where forms send the browser back to. */
  here: string;
}

/** One amount per currency, one per line; a dash when there is none. */
function amounts(partner: PartnerTotals, pick: (totals: PartnerTotals['currencies'][string]) => number): Html {
  const entries = Object.entries(partner.currencies).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return html`<span class="muted">—</span>`;
  return html`${entries.map(([currency, totals], i) => html`${i ? html`<br>` : ''}<span data-currency="${currency}">${money(pick(totals), currency)}</span>`)}`;
}

export function partnersTable(partners: readonly PartnerTotals[], link: ((partner: Partner) => string) | null): Html {
  return html`<div class="scroll" tabindex="0" role="region" aria-label="Partners table"><table>
<caption>Partners: all-time totals (revenue untaxed, commissions net by status)</caption>
<thead><tr><th scope="col">Partner</th><th scope="col" class="n">Clicks</th><th scope="col" class="n">Leads</th><th scope="col" class="n">Sales</th><th scope="col" class="n">Revenue</th>${STATUSES.map((s) => html`<th scope="col" class="n">Commission ${s}</th>`)}</tr></thead>
<tbody>${partners.map(
    (p) => html`<tr data-partner="${p.partner.id}"><th scope="row">${link ? html`<a href="${link(p.partner)}">${p.partner.name}</a>` : p.partner.name}${p.partner.status === 'disabled' ? html` <span class="muted">(disabled)</span>` : ''}</th>
<td class="n" data-field="clicks">${p.clicks}</td><td class="n" data-field="leads">${p.leads}</td>
<td class="n" data-field="sales">${Object.values(p.currencies).reduce((n, t) => n + t.sales, 0)}</td>
<td class="n" data-field="revenue">${amounts(p, (t) => t.revenue)}</td>
${STATUSES.map((s) => html`<td class="n" data-field="commission-${s}">${amounts(p, (t) => t.commissions[s])}</td>`)}</tr>`,
  )}</tbody></table></div>`;
}

export function charts(data: DashboardData, days: number, who: string): Html {
  return html`<div class="grid">${timeSeriesChart(data.series, `${who}: clicks, leads and sales per day, last ${days} days`)}${funnelChart(funnelOf(data.partners), `${who}: funnel, all time`)}</div>`;
}

function when(date: Date | null): Html {
  return date ? html`<time datetime="${date.toISOString()}">${date.toISOString().slice(0, 16).replace('T', ' ')}</time>` : html`—`;
}

function actions(commission: Commission, context: ViewContext): Html {
  const form = (action: 'approve' | 'mark-paid', label: string) =>
    html`<form class="inline" method="post" action="${context.basePath}/commissions/${commission.id}/${action}"><input type="hidden" name="csrf" value="${context.csrf}"><input type="hidden" name="return" value="${context.here}"><button type="submit" aria-label="${label} commission ${commission.id}">${label}</button></form>`;
  if (commission.status === 'pending') return form('approve', 'Approve');
  // A pending payout pays it: marking it paid on its own would pay it twice.
  if (commission.status === 'approved' && commission.payoutId) return html`in payout <code>${commission.payoutId}</code>`;
  if (commission.status === 'approved' && commission.kind !== 'clawback') return form('mark-paid', 'Mark paid');
  return html``;
}

/** The partner (no `context`: the portal) sees a commission held for fraud review as under review, never why. */
function statusOf(commission: Commission, context: ViewContext | null): string {
  if (commission.status === 'held' && commission.review === 'pending') return context ? 'held for review' : 'under review';
  return commission.status;
}

export function commissionsTable(commissions: readonly Commission[], names: Map<string, string>, context: ViewContext | null): Html {
  if (commissions.length === 0) return html`<p>No commissions yet.</p>`;
  return html`<div class="scroll" tabindex="0" role="region" aria-label="Commissions table"><table>
<caption>Commissions, newest first</caption>
<thead><tr><th scope="col">Commission</th><th scope="col">Partner</th><th scope="col">Kind</th><th scope="col" class="n">Amount</th><th scope="col">Status</th><th scope="col">Hold until</th>${context ? html`<th scope="col">Action</th>` : ''}</tr></thead>
<tbody>${commissions.map(
    (c) => html`<tr data-commission="${c.id}"><td><code>${c.id}</code></td><td>${names.get(c.partnerId) ?? c.partnerId}</td><td>${c.kind}</td><td class="n">${money(c.amount, c.currency)}</td>
<td><span class="status status-${c.status}" data-field="status">${statusOf(c, context)}</span></td><td>${when(c.holdUntil)}</td>${context ? html`<td>${actions(c, context)}</td>` : ''}</tr>`,
  )}</tbody></table></div>`;
}

export function eventStream(data: DashboardData, names: Map<string, string>): Html {
  const partner = (id: string | null) => (id ? (names.get(id) ?? id) : '—');
  return html`<div class="grid">
<section aria-labelledby="leads-h"><h3 id="leads-h">Latest leads</h3>${data.leads.length ? html`<ul>${data.leads.map((c) => html`<li>${when(c.attributedAt)} · ${partner(c.partnerId)} · via ${c.attributedBy ?? '—'}</li>`)}</ul>` : html`<p>None yet.</p>`}</section>
<section aria-labelledby="sales-h"><h3 id="sales-h">Latest sales</h3>${data.sales.length ? html`<ul>${data.sales.map((s) => html`<li>${when(s.occurredAt)} · ${partner(s.partnerId)} · ${money(s.amount, s.currency)}</li>`)}</ul>` : html`<p>None yet.</p>`}</section>
<section aria-labelledby="refunds-h"><h3 id="refunds-h">Latest refunds</h3>${data.refunds.length ? html`<ul>${data.refunds.map((s) => html`<li>sale of ${when(s.occurredAt)} · ${partner(s.partnerId)} · ${money(s.amountRefunded, s.currency)} refunded</li>`)}</ul>` : html`<p>None yet.</p>`}</section>
</div>`;
}

export function payoutsTable(data: DashboardData): Html {
  if (data.payouts.length === 0) return html`<p>No payouts yet.</p>`;
  return html`<div class="scroll" tabindex="0" role="region" aria-label="Payouts table"><table><caption>Payouts</caption>
<thead><tr><th scope="col">Payout</th><th scope="col" class="n">Amount</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Paid</th></tr></thead>
<tbody>${data.payouts.map((p) => html`<tr><td><code>${p.id}</code></td><td class="n">${money(p.amount, p.currency)}</td><td data-field="payout-status">${p.status}${p.transferId ? html` · transfer <code>${p.transferId}</code>` : ''}${p.status === 'pending' && p.transferError ? html`<br><span class="status status-held" role="note">transfer failed: ${p.transferError}</span>` : ''}</td><td>${when(p.createdAt)}</td><td>${when(p.paidAt)}</td></tr>`)}</tbody></table></div>`;
}
