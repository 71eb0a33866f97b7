import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SaleReward } from '../../src/core/commissions/rewards.js';
import { backends } from '../support/backends.js';
import { T0, checkoutSession, event } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

/**
 * DESIGN §5, as a property: a customer's purchases delivered in any order leave the same ledger as
 * delivered in Stripe's order — per sale, the net of its commission rows (voids at 0, clawbacks
 * negative). One world for every run (a PGlite schema takes seconds to migrate): each run is two
 * fresh customers, one fed in order and one in a shuffled order, under the partner's own reward.
 * Purchases run past the click's 90 days: one made after it credits no one by itself, yet is the
 * partner's once an earlier purchase made while the click was live credits the customer, whichever
 * is delivered first.
 */
const DAY = 86_400;

interface Purchase {
  day: number;
  amount: number;
}

const purchases = fc.uniqueArray(fc.record({ day: fc.integer({ min: 0, max: 150 }), amount: fc.integer({ min: 1, max: 50_000 }) }), {
  minLength: 2,
  maxLength: 5,
  selector: (p) => p.day,
});
const duration = fc.oneof(fc.constant('once' as const), fc.constant('lifetime' as const), fc.integer({ min: 1, max: 2 }).map((months) => ({ months })));
const rate = fc.oneof(fc.constant({ type: 'percent' as const, percent: 12.5 }), fc.constant({ type: 'flat' as const, amount: 700 }));

let run = 0;

/** Delivers the purchases in `order`, paying out everything approved after `payoutAfter` deliveries; returns each purchase's partner and net commission. */
async function deliverAll(w: World, list: readonly Purchase[], order: readonly number[], payoutAfter: number | null): Promise<Array<[string | null, number]>> {
  const customer = `cus_prop_${++run}`;
  const { clickId } = await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice', headers: { 'user-agent': 'Mozilla/5.0 Safari/605.1.15' } });
  const session = (index: number) => `cs_${customer}_${index}`;
  for (const [step, index] of order.entries()) {
    if (step === payoutAfter) {
      // Earlier runs' customers get no more purchases: paying them out too changes nothing compared.
      const ids = (await w.attribution.commissions.list({ partnerId: w.alice })).filter((c) => c.status === 'pending').map((c) => c.id);
      await w.attribution.commissions.approve(ids);
      await w.attribution.commissions.markPaid(ids);
    }
    const { day, amount } = list[index]!;
    const completed = checkoutSession({
      id: session(index),
      payment_intent: `pi_${customer}_${index}`,
      customer,
      customer_details: null,
      customer_email: `${customer}@example.com`,
      created: T0 + day * DAY,
      amount_subtotal: amount,
      amount_total: amount,
      metadata: { sa_click_id: clickId! },
    });
    expect((await w.deliver(event('checkout.session.completed', completed))).status).toBe(200);
  }
  const sales = (await w.attribution.sales.list({ livemode: false })).filter((s) => s.stripeCheckoutSessionId?.startsWith(`cs_${customer}_`));
  const commissions = await w.attribution.commissions.list({ partnerId: w.alice });
  return list.map((_, index) => {
    const sale = sales.find((s) => s.stripeCheckoutSessionId === session(index))!;
    return [sale.partnerId, commissions.filter((c) => c.saleId === sale.id).reduce((sum, c) => sum + c.amount, 0)];
  });
}

describe.each(backends().slice(0, 1))('reward windows by Stripe time, any delivery order, on $name', (backend) => {
  it('a customer’s purchases delivered in any order earn what in-order delivery earns, per sale', { timeout: 600_000 }, async () => {
    const w = await world(backend, undefined, { program: { holdDays: 30, reward: { type: 'percent', percent: 10 } } });
    await fc.assert(
      fc.asyncProperty(
        purchases.chain((list) =>
          fc.record({
            list: fc.constant(list),
            order: fc.shuffledSubarray([...list.keys()], { minLength: list.length, maxLength: list.length }),
            reward: fc.record({ rate, duration }),
            payoutAfter: fc.option(fc.integer({ min: 1, max: list.length - 1 }), { nil: null }),
          }),
        ),
        async ({ list, order, reward, payoutAfter }) => {
          await w.attribution.partners.setReward(w.alice, { ...reward.rate, duration: reward.duration } satisfies SaleReward);
          const stripeOrder = [...list.keys()].sort((a, b) => list[a]!.day - list[b]!.day);
          const inOrder = await deliverAll(w, list, stripeOrder, payoutAfter);
          const shuffled = await deliverAll(w, list, order, payoutAfter);
          // In order, the click's partner has every purchase exactly when the first was made while the click was live.
          const live = Math.min(...list.map((p) => p.day)) < 90;
          expect(inOrder.map(([partnerId]) => partnerId)).toEqual(list.map(() => (live ? w.alice : null)));
          expect(shuffled).toEqual(inOrder);
        },
      ),
      { numRuns: 12 },
    );
  });
});
