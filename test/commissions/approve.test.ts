import { describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { T0, charge, checkoutSession, event } from '../support/stripe-fixtures.js';
import { world } from '../support/world.js';

describe.each(backends())('approving by hand on $name', (backend) => {
  it('approves pending commissions before their hold ends, once, and leaves voided ones as they are', async () => {
    const w = await world(backend, undefined, { program: { holdDays: 30, reward: { type: 'percent', percent: 10 } } });
    for (const [index, id] of ['cs_a', 'cs_b'].entries()) {
      await w.deliver(event('checkout.session.completed', checkoutSession({ id, created: T0 + index * 60, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@buyers.example`, metadata: { sa_click_id: w.aliceClick } })));
    }
    const [first, second] = await w.attribution.commissions.list({ partnerId: w.alice });
    await w.attribution.commissions.void(second!.id, 'test order');
    expect(await w.attribution.commissions.approve([first!.id, second!.id])).toEqual({ approved: 1 });
    expect(await w.attribution.commissions.approve([first!.id])).toEqual({ approved: 0 });
    const after = await w.attribution.commissions.list({ partnerId: w.alice });
    expect(after.map((c) => c.status)).toEqual(['approved', 'voided']);
    expect(after[0]!.approvedAt).toEqual(w.attribution.options.clock());
    expect((await w.attribution.partners.list()).map((p) => p.name)).toEqual(['Alice', 'Bob']);
    expect((await (await w.attribution.storage()).listLeads({ partnerId: w.alice, livemode: false, limit: 1 })).map((c) => c.email)).toEqual(['cs_b@buyers.example']);
  });

  it('a commission voided by hand stays voided at 0 when its sale is later partly refunded', async () => {
    const w = await world(backend, undefined, { program: { holdDays: 30, reward: { type: 'percent', percent: 10 } } });
    await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_v', created: T0, payment_intent: 'pi_cs_v', customer: 'cus_v', customer_details: null, customer_email: 'v@buyers.example', metadata: { sa_click_id: w.aliceClick } })));
    const [commission] = await w.attribution.commissions.list({ partnerId: w.alice });
    expect(commission).toMatchObject({ status: 'pending', amount: 1000 });
    await w.attribution.commissions.void(commission!.id, 'test order');
    // Before the fix the refund's reconcile found a voided commission with a live reward and revived it as pending.
    await w.deliver(event('charge.refunded', charge({ id: 'ch_v', payment_intent: 'pi_cs_v', amount: 10000, amount_refunded: 4000 })));
    expect(await w.attribution.commissions.list({ partnerId: w.alice })).toEqual([expect.objectContaining({ id: commission!.id, status: 'voided', amount: 0, reason: 'test order' })]);
  });
});
