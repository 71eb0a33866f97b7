import { describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { charge, checkoutSession, event, invoice } from '../support/stripe-fixtures.js';
import { world } from '../support/world.js';

describe.each(backends())('hooks on $name', (backend) => {
  it('fire after the commit with typed payloads; a throwing hook never loses or repeats ledger data', async () => {
    const errors: string[] = [];
    const w = await world(backend, undefined, {
      program: { holdDays: 30, reward: { type: 'percent', percent: 30 } },
      onError: (_error, during) => errors.push(during),
    });
    const seen: string[] = [];
    w.attribution.on('sale.created', async ({ sale }) => {
      // Called after the commit: the sale is already visible from outside the transaction.
      const listed = await w.attribution.sales.list({ livemode: false });
      seen.push(`sale ${sale.amount} visible=${listed.some((s) => s.id === sale.id)}`);
    });
    w.attribution.on('lead.created', ({ customer }) => void seen.push(`lead ${customer.stripeCustomerId}`));
    w.attribution.on('commission.created', ({ commission }) => void seen.push(`commission ${commission.kind} ${commission.amount}`));
    w.attribution.on('commission.voided', ({ commission }) => void seen.push(`voided ${commission.reason}`));
    w.attribution.on('sale.created', () => {
      throw new Error('the merchant’s Slack webhook is down');
    });

    const completed = event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } }));
    expect((await w.deliver(completed)).status).toBe(200);
    expect((await w.deliver(completed)).status).toBe(200); // a repeat raises nothing
    await w.deliver(event('charge.refunded', charge({ amount: 10000, amount_refunded: 10000, refunded: true })));

    expect(seen).toEqual(['lead cus_buyer', 'sale 10000 visible=true', 'commission sale 3000', 'voided refunded']);
    expect(errors).toEqual(['the sale.created hook']);
    expect(await w.attribution.sales.list({ livemode: false })).toHaveLength(1);
  });

  it('a sale credited later to its partner is announced once, with its commission then', async () => {
    const w = await world(backend, undefined, { program: { holdDays: 30, reward: { type: 'percent', percent: 30 } } });
    const seen: string[] = [];
    w.attribution.on('sale.created', ({ sale }) => void seen.push(`sale ${sale.partnerId ? 'attributed' : 'unattributed'}`));
    w.attribution.on('commission.created', ({ commission }) => void seen.push(`commission ${commission.amount}`));
    await w.deliver(event('invoice.paid', invoice()));
    await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_sub', mode: 'subscription', payment_intent: null, invoice: 'in_1', subscription: 'sub_1', metadata: { sa_click_id: w.aliceClick } })));
    expect(seen).toEqual(['sale unattributed', 'commission 3000']);
  });

  it('a rolled-back transaction delivers nothing', async () => {
    let failures = 0;
    const w = await world(
      backend,
      (real) =>
        new Proxy(real, {
          get(target, property) {
            if (property !== 'transaction') return Reflect.get(target, property, target);
            return (fn: Parameters<typeof real.transaction>[0]) =>
              target.transaction(async (tx) => {
                const result = await fn(tx);
                if (failures-- > 0) throw new Error('commit failed');
                return result;
              });
          },
        }),
    );
    failures = 1;
    const seen: string[] = [];
    w.attribution.on('sale.created', ({ sale }) => void seen.push(sale.id));
    const completed = event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } }));
    expect((await w.deliver(completed)).status).toBe(500);
    expect(seen).toEqual([]);
    expect((await w.deliver(completed)).status).toBe(200);
    expect(seen).toHaveLength(1);
  });
});
