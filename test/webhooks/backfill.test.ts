import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { backends } from '../support/backends.js';
import { stripeServer, world } from '../support/world.js';
import { checkoutSession, customer, event } from '../support/stripe-fixtures.js';

const writesTo = (id: string) => stripeServer.requests.filter((r) => r.method === 'POST' && r.path === `/v1/customers/${id}`);

describe.each(backends())('backfillCustomerMetadata on $name', (backend) => {
  it('writes sa_customer_key to an attributed Stripe customer once, after the sale committed, however often the event comes', async () => {
    const w = await world(backend, undefined, { backfillCustomerMetadata: true });
    const id = `cus_backfill_${backend.name}`;
    // Stripe's API stalls until the test has looked at the ledger: the write must come after the commit.
    let release!: (answer: unknown) => void;
    stripeServer.answers.set(`POST /v1/customers/${id}`, new Promise((resolve) => (release = resolve)));
    const completed = event('checkout.session.completed', checkoutSession({ id: `cs_${backend.name}`, payment_intent: `pi_${backend.name}`, customer: id, metadata: { sa_click_id: w.aliceClick, sa_customer_key: 'user_42' } }));
    // The webhook answers without waiting for the write, which the outbox worker makes after the commit.
    expect((await Promise.all([w.deliver(completed), w.deliver(completed)])).map((reply) => reply.status)).toEqual([200, 200]);
    while (writesTo(id).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    // Readable while the API call is in flight: the sale's transaction is over.
    expect(await w.attribution.sales.list({ livemode: false })).toMatchObject([{ partnerId: w.alice, stripeCheckoutSessionId: `cs_${backend.name}` }]);
    release(customer({ id, metadata: { sa_customer_key: 'user_42' } }));
    await w.attribution.outbox.drain();
    // A later purchase and a redelivery of the first: still one write.
    await w.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_2_${backend.name}`, payment_intent: `pi_2_${backend.name}`, customer: id })));
    await w.deliver(completed);
    await w.attribution.outbox.drain();

    const writes = writesTo(id);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.form).toEqual({ 'metadata[sa_customer_key]': 'user_42' });
    expect(await w.attribution.sales.list({ livemode: false })).toHaveLength(2);
  });

  it('leaves alone a customer whose metadata already has the key, an unattributed one, and instances without the option', async () => {
    const w = await world(backend, undefined, { backfillCustomerMetadata: true });
    const tagged = `cus_tagged_${backend.name}`;
    await w.deliver(event('customer.created', customer({ id: tagged, metadata: { sa_click_id: w.aliceClick, sa_customer_key: 'user_7' } })));
    const loner = `cus_loner_${backend.name}`;
    await w.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_loner_${backend.name}`, payment_intent: `pi_loner_${backend.name}`, customer: loner, customer_details: null, customer_email: 'loner@example.com', metadata: { sa_customer_key: 'user_8' } })));
    await w.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_tagged_${backend.name}`, payment_intent: `pi_tagged_${backend.name}`, customer: tagged, metadata: { sa_customer_key: 'user_7' } })));
    const plain = await world(backend);
    const other = `cus_plain_${backend.name}`;
    await plain.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_plain_${backend.name}`, customer: other, metadata: { sa_click_id: plain.aliceClick, sa_customer_key: 'user_9' } })));

    expect(await w.attribution.customers.get({ stripeCustomerId: tagged })).toMatchObject({ partnerId: w.alice });
    expect(await plain.attribution.customers.get({ stripeCustomerId: other })).toMatchObject({ partnerId: plain.alice });
    await Promise.all([w.attribution.outbox.drain(), plain.attribution.outbox.drain()]);
    expect([...writesTo(tagged), ...writesTo(loner), ...writesTo(other)]).toEqual([]);
    expect(() => createAttribution({ backfillCustomerMetadata: true })).toThrow(/needs stripe/);
  });
});
