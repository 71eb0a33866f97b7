import { sql } from 'kysely';
import { toAmount, type Amount } from '../kernel/money.js';
import type { CommissionStatus } from './commissions.js';
import type { Db } from './rows.js';

export type ReportInterval = 'day' | 'week' | 'month' | 'all';

export interface ReportRequest {
  from: Date;
  /** Exclusive. */
  to: Date;
  interval: ReportInterval;
  livemode: boolean;
  partnerId?: string;
  /** Only this program's clicks, leads, events, sales and commissions. Default: every program's. */
  programId?: string;
}

export interface CurrencyTotals {
  /** Number of sales. */
  sales: number;
  /** Untaxed sale amounts as recorded. */
  revenue: Amount;
  /** Untaxed: refunded to the card plus credited by credit notes. */
  refunded: Amount;
  /** Net commission amounts (adjustments included) by status. */
  commissions: Record<CommissionStatus, Amount>;
}

export interface ReportRow {
  partnerId: string;
  /** Start of the period (UTC); `from` for interval `all`. */
  period: Date;
  clicks: number;
  leads: number;
  /** Milestones (`trackEvent`) by name. */
  events: Record<string, number>;
  /** Never added across currencies. */
  currencies: Record<string, CurrencyTotals>;
}

/**
 * Reports from SQL aggregates. Read only: five independent statements, which on a pool run at once;
 * inside `transaction` they see one snapshot.
 */
export interface ReportStore {
  /** Clicks, leads, sales, revenue, refunds and commissions per partner and period, from SQL aggregates. */
  report(request: ReportRequest): Promise<ReportRow[]>;
}

/** The report store on the library's tables. */
export function reportStore(db: Db): ReportStore {
  return {
    async report(request: ReportRequest): Promise<ReportRow[]> {
      const period = (column: string) =>
        request.interval === 'all' ? sql<Date>`${request.from}::timestamptz` : sql<Date>`date_trunc(${request.interval}, ${sql.ref(column)}, 'UTC')`;
      const partner = request.partnerId;
      const program = request.programId;
      // Clicks (either mode: a visit has none) and leads (customers credited in the period), per partner and period.
      const counted = (table: 'clicks' | 'customers', column: 'created_at' | 'attributed_at') =>
        db
          .selectFrom(table as 'clicks')
          .select(['partner_id', period(column).as('period'), (eb) => eb.fn.countAll<string | number>().as('n')])
          .where('partner_id', 'is not', null)
          .where(sql.ref(column), '>=', request.from)
          .where(sql.ref(column), '<', request.to)
          .$if(table === 'customers', (q) => q.where(sql.ref('livemode'), '=', request.livemode))
          .$if(partner !== undefined, (q) => q.where('partner_id', '=', partner!))
          .$if(program !== undefined, (q) => q.where('program_id', '=', program!))
          .groupBy(['partner_id', sql`2`])
          .execute();
      // Independent reads: on a pool they run at once, so the report costs one round trip, not five.
      const [clicks, leads, milestones, sales, commissions] = await Promise.all([
        counted('clicks', 'created_at'),
        counted('customers', 'attributed_at'),
        db
          .selectFrom('milestones')
          .select((eb) => ['partner_id', 'name', period('occurred_at').as('period'), eb.fn.countAll<string | number>().as('n')])
          .where('partner_id', 'is not', null)
          .where('livemode', '=', request.livemode)
          .where('occurred_at', '>=', request.from)
          .where('occurred_at', '<', request.to)
          .$if(partner !== undefined, (q) => q.where('partner_id', '=', partner!))
          .$if(program !== undefined, (q) => q.where('program_id', '=', program!))
          .groupBy(['partner_id', 'name', sql`3`])
          .execute(),
        db
          .selectFrom('sales')
          .select((eb) => [
            'partner_id',
            'currency',
            period('occurred_at').as('period'),
            eb.fn.countAll<string | number>().as('n'),
            eb.fn.sum<string | number>('amount').as('revenue'),
            eb.fn.sum<string | number>(sql`amount_refunded + amount_credited`).as('refunded'),
          ])
          .where('partner_id', 'is not', null)
          .where('livemode', '=', request.livemode)
          .where('occurred_at', '>=', request.from)
          .where('occurred_at', '<', request.to)
          .$if(partner !== undefined, (q) => q.where('partner_id', '=', partner!))
          .$if(program !== undefined, (q) => q.where('program_id', '=', program!))
          .groupBy(['partner_id', 'currency', sql`3`])
          .execute(),
        db
          .selectFrom('commissions')
          .select((eb) => ['partner_id', 'currency', 'status', period('earned_at').as('period'), eb.fn.sum<string | number>('amount').as('total')])
          .where('livemode', '=', request.livemode)
          .where('earned_at', '>=', request.from)
          .where('earned_at', '<', request.to)
          .$if(partner !== undefined, (q) => q.where('partner_id', '=', partner!))
          .$if(program !== undefined, (q) => q.where('program_id', '=', program!))
          .groupBy(['partner_id', 'currency', 'status', sql`4`])
          .execute(),
      ]);

      const rows = new Map<string, ReportRow>();
      const row = (partnerId: string, at: Date) => {
        const key = `${partnerId}|${new Date(at).toISOString()}`;
        let found = rows.get(key);
        if (!found) rows.set(key, (found = { partnerId, period: new Date(at), clicks: 0, leads: 0, events: {}, currencies: {} }));
        return found;
      };
      const totals = (target: ReportRow, currency: string) =>
        (target.currencies[currency] ??= { sales: 0, revenue: 0, refunded: 0, commissions: { pending: 0, approved: 0, held: 0, paid: 0, voided: 0 } });
      for (const c of clicks) row(c.partner_id, c.period).clicks = Number(c.n);
      for (const l of leads) row(l.partner_id, l.period).leads = Number(l.n);
      for (const m of milestones) row(m.partner_id!, m.period).events[m.name] = Number(m.n);
      for (const s of sales) {
        const t = totals(row(s.partner_id!, s.period), s.currency);
        t.sales = Number(s.n);
        t.revenue = toAmount(s.revenue);
        t.refunded = toAmount(s.refunded);
      }
      for (const c of commissions) totals(row(c.partner_id, c.period), c.currency).commissions[c.status as CommissionStatus] = toAmount(c.total);
      return [...rows.values()].sort((a, b) => a.period.getTime() - b.period.getTime() || a.partnerId.localeCompare(b.partnerId));
    },
  };
}
