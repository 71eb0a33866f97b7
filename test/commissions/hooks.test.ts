import { describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { charge, checkoutSession, event, invoice, T0 } from '../support/stripe-fixtures.js';
import { world } from '../support/world.js';

describe.each(backends())('hooks on $name', (backend) => {
  it('fire after the commit with typed payloads, in order per customer; a throwing hook never loses or repeats ledger data, and its event is retried', async () => {
    const errors: string[] = [];
    let now = new Date((T0 - 3600) * 1000);
    const w = await world(backend, undefined, {
      program: { holdDays: 30, reward: { type: 'percent', percent: 30 } },
      onError: (_error, during) => errors.push(during),
      clock: () => now,
      outbox: { worker: false },
    });
    const seen: string[] = [];
    const handled = new Set<string>();
    w.attribution.on('sale.created', async ({ sale }, { id }) => {
      // Delivery is at least once: a handler dedupes on the event's stable id.
      if (handled.has(id)) return;
      handled.add(id);
      // Called after the commit: the sale is already visible from outside the transaction.
      const listed = await w.attribution.sales.list({ livemode: false });
      seen.push(`sale ${sale.amount} visible=${listed.some((s) => s.id === sale.id)} at ${sale.createdAt instanceof Date}`);
    });
    w.attribution.on('lead.created', ({ customer }) => void seen.push(`lead ${customer.stripeCustomerId}`));
    w.attribution.on('commission.created', ({ commission }) => void seen.push(`commission ${commission.kind} ${commission.amount} ${typeof commission.exactNumerator}`));
    w.attribution.on('commission.voided', ({ commission }) => void seen.push(`voided ${commission.reason}`));
    let slackDown = true;
    w.attribution.on('sale.created', (_payload, { attempt }) => {
      if (slackDown) throw new Error('the merchant’s Slack webhook is down');
      seen.push(`slack on attempt ${attempt}`);
    });

    const completed = event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: w.aliceClick } }));
    expect((await w.deliver(completed)).status).toBe(200);
    expect((await w.deliver(completed)).status).toBe(200); // a repeat raises nothing
    await w.deliver(event('charge.refunded', charge({ amount: 10000, amount_refunded: 10000, refunded: true })));
    expect(seen).toEqual([]); // nothing is delivered inside the webhook's answer
    await w.attribution.outbox.drain();

    // The customer's later events wait behind the failed one: their order is kept.
    expect(seen).toEqual(['lead cus_buyer', 'sale 10000 visible=true at true']);
    expect(errors).toEqual(['the sale.created hook']);
    expect(await w.attribution.outbox.status()).toMatchObject({ failing: 1, dead: 0, lastError: 'the merchant’s Slack webhook is down' });
    // Before its backoff is over, nothing more is tried.
    expect(await w.attribution.outbox.drain()).toEqual({ delivered: 0, failed: 0 });

    slackDown = false;
    now = new Date(now.getTime() + 6_000);
    expect(await w.attribution.outbox.drain()).toEqual({ delivered: 3, failed: 0 });
    expect(seen).toEqual(['lead cus_buyer', 'sale 10000 visible=true at true', 'slack on attempt 2', 'commission sale 3000 bigint', 'voided refunded']);
    expect(await w.attribution.outbox.status()).toMatchObject({ pending: 0, failing: 0, dead: 0 });
    expect(await w.attribution.sales.list({ livemode: false })).toHaveLength(1);
  });

  it('a sale credited later to its partner is announced once, with its commission then', async () => {
    const w = await world(backend, undefined, { program: { holdDays: 30, reward: { type: 'percent', percent: 30 } } });
    const seen: string[] = [];
    w.attribution.on('sale.created', ({ sale }) => void seen.push(`sale ${sale.partnerId ? 'attributed' : 'unattributed'}`));
    w.attribution.on('commission.created', ({ commission }) => void seen.push(`commission ${commission.amount}`));
    await w.deliver(event('invoice.paid', invoice()));
    await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_sub', mode: 'subscription', payment_intent: null, invoice: 'in_1', subscription: 'sub_1', metadata: { sa_click_id: w.aliceClick } })));
    await w.attribution.outbox.drain();
    expect(seen).toEqual(['sale unattributed', 'commission 3000']);
  });

  it('the commission lifecycle and payouts are announced: approved, paid, clawed back, payout created and paid', async () => {
    const w = await world(backend, undefined, { program: { holdDays: 30, reward: { type: 'percent', percent: 30 } }, outbox: { worker: false } });
    const seen: string[] = [];
    for (const name of ['commission.approved', 'commission.paid', 'commission.clawed_back'] as const) {
      w.attribution.on(name, ({ commission }) => void seen.push(`${name} ${commission.kind} ${commission.amount}`));
    }
    for (const name of ['payout.created', 'payout.paid'] as const) w.attribution.on(name, ({ payout }) => void seen.push(`${name} ${payout.amount} ${payout.status}`));
    const sale = (id: string) => w.deliver(event('checkout.session.completed', checkoutSession({ id, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@example.com`, metadata: { sa_click_id: w.aliceClick } })));
    await sale('paid_by_payout');
    await sale('paid_by_hand');
    const afterHold = new Date((T0 + 31 * 86_400) * 1000);
    await w.attribution.commissions.approveDue(afterHold);
    await w.attribution.outbox.drain();
    expect(seen).toEqual(['commission.approved sale 3000', 'commission.approved sale 3000']);

    const byHand = (await w.attribution.commissions.list({})).find((c) => c.status === 'approved')!;
    await w.attribution.commissions.markPaid([byHand.id]);
    const [payout] = await w.attribution.payouts.create({ livemode: false });
    await w.attribution.payouts.markPaid(payout!.id);
    await w.attribution.payouts.markPaid(payout!.id); // paying twice announces nothing
    await w.deliver(event('charge.refunded', charge({ payment_intent: 'pi_paid_by_hand', amount: 10000, amount_refunded: 10000, refunded: true })));
    await w.attribution.outbox.drain();
    // In order per customer and per payout; across them, in any order.
    expect([...seen.slice(2)].sort()).toEqual(['commission.clawed_back clawback -3000', 'commission.paid sale 3000', 'payout.created 3000 pending', 'payout.paid 3000 paid']);
    expect(seen.indexOf('payout.created 3000 pending')).toBeLessThan(seen.indexOf('payout.paid 3000 paid'));
    expect(seen.indexOf('commission.paid sale 3000')).toBeLessThan(seen.indexOf('commission.clawed_back clawback -3000'));
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
    await w.attribution.outbox.drain();
    expect(seen).toEqual([]);
    expect(await w.count('sa_outbox_events')).toBe(0);
    expect((await w.deliver(completed)).status).toBe(200);
    await w.attribution.outbox.drain();
    expect(seen).toHaveLength(1);
  });
});
