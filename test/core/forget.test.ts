import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { backends } from '../support/backends.js';
import { world, type World } from '../support/world.js';
import { T0, charge, checkoutSession, customer, event } from '../support/stripe-fixtures.js';

const EMAIL = 'buyer@example.com';
const NAME = 'Zoë Buyer';
const USER = 'user_42';
const USER_AGENT = 'Mozilla/5.0 (Macintosh) Safari/605.1.15';

/** Every row of every table of the world's schema, as text, in an order that only the data decides. */
async function everything(w: World, backend: { db: any }): Promise<string> {
  const schema = (w.storage as unknown as { layout: { schema: string } }).layout.schema;
  const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = ${schema} order by table_name`.execute(backend.db);
  const dumps = await Promise.all(
    tables.rows.map(async ({ table_name }) => (await sql<{ row: string }>`select t::text as row from ${sql.id(schema, table_name)} t order by 1`.execute(backend.db)).rows.map((r) => r.row)),
  );
  return dumps.flat().join('\n');
}

describe.each(backends())('customers.forget() on $name', (backend) => {
  it('erases who the customer is and keeps the money ledger and reports as they were', async () => {
    const w = await world(backend, undefined, { livemode: false, program: { reward: { type: 'percent', percent: 30, duration: 'lifetime' } } });
    await w.attribution.trackLead({ customerExternalId: USER, email: EMAIL, name: NAME, clickId: w.aliceClick });
    const session = checkoutSession({ metadata: { sa_click_id: w.aliceClick, sa_customer_key: USER }, customer_details: { ...checkoutSession().customer_details!, email: EMAIL, name: NAME } });
    expect(await w.deliver(event('checkout.session.completed', session))).toMatchObject({ status: 200 });
    // A refund of a later payment, parked until its sale arrives, carrying the buyer's details.
    const parkedRefund = event('charge.refunded', charge({ id: 'ch_2', payment_intent: 'pi_later', amount_refunded: 1000, receipt_email: EMAIL, billing_details: { address: null, email: EMAIL, name: NAME, phone: null, tax_id: null }, metadata: { sa_customer_key: USER } }));
    await w.deliver(parkedRefund);
    expect(await w.count('sa_parked_events')).toBe(1);

    const period = { from: new Date((T0 - 86400) * 1000), to: new Date((T0 + 86400) * 1000), livemode: false };
    const before = { report: await w.attribution.report(period), commissions: await w.attribution.commissions.list({}), sales: await w.attribution.sales.list({ livemode: false }) };
    const dump = await everything(w, backend);
    for (const secret of [EMAIL, NAME, USER, USER_AGENT]) expect(dump).toContain(secret);

    expect(await w.attribution.customers.forget(USER)).toBe(true);

    expect({ report: await w.attribution.report(period), commissions: await w.attribution.commissions.list({}), sales: await w.attribution.sales.list({ livemode: false }) }).toEqual(before);
    const after = await everything(w, backend);
    for (const secret of [EMAIL, NAME, USER, USER_AGENT]) expect(after).not.toContain(secret);
    const forgotten = await w.attribution.customers.get({ stripeCustomerId: 'cus_buyer' });
    expect(forgotten).toMatchObject({ externalId: `forgotten:${forgotten!.id}`, email: null, name: null, partnerId: w.alice, clickId: w.aliceClick });
    expect(await w.storage.getClick(w.aliceClick)).toMatchObject({ partnerId: w.alice, linkCode: 'alice', userAgent: null, ipHash: null, landingUrl: null, referrer: null, country: null });
    expect(await w.attribution.customers.get({ externalId: USER })).toBeUndefined();

    // Stripe still knows the customer: a later update does not bring the email back, a renewal still finds the ledger.
    await w.deliver(event('customer.updated', customer({ email: EMAIL, name: NAME, metadata: { sa_customer_key: USER } })));
    expect(await w.attribution.customers.get({ stripeCustomerId: 'cus_buyer' })).toMatchObject({ email: null, name: null, externalId: `forgotten:${forgotten!.id}` });
    expect(await w.attribution.customers.get({ email: EMAIL })).toBeUndefined();
  });

  it('erases a guest (a Payment Link buyer with no user id) by email, or by Stripe customer id; the ledger unchanged', async () => {
    const w = await world(backend, undefined, { livemode: false, program: { reward: { type: 'percent', percent: 30, duration: 'lifetime' } } });
    const guest = (n: number, email: string, name: string) =>
      checkoutSession({ id: `cs_guest_${n}`, payment_intent: `pi_guest_${n}`, customer: `cus_guest_${n}`, client_reference_id: w.aliceClick, metadata: {}, customer_details: { ...checkoutSession().customer_details!, email, name } });
    expect(await w.deliver(event('checkout.session.completed', guest(1, 'guest@example.com', 'Gus Guest')))).toMatchObject({ status: 200 });
    expect(await w.deliver(event('checkout.session.completed', guest(2, 'other@example.com', 'Olga Other')))).toMatchObject({ status: 200 });
    const ledger = async () => ({ commissions: await w.attribution.commissions.list({}), sales: await w.attribution.sales.list({ livemode: false }) });
    const before = await ledger();
    expect(before.sales).toHaveLength(2);
    expect(before.sales.every((sale) => sale.partnerId === w.alice)).toBe(true);

    // Emails are matched as the ledger keeps them, lower-cased.
    expect(await w.attribution.customers.forget({ email: ' Guest@Example.com ' })).toBe(true);
    let dump = await everything(w, backend);
    for (const secret of ['guest@example.com', 'Gus Guest']) expect(dump).not.toContain(secret);
    expect(dump).toContain('other@example.com');
    expect(await w.attribution.customers.get({ stripeCustomerId: 'cus_guest_1' })).toMatchObject({ email: null, name: null, partnerId: w.alice });

    expect(await w.attribution.customers.forget({ stripeCustomerId: 'cus_guest_2' }, { livemode: true })).toBe(false);
    expect(await w.attribution.customers.forget({ stripeCustomerId: 'cus_guest_2' })).toBe(true);
    dump = await everything(w, backend);
    for (const secret of ['other@example.com', 'Olga Other']) expect(dump).not.toContain(secret);
    expect(await ledger()).toEqual(before);
    expect(await w.attribution.customers.forget({ email: 'guest@example.com' })).toBe(false);
  });

  it('forgetting an unknown (or already forgotten) customer changes nothing', async () => {
    const w = await world(backend, undefined, { livemode: false });
    await w.attribution.trackLead({ customerExternalId: USER, email: EMAIL, name: NAME, clickId: w.aliceClick });
    const dump = await everything(w, backend);
    expect(await w.attribution.customers.forget('nobody')).toBe(false);
    expect(await w.attribution.customers.forget(USER, { livemode: true })).toBe(false);
    expect(await everything(w, backend)).toBe(dump);
    expect(await w.attribution.customers.forget(USER, { livemode: false })).toBe(true);
    expect(await w.attribution.customers.forget(USER)).toBe(false);
  });
});
