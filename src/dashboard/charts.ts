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
  const max = Math.max(1, ...points.flatMap((p) => [p.clicks, p.leads, p.sales]));
  const x = (index: number) => pad + (points.length <= 1 ? 0 : (index * (width - 2 * pad)) / (points.length - 1));
  const y = (value: number) => height - pad - (value * (height - 2 * pad)) / max;
  const first = points[0]?.day.toISOString().slice(0, 10) ?? '';
  const last = points[points.length - 1]?.day.toISOString().slice(0, 10) ?? '';
  const summary = SERIES.map((s) => `${s.label} ${points.reduce((sum, p) => sum + p[s.key], 0)}`).join(', ');
  return html`<figure><figcaption>${title}</figcaption>
<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}: ${summary}, ${first} to ${last}" focusable="false">
<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#444"/>
<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="#444"/>
<text x="${pad - 4}" y="${pad + 4}" text-anchor="end" font-size="11" fill="#111">${max}</text>
<text x="${pad - 4}" y="${height - pad}" text-anchor="end" font-size="11" fill="#111">0</text>
<text x="${pad}" y="${height - 10}" font-size="11" fill="#111">${first}</text>
<text x="${width - pad}" y="${height - 10}" text-anchor="end" font-size="11" fill="#111">${last}</text>
${SERIES.map(
  (s) => html`<polyline fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}" points="${points.map((p, i) => `${x(i).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(' ')}"/>`,
)}
</svg>
<p class="legend">${SERIES.map((s) => html`<span><svg width="24" height="10" aria-hidden="true"><line x1="0" y1="5" x2="24" y2="5" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/></svg> ${s.label}</span>`)}</p>
</figure>`;
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
