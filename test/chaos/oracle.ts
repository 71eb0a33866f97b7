import type { Journey, PartnerName, Payment } from './journeys.js';

/**
 * The ledger a set of journeys must produce, from the rules in DESIGN.md written out again in a
 * few lines: it never calls the library, so a bug there cannot hide in here too.
 */

/** A rate, and how long it pays from the customer's first sale by Stripe time (default for life). */
export type Terms = ({ bp: number } | { flat: number }) & { duration?: 'once' | { months: number } };

export interface ChaosProgram {
  terms: Record<PartnerName, Terms>;
  /** Paid once per attributed customer. */
  leadReward: number;
}

export interface PartnerLedger {
  sales: number;
  /** Untaxed. */
  revenue: number;
  refunded: number;
  disputed: number;
  /** By `kind:status`, the number and total of commissions. */
  commissions: Record<string, { count: number; amount: number }>;
}

export type Ledger = Record<PartnerName | 'none', PartnerLedger>;

export const emptyLedger = (): Ledger => ({
  ana: emptyPartner(),
  ben: emptyPartner(),
  cy: emptyPartner(),
  dee: emptyPartner(),
  eli: emptyPartner(),
  none: emptyPartner(),
});

function emptyPartner(): PartnerLedger {
  return { sales: 0, revenue: 0, refunded: 0, disputed: 0, commissions: {} };
}

export function addCommission(ledger: PartnerLedger, key: string, amount: number): void {
  const entry = (ledger.commissions[key] ??= { count: 0, amount: 0 });
  entry.count += 1;
  entry.amount += amount;
}

/** `a / b` rounded half up, for non-negative integers, exactly. */
function roundHalfUp(a: bigint, b: bigint): number {
  return Number((2n * a + b) / (2n * b));
}

/** A share of the tax-inclusive charge, as a share of the untaxed price. */
const untaxedShare = (payment: Payment, charged: number) =>
  Math.min(roundHalfUp(BigInt(payment.price) * BigInt(Math.min(charged, payment.price + payment.tax)), BigInt(payment.price + payment.tax)), payment.price);

/** `seconds` plus whole calendar months in UTC, clamped to the end of a shorter month. */
function plusMonths(seconds: number, months: number): number {
  const date = new Date(seconds * 1000);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + months);
  date.setUTCDate(Math.min(day, new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate()));
  return date.getTime() / 1000;
}

/** Whether the `n`-th payment earns, in a window opened by `payments[first]` (payments are in Stripe's order). */
function inWindow(terms: Terms, payments: readonly Payment[], n: number, first: number): boolean {
  const duration = terms.duration ?? 'lifetime';
  if (duration === 'lifetime') return n >= first;
  if (duration === 'once') return n === first;
  return n >= first && payments[n]!.at < plusMonths(payments[first]!.at, duration.months);
}

/** The sale's key in Stripe: its invoice, or its checkout session. */
export const saleKey = (journey: Journey, n: number) => `${journey.payments[n]!.kind === 'invoice' ? 'in' : 'cs'}_chaos_${journey.index}_${n}`;

/** One commission the journeys must produce, as the ledger shows it. */
export interface ExpectedCommission {
  partner: PartnerName;
  kind: 'lead' | 'sale';
  status: 'pending' | 'held' | 'voided';
  amount: number;
}

/** What a payment comes to after its refunds and disputes: untaxed, as the sale records it. */
function settled(payment: Payment): { refunded: number; disputed: number } {
  const refunded = payment.refunds.length ? untaxedShare(payment, Math.max(...payment.refunds.map((refund) => refund.cumulative))) : 0;
  const dispute = payment.dispute;
  return { refunded, disputed: dispute && dispute.outcome !== 'won' ? untaxedShare(payment, dispute.amount) : 0 };
}

/**
 * Every commission, by what it rewards: `lead:<journey>` (the customer) or `sale:<saleKey>`.
 * A sale absent here earns none (no partner, a flat reward on a proration, outside the window).
 */
