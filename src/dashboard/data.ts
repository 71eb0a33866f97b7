import type { Attribution } from '../core/attribution.js';
import type { Commission, CurrencyTotals, Customer, Partner, Payout, ReportRow, Sale } from '../core/storage/types.js';
import type { SeriesPoint } from './charts.js';

const DAY_MS = 86_400_000;
/** "All time" for totals: before any ledger row can exist. */
const BEGINNING = new Date(Date.UTC(2000, 0, 1));

export interface PartnerTotals {
  partner: Partner;
  clicks: number;
  leads: number;
  currencies: Record<string, CurrencyTotals>;
}

export interface DashboardData {
  partners: PartnerTotals[];
  series: SeriesPoint[];
  commissions: Commission[];
  leads: Customer[];
  sales: Sale[];
  refunds: Sale[];
  payouts: Payout[];
}

export interface DataRequest {
  livemode: boolean;
  days: number;
  now: Date;
  /** Only this partner's data (the portal, a partner's page). */
  partnerId?: string;
  /** Only this program's data. */
  programId?: string;
  /** How many of the latest events to show. */
  latest: number;
}

/** Everything a dashboard page shows, read through the public report and ledger APIs only. */
export async function loadDashboardData(attribution: Attribution, request: DataRequest): Promise<DashboardData> {
  const { livemode, partnerId, programId } = request;
  const tomorrow = new Date(Math.floor(request.now.getTime() / DAY_MS) * DAY_MS + DAY_MS);
  const since = new Date(tomorrow.getTime() - request.days * DAY_MS);
  const only = { ...(partnerId ? { partnerId } : {}), ...(programId ? { programId } : {}) };
  const storage = await attribution.storage();
  const [partners, totals, daily, commissions, leads, sales, payouts] = await Promise.all([
    partnerId ? attribution.partners.get(partnerId).then((p) => (p ? [p] : [])) : attribution.partners.list(),
    attribution.report({ from: BEGINNING, to: tomorrow, interval: 'all', livemode, ...only }),
    attribution.report({ from: since, to: tomorrow, interval: 'day', livemode, ...only }),
    attribution.commissions.list(only),
    storage.listLeads({ livemode, limit: request.latest, ...only }),
    attribution.sales.list({ livemode, ...only }),
    attribution.payouts.list({ livemode, ...only }),
  ]);
  const attributed = sales.filter((sale) => sale.partnerId !== null);
  return {
    // One program's view lists the partners in it: with codes or terms there, or data recorded there.
    partners: partners.filter((p) => !programId || p.programs[programId] || totals.some((row) => row.partnerId === p.id)).map((partner) => totalsOf(partner, totals)),
    series: seriesOf(daily, since, request.days),
    commissions: commissions.filter((c) => c.livemode === livemode).reverse(),
    leads,
    sales: attributed.slice(-request.latest).reverse(),
    refunds: attributed.filter((sale) => sale.amountRefunded > 0).slice(-request.latest).reverse(),
    payouts: payouts.reverse(),
  };
}

function totalsOf(partner: Partner, rows: readonly ReportRow[]): PartnerTotals {
  const row = rows.find((r) => r.partnerId === partner.id);
  return { partner, clicks: row?.clicks ?? 0, leads: row?.leads ?? 0, currencies: row?.currencies ?? {} };
}

function seriesOf(rows: readonly ReportRow[], since: Date, days: number): SeriesPoint[] {
  const points = Array.from({ length: days }, (_, i) => ({ day: new Date(since.getTime() + i * DAY_MS), clicks: 0, leads: 0, sales: 0 }));
  for (const row of rows) {
    const point = points[Math.round((row.period.getTime() - since.getTime()) / DAY_MS)];
    if (!point) continue;
    point.clicks += row.clicks;
    point.leads += row.leads;
    // A count of sales adds up across currencies; their amounts never do.
    point.sales += Object.values(row.currencies).reduce((sum, totals) => sum + totals.sales, 0);
  }
  return points;
}

/** Clicks, leads and sales over all the given partners. */
export function funnelOf(partners: readonly PartnerTotals[]): { clicks: number; leads: number; sales: number } {
  return partners.reduce(
    (sum, p) => ({ clicks: sum.clicks + p.clicks, leads: sum.leads + p.leads, sales: sum.sales + Object.values(p.currencies).reduce((n, t) => n + t.sales, 0) }),
    { clicks: 0, leads: 0, sales: 0 },
  );
}
