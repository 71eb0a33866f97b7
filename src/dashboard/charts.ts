import { html, type Html } from './html.js';

export interface SeriesPoint {
  day: Date;
  clicks: number;
  leads: number;
  sales: number;
}

const SERIES = [
  { key: 'clicks', label: 'Clicks', color: '#0645ad', dash: '' },
  { key: 'leads', label: 'Leads', color: '#0a5c2b', dash: '6 3' },
  { key: 'sales', label: 'Sales', color: '#8b0000', dash: '2 2' },
] as const;

/**
 * Clicks, leads and sales per day as an inline SVG: no script, readable by a screen reader
 * through its title and the table of figures beside it. Series differ by dash as well as colour.
 */
export function timeSeriesChart(points: readonly SeriesPoint[], title: string): Html {
  const width = 600;
  const height = 200;
  const pad = 30;
  const left = 40;
  const { top, step } = axisScale(Math.max(0, ...points.flatMap((p) => [p.clicks, p.leads, p.sales])));
  const x = (index: number) => left + (points.length <= 1 ? 0 : (index * (width - left - pad)) / (points.length - 1));
  const y = (value: number) => height - pad - (value * (height - 2 * pad)) / top;
  const ticks = Array.from({ length: top / step + 1 }, (_, i) => i * step);
  // A label a week apart (two on long ranges), counted back from today so the last day is named.
  const every = points.length > 45 ? 14 : 7;
  const dated = points.map((p, i) => ({ p, i })).filter(({ i }) => (points.length - 1 - i) % every === 0);
  const first = points[0]?.day.toISOString().slice(0, 10) ?? '';
  const last = points[points.length - 1]?.day.toISOString().slice(0, 10) ?? '';
  const summary = SERIES.map((s) => `${s.label} ${points.reduce((sum, p) => sum + p[s.key], 0)}`).join(', ');
  return html`<figure><figcaption>${title}</figcaption>
<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}: ${summary}, ${first} to ${last}" focusable="false">
${ticks.map(
  (tick) => html`<line x1="${left}" y1="${y(tick).toFixed(1)}" x2="${width - pad}" y2="${y(tick).toFixed(1)}" stroke="${tick === 0 ? '#444' : '#ddd'}"/>
<text x="${left - 4}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#111">${tick}</text>`,
)}
<line x1="${left}" y1="${pad}" x2="${left}" y2="${height - pad}" stroke="#444"/>
${dated.map(
  ({ p, i }) => html`<line x1="${x(i).toFixed(1)}" y1="${height - pad}" x2="${x(i).toFixed(1)}" y2="${height - pad + 4}" stroke="#444"/>
<text x="${x(i).toFixed(1)}" y="${height - 10}" text-anchor="middle" font-size="11" fill="#111">${shortDate(p.day)}</text>`,
)}
${SERIES.map(
  (s) => html`<polyline fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}" points="${points.map((p, i) => `${x(i).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(' ')}"/>`,
)}
</svg>
<p class="legend">${SERIES.map((s) => html`<span><svg width="24" height="10" aria-hidden="true"><line x1="0" y1="5" x2="24" y2="5" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/></svg> ${s.label}</span>`)}</p>
</figure>`;
}

/** A round top for the count axis (1, 2 or 5 × 10ⁿ per step, four steps or so) at or above `max`. */
function axisScale(max: number): { top: number; step: number } {
  const rough = Math.max(1, max) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= rough)!);
  return { top: Math.max(step, Math.ceil(max / step) * step), step };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `7 Sep`: UTC, like the report's days. */
function shortDate(day: Date): string {
  return `${day.getUTCDate()} ${MONTHS[day.getUTCMonth()]}`;
}

/** Clicks → leads → sales as bars, each with its count and its rate from the step before. */
export function funnelChart(funnel: { clicks: number; leads: number; sales: number }, title: string): Html {
  const steps = [
    { label: 'Clicks', value: funnel.clicks },
    { label: 'Leads', value: funnel.leads },
    { label: 'Sales', value: funnel.sales },
  ];
  const max = Math.max(1, ...steps.map((s) => s.value));
  const rate = (value: number, previous: number | undefined) =>
    previous === undefined ? '' : previous === 0 ? ' (—)' : ` (${((value / previous) * 100).toFixed(1)}%)`;
  return html`<figure><figcaption>${title}</figcaption>
<svg viewBox="0 0 400 110" role="img" aria-label="${title}: ${steps.map((s, i) => `${s.label} ${s.value}${rate(s.value, steps[i - 1]?.value)}`).join(', ')}" focusable="false">
${steps.map(
  (s, i) => html`<text x="0" y="${i * 36 + 20}" font-size="13" fill="#111">${s.label}</text>
<rect x="60" y="${i * 36 + 6}" width="${Math.max(2, (s.value / max) * 240).toFixed(1)}" height="22" fill="#102a43"/>
<text x="${(66 + Math.max(2, (s.value / max) * 240)).toFixed(1)}" y="${i * 36 + 22}" font-size="13" fill="#111">${s.value}${rate(s.value, steps[i - 1]?.value)}</text>`,
)}
</svg></figure>`;
}