export function expectedCommissions(journeys: readonly Journey[], program: ChaosProgram): Map<string, ExpectedCommission> {
  const expected = new Map<string, ExpectedCommission>();
  for (const journey of journeys) {
    const partner = journey.partner;
    if (!partner) continue;
    expected.set(`lead:${journey.index}`, { partner, kind: 'lead', status: 'pending', amount: program.leadReward });
    const terms = program.terms[partner];
    for (const [n, payment] of journey.payments.entries()) {
      // A flat reward pays per sale, and not on a proration.
      const numerator = 'bp' in terms ? BigInt(payment.price) * BigInt(terms.bp) : payment.proration ? 0n : BigInt(terms.flat) * 10_000n;
      if (numerator === 0n) continue;
      // When the first payment comes last, later sales that earned lose it again: voided rows of 0
      // (no payout happens in the replay), as many as delivery order made; `readCommissions` leaves them out.
      if (!inWindow(terms, journey.payments, n, 0)) continue;
      const { refunded, disputed } = settled(payment);
      const dispute = payment.dispute;
      const remaining = payment.price - refunded - (dispute?.outcome === 'lost' ? disputed : 0);
      const amount = remaining > 0 ? roundHalfUp(numerator * BigInt(remaining), BigInt(payment.price) * 10_000n) : 0;
      const status = amount === 0 ? 'voided' : dispute?.outcome === 'open' ? 'held' : 'pending';
      expected.set(`sale:${saleKey(journey, n)}`, { partner, kind: 'sale', status, amount });
    }
  }
  return expected;
}

/** One sale as the ledger must show it, by `saleKey`. */
export interface ExpectedSale {
  partner: PartnerName | 'none';
  amount: number;
  refunded: number;
  disputed: number;
}

/** Every sale: its partner (`'none'` when unattributed) and its untaxed amount, refunds and disputes. */
export function expectedSales(journeys: readonly Journey[]): Map<string, ExpectedSale> {
  return new Map(journeys.flatMap((journey) => journey.payments.map((payment, n) => [saleKey(journey, n), { partner: journey.partner ?? 'none', amount: payment.price, ...settled(payment) }] as const)));
}

export function expectedLedger(journeys: readonly Journey[], program: ChaosProgram): Ledger {
  const ledger = emptyLedger();
  for (const journey of journeys) {
    const row = ledger[journey.partner ?? 'none'];
    for (const payment of journey.payments) {
      const { refunded, disputed } = settled(payment);
      row.sales += 1;
      row.revenue += payment.price;
      row.refunded += refunded;
      row.disputed += disputed;
    }
  }
  for (const commission of expectedCommissions(journeys, program).values()) addCommission(ledger[commission.partner], `${commission.kind}:${commission.status}`, commission.amount);
  return ledger;
}

/**
 * Every entry on which two keyed lists differ, one line each: missing, unexpected, or which
 * fields differ (`sale:cs_chaos_7_0 status: pending ≠ voided`).
 */
export function entryDifferences<T extends object>(expected: ReadonlyMap<string, T>, actual: ReadonlyMap<string, T | T[]>): string[] {
  const found: string[] = [];
  for (const [key, want] of expected) {
    const got = actual.get(key);
    if (got === undefined) found.push(`${key}: missing`);
    else if (Array.isArray(got)) found.push(`${key}: ${got.length} entries, not one`);
    else {
      for (const field of Object.keys(want) as Array<keyof T>) {
        if (want[field] !== got[field]) found.push(`${key} ${String(field)}: ${String(want[field])} ≠ ${String(got[field])}`);
      }
    }
  }
  for (const key of actual.keys()) if (!expected.has(key)) found.push(`${key}: unexpected`);
  return found;
}

/** Every figure on which two ledgers differ, as `partner.field: expected ≠ actual`. */
export function differences(expected: Ledger, actual: Ledger): string[] {
  const found: string[] = [];
  for (const partner of Object.keys(expected) as Array<keyof Ledger>) {
    const want = expected[partner];
    const got = actual[partner];
    for (const field of ['sales', 'revenue', 'refunded', 'disputed'] as const) {
      if (want[field] !== got[field]) found.push(`${partner}.${field}: ${want[field]} ≠ ${got[field]}`);
    }
    for (const key of new Set([...Object.keys(want.commissions), ...Object.keys(got.commissions)])) {
      const a = want.commissions[key] ?? { count: 0, amount: 0 };
      const b = got.commissions[key] ?? { count: 0, amount: 0 };
      if (a.count !== b.count || a.amount !== b.amount) found.push(`${partner}.${key}: ${a.count}×${a.amount} ≠ ${b.count}×${b.amount}`);
    }
  }
  return found;
}
