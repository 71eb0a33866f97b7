import { performance } from 'node:perf_hooks';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import { createAttribution } from '../src/core/attribution.js';
import { benchPool, envInt, freshSchema, log, median, round } from './support.js';

export interface ReportFigure {
  sizes: { partners: number; clicks: number; customers: number; sales: number };
  seedSeconds: number;
  /** Median of `select 1` through the same pool: one round trip, the floor of any report. */
  roundTripMs: number;
  onePartnerMs: number;
  allPartnersMs: number;
  allPartnersRows: number;
  /** Ratios: one partner / round trip, all partners / one partner, one partner / the 50 ms target. */
  onePartnerVsRoundTrip: number;
  allVsOnePartner: number;
  onePartnerVsTarget: number;
  plans: Array<{ label: string; sql: string; plan: string }>;
}

const SCHEMA = 'bench_report';
const T = (table: string) => sql.id(SCHEMA, `sa_${table}`);
const DAY_MS = 86_400_000;
/** Data spans 180 days ending now; the report asks for the last 90. */
const SPAN_DAYS = 180;

/**
 * Seeds a large program with set-based batched INSERTs (Postgres generates the rows, pg sends one
 * statement per batch) and times `attribution.report()` for one partner and for all of them.
 */
export async function benchReport(): Promise<ReportFigure> {
  const sizes = {
    partners: envInt('BENCH_PARTNERS', 1000),
    clicks: envInt('BENCH_CLICKS', 1_000_000),
    customers: envInt('BENCH_CUSTOMERS', 100_000),
    sales: envInt('BENCH_SALES', 100_000),
  };
  const repeats = envInt('BENCH_REPORT_REPEATS', 7);
  const batch = envInt('BENCH_BATCH', 100_000);

  const pool = benchPool(4);
  let capture: CompiledQuery[] | undefined;
  const db = new Kysely<any>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === 'query') capture?.push(event.query);
    },
  });
  await freshSchema(db, SCHEMA);
  const attribution = createAttribution({ database: db, schema: SCHEMA, clicks: { ipSalt: 'bench-salt' } });
  await attribution.migrate();

  const seedStarted = performance.now();
  const now = Date.now();
  const start = new Date(now - SPAN_DAYS * DAY_MS);
  const inBatches = async (label: string, total: number, insert: (from: number, to: number) => Promise<unknown>) => {
    for (let from = 1; from <= total; from += batch) {
      const to = Math.min(total, from + batch - 1);
      await insert(from, to);
      log(`seed ${label}: ${progressBar(to / total)} ${to.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`);
    }
  };
  // Row g's time: spread evenly over the span, so every day has its share.
  const spread = (total: number) => sql`${start}::timestamptz + (g::float8 / ${total}) * interval '${sql.raw(String(SPAN_DAYS))} days'`;
  await inBatches('partners', sizes.partners, (from, to) =>
    sql`insert into ${T('partners')} (id, name, email, created_at)
      select 'prt_' || g, 'Partner ' || g, 'partner' || g || '@example.com', ${start}::timestamptz
      from generate_series(${from}::int, ${to}::int) g`.execute(db),
  );
  await inBatches('links', sizes.partners, (from, to) =>
    sql`insert into ${T('links')} (code, partner_id) select 'p' || g, 'prt_' || g from generate_series(${from}::int, ${to}::int) g`.execute(db),
  );
  await inBatches('clicks', sizes.clicks, (from, to) =>
    sql`insert into ${T('clicks')} (id, partner_id, link_code, landing_url, user_agent, created_at)
      select 'clk_' || g, 'prt_' || (1 + g % ${sizes.partners}), 'p' || (1 + g % ${sizes.partners}),
        'https://shop.example/?via=p' || (1 + g % ${sizes.partners}), 'Mozilla/5.0', ${spread(sizes.clicks)}
      from generate_series(${from}::int, ${to}::int) g`.execute(db),
  );
  // Four customers in five came through a partner (a click of theirs); the rest are direct.
  await inBatches('customers', sizes.customers, (from, to) =>
    sql`insert into ${T('customers')} (id, livemode, external_id, stripe_customer_id, email, partner_id, click_id, attributed_by, attributed_at, created_at)
      select 'cst_' || g, true, 'user_' || g, 'cus_' || g, 'buyer' || g || '@example.com',
        case when g % 5 <> 0 then 'prt_' || (1 + g % ${sizes.partners}) end,
        case when g % 5 <> 0 then 'clk_' || (1 + (g * 7) % ${sizes.clicks}) end,
        case when g % 5 <> 0 then 'click' end,
        case when g % 5 <> 0 then ${spread(sizes.customers)} end,
        ${spread(sizes.customers)}
      from generate_series(${from}::int, ${to}::int) g`.execute(db),
  );
  await inBatches('sales', sizes.sales, (from, to) =>
    sql`insert into ${T('sales')} (id, livemode, customer_id, partner_id, stripe_payment_intent_id, amount, currency, amount_refunded, occurred_at)
      select 'sal_' || g, true, 'cst_' || (1 + (g - 1) % ${sizes.customers}),
        case when ((1 + (g - 1) % ${sizes.customers}) % 5) <> 0 then 'prt_' || (1 + (1 + (g - 1) % ${sizes.customers}) % ${sizes.partners}) end,
        'pi_' || g, 2000 + (g % 50) * 100, case when g % 10 = 0 then 'eur' else 'usd' end,
        case when g % 20 = 0 then 1000 else 0 end, ${spread(sizes.sales)}
      from generate_series(${from}::int, ${to}::int) g`.execute(db),
  );
  await inBatches('commissions', sizes.sales, (from, to) =>
    sql`insert into ${T('commissions')} (id, livemode, partner_id, customer_id, sale_id, kind, status, amount, currency, hold_until, earned_at)
      select 'com_' || s.id, true, s.partner_id, s.customer_id, s.id, 'sale',
        (array['pending', 'approved', 'paid', 'voided'])[1 + (substr(s.id, 5)::int % 4)], s.amount * 3 / 10, s.currency,
        s.occurred_at + interval '30 days', s.occurred_at
      from ${T('sales')} s where s.partner_id is not null and substr(s.id, 5)::int between ${from}::int and ${to}::int`.execute(db),
  );
  await sql`analyze`.execute(db);
  const seedSeconds = round((performance.now() - seedStarted) / 1000, 1);
  log(`seeded in ${seedSeconds} s`);

  const roundTrips: number[] = [];
  for (let i = 0; i < 20; i += 1) {
    const t = performance.now();
    await sql`select 1`.execute(db);
    roundTrips.push(performance.now() - t);
  }
  const from = new Date(now - 90 * DAY_MS);
  const to = new Date(now);
  const onePartner = 'prt_42';
  const timeReport = async (partnerId?: string) => {
    const times: number[] = [];
    let rows = 0;
    // The first call opens connections and warms the cache: not counted.
    for (let i = 0; i <= repeats; i += 1) {
      const t = performance.now();
      rows = (await attribution.report({ from, to, ...(partnerId ? { partnerId } : {}) })).length;
      if (i > 0) times.push(performance.now() - t);
    }
    return { ms: round(median(times), 1), rows };
  };
  const one = await timeReport(onePartner);
  log(`report one partner: ${one.ms} ms (${one.rows} rows)`);
  const all = await timeReport();
  log(`report all partners: ${all.ms} ms (${all.rows} rows)`);

  const plans: ReportFigure['plans'] = [];
  for (const [label, partnerId] of [['one partner', onePartner], ['all partners', undefined]] as const) {
    capture = [];
    await attribution.report({ from, to, ...(partnerId ? { partnerId } : {}) });
    const queries = capture;
    capture = undefined;
    for (const query of queries) {
      const table = /from "[^"]+"\."sa_(\w+)"/.exec(query.sql)?.[1] ?? '?';
      const explained = await pool.query(`explain (analyze, costs off, timing off, summary on) ${query.sql}`, [...query.parameters]);
      plans.push({ label: `${label}: ${table}`, sql: query.sql, plan: explained.rows.map((row) => row['QUERY PLAN']).join('\n') });
    }
  }
  await attribution.close();
  await db.destroy();

  const roundTripMs = round(median(roundTrips), 2);
  return {
    sizes,
    seedSeconds,
    roundTripMs,
    onePartnerMs: one.ms,
    allPartnersMs: all.ms,
    allPartnersRows: all.rows,
    onePartnerVsRoundTrip: round(one.ms / roundTripMs, 1),
    allVsOnePartner: round(all.ms / one.ms, 1),
    onePartnerVsTarget: round(one.ms / 50, 2),
    plans,
  };
}

function progressBar(fraction: number, width = 24): string {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%`;
}
