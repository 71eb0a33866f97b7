import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { T0, charge, checkoutSession, event } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

/**
 * One customer's deliveries all at once (ARCHITECTURE.md, lock order): purchases, refunds of some
 * of them, and a late earlier purchase that moves the reward window while the others commission
 * and refund. On Postgres they truly run concurrently; every path takes the customer's row, then a
 * sale's, then its commission's, so none may deadlock (40P01), and the ledger equals in-order delivery.
 */
const DAY = 86_400;
const ROUNDS = 6;
const program = { program: { holdDays: 30, reward: { type: 'percent' as const, percent: 10, duration: { months: 1 } } } };

/** Days after T0 of the customer's purchases; day 0 (May 1) is the earliest, so the window ends June 1 (day 31). */
const PURCHASE_DAYS = [0, 3, 5, 10, 20, 40, 45];
/** Cumulative refunds by purchase day, of a 10 000 charge. */
const REFUNDS: Record<number, number> = { 5: 4000, 20: 10000, 40: 2500 };

const purchase = (w: World, day: number) =>
  event(
    'checkout.session.completed',
    checkoutSession({ id: `cs_${day}`, payment_intent: `pi_${day}`, created: T0 + day * DAY, metadata: { sa_click_id: w.aliceClick } }),
  );
const refund = (day: number, amount: number) =>
  event('charge.refunded', charge({ id: `ch_${day}`, payment_intent: `pi_${day}`, amount: 10000, amount_refunded: amount, refunded: amount === 10000 }));

/** Net commission by purchase day (0 for a sale without one); every commission that still earns is pending. */
async function ledger(w: World): Promise<Record<number, number>> {
  const dayOf = new Map((await w.attribution.sales.list({ livemode: false })).map((sale) => [sale.id, (sale.occurredAt.getTime() / 1000 - T0) / DAY]));
  const net: Record<number, number> = Object.fromEntries([...dayOf.values()].map((day) => [day, 0]));
  for (const commission of await w.attribution.commissions.list()) {
    const day = dayOf.get(commission.saleId!)!;
    net[day] = (net[day] ?? 0) + commission.amount;
    if (commission.amount > 0) expect(commission.status).toBe('pending');
  }
  return net;
}

describe.each(backends())('one customer’s concurrent deliveries on $name', (backend) => {
  it('sales, refunds and a late earlier sale at once: no deadlock, the in-order ledger', async () => {
    for (let round = 0; round < (backend.concurrent ? ROUNDS : 1); round++) {
      const w = await world(backend, undefined, program);
      // The later purchases first, so the window starts late and the earlier one moves it back.
      await w.deliver(purchase(w, 45));
      const rest = [
        ...PURCHASE_DAYS.filter((day) => day !== 45).map((day) => purchase(w, day)),
        ...Object.entries(REFUNDS).map(([day, amount]) => refund(Number(day), amount)),
        refund(45, 10000),
      ];
      const statuses = await Promise.all(rest.map(async (sent) => (await w.deliver(sent)).status));
      expect(statuses).toEqual(rest.map(() => 200));
      // A refund that overtook its sale's uncommitted insert is parked: the cron applies it.
      await w.attribution.applyParked();
      expect(await ledger(w)).toEqual({ 0: 1000, 3: 1000, 5: 600, 10: 1000, 20: 0, 40: 0, 45: 0 });
    }
  });

  it('a deadlock all the same answers 5xx for Stripe to retry, and rolls everything back', async () => {
    const w = await world(backend, undefined, program);
    // Postgres's own deadlock error, raised where a commission is written: the event's last write.
    const fn = sql.id(w.schema, 'deadlock_once');
    await sql`create function ${fn}() returns trigger language plpgsql as $$
      begin raise exception 'deadlock detected' using errcode = 'deadlock_detected'; end $$`.execute(backend.db);
    await sql`create trigger deadlock_once before insert on ${sql.id(w.schema, 'sa_commissions')} for each row execute function ${fn}()`.execute(backend.db);
    const sent = purchase(w, 0);
    const failed = await w.deliver(sent);
    expect(failed.status).toBe(500);
    expect(await Promise.all(['sa_sales', 'sa_commissions', 'sa_webhook_events', 'sa_customers'].map((table) => w.count(table)))).toEqual([0, 0, 0, 0]);

    await sql`drop function ${fn}() cascade`.execute(backend.db);
    expect((await w.deliver(sent)).status).toBe(200);
    expect(await ledger(w)).toEqual({ 0: 1000 });
  });
});
