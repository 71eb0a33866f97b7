import fc from 'fast-check';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '../../src/core/storage/schema.js';
import { backends, type Backend } from '../support/backends.js';
import { SECRET, signer, world, type World } from '../support/world.js';
import { charge, checkoutSession, creditNote, customer, dispute, event, invoice, subscription } from '../support/stripe-fixtures.js';

/** Values a careless or hostile payload could hold where Stripe puts something else. */
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom("'; drop table sa_sales; --", "x' or '1'='1", '\u0000', '💸'.repeat(50), 'ünïcødé', '1e309'),
  fc.constantFrom(-1, -10_000, 0, 1.5, 1e300, Number.MAX_SAFE_INTEGER + 2, -0),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant({}),
  fc.constant([]),
  fc.object({ maxDepth: 2 }),
);

/** The Stripe objects the webhook handles, as Stripe sends them. */
const bases: Array<[string, () => { object: string }]> = [
  ['checkout.session.completed', () => checkoutSession({ metadata: { sa_click_id: 'forged_click_id_0000000000' } })],
  ['invoice.paid', () => invoice()],
  ['charge.refunded', () => charge({ amount_refunded: 2500 })],
  ['charge.dispute.created', () => dispute()],
  ['customer.created', () => customer()],
  ['customer.subscription.updated', () => subscription()],
  ['credit_note.created', () => creditNote()],
];

/** One Stripe event with a few of its fields replaced by nasty values or removed. */
const mutatedEvent = fc
  .record({
    base: fc.integer({ min: 0, max: bases.length - 1 }),
    mutations: fc.array(fc.record({ pick: fc.nat(), remove: fc.boolean(), value: nasty }), { minLength: 1, maxLength: 4 }),
  })
  .map(({ base, mutations }) => {
    const [type, build] = bases[base]!;
    const object = build() as unknown as Record<string, unknown>;
    for (const { pick, remove, value } of mutations) {
      const keys = Object.keys(object);
      const key = keys[pick % keys.length]!;
      if (key === 'object') continue;
      if (remove) delete object[key];
      else object[key] = value;
    }
    return event(type, object as unknown as { object: string });
  });

/** A query-string value for any of them: `String()` throws on objects like `{ toString: 0 }`, which fast-check does generate. */
const asText = (value: unknown): string => (typeof value === 'string' ? value : String(JSON.stringify(value)));

const DB_ROUNDS = Number(process.env.FUZZ_RUNS ?? 60);

describe.each(backends())('webhook fuzzing ($name)', (backend: Backend) => {
  let w: World;
  beforeAll(async () => {
    w = await world(backend);
  });

  it('signed but mutated payloads never answer 5xx; a refused one writes nothing', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(mutatedEvent, async (stripeEvent) => {
        const before = await w.counts();
        const { status, body } = await w.deliver(stripeEvent);
        statuses.add(status);
        expect([200, 400]).toContain(status);
        if (status === 400) {
          expect(body.error).toMatch(/Malformed Stripe event/);
          expect(await w.counts()).toEqual(before);
        }
      }),
      { numRuns: DB_ROUNDS },
    );
    // The generator reaches both outcomes, so the property is not vacuous.
    expect([...statuses].sort()).toEqual([200, 400]);
  });

  it('random JSON, signed, never answers 5xx', async () => {
    const anyEvent = fc.record({
      id: fc.string({ minLength: 1, maxLength: 30 }).map((s) => `evt_${s}`),
      type: fc.oneof(fc.constantFrom(...bases.map(([type]) => type)), fc.string()),
      created: fc.oneof(fc.integer(), fc.constant(1_780_000_000)),
      livemode: fc.oneof(fc.boolean(), nasty),
      data: fc.record({ object: fc.oneof(nasty, fc.jsonValue({ maxDepth: 3 })) }),
    });
    await fc.assert(
      fc.asyncProperty(anyEvent, async (body) => {
        const before = await w.counts();
        const payload = JSON.stringify(body);
        const { status } = await w.attribution.handleWebhook(payload, signer.webhooks.generateTestHeaderString({ payload, secret: SECRET }));
        expect(status).toBeLessThan(500);
        if (status >= 400) expect(await w.counts()).toEqual(before);
      }),
      { numRuns: DB_ROUNDS },
    );
  });

  it('amounts no Stripe object can hold, currencies that are not ISO codes and non-object bodies: 400, nothing written', async () => {
    const impossible = fc.oneof(
      // Tax over the total, on a session in the merchant's currency or a legacy Adaptive Pricing one.
      fc.record({ total: fc.integer({ min: 0, max: 1e9 }), over: fc.integer({ min: 1, max: 1e9 }), legacy: fc.boolean() }).map(({ total, over, legacy }) =>
        event('checkout.session.completed', checkoutSession({
          amount_total: total,
          total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: total + over },
          ...(legacy ? { currency_conversion: { amount_subtotal: total, amount_total: total, fx_rate: '1' as never, source_currency: 'usd' } } : {}),
        }))),
      fc.integer({ min: -1e12, max: -1 }).map((negative) =>
        event('checkout.session.completed', checkoutSession({ currency_conversion: { amount_subtotal: 1, amount_total: negative, fx_rate: '1' as never, source_currency: 'usd' } }))),
      fc.integer({ min: -1e12, max: -1 }).map((negative) => event('charge.dispute.created', dispute({ amount: negative }))),
      fc.record({ total: fc.integer({ min: -1e9, max: 1e9 }), over: fc.integer({ min: 1, max: 1e12 }) }).map(({ total, over }) =>
        event('invoice.paid', invoice({ total, amount_paid: Math.max(total, 1), total_excluding_tax: total + over }))),
      fc.string({ maxLength: 300 }).filter((code) => !/^[a-z]{3}$/i.test(code)).chain((code) =>
        fc.constantFrom(
          event('checkout.session.completed', checkoutSession({ currency: code })),
          event('invoice.paid', invoice({ currency: code })),
          event('charge.refunded', charge({ currency: code, amount_refunded: 2500 })),
        )),
    );
    await fc.assert(
      fc.asyncProperty(impossible, async (stripeEvent) => {
        const before = await w.counts();
        const { status, body } = await w.deliver(stripeEvent);
        expect({ status, error: body.error }).toEqual({ status: 400, error: expect.stringMatching(/^Malformed Stripe event/) });
        expect(await w.counts()).toEqual(before);
      }),
      { numRuns: DB_ROUNDS },
    );
    for (const payload of ['null', '1', '"evt"', '[]', 'true']) {
      const { status } = await w.attribution.handleWebhook(payload, signer.webhooks.generateTestHeaderString({ payload, secret: SECRET }));
      expect(status).toBe(400);
    }
  });

  it('event types named like Object.prototype members are unknown types: 200, nothing written', async () => {
    const before = await w.counts();
    for (const type of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf']) {
      const payload = JSON.stringify({ id: `evt_${type}`, object: 'event', type, created: 1_780_000_000, livemode: false, data: { object: {} } });
      const { status } = await w.attribution.handleWebhook(payload, signer.webhooks.generateTestHeaderString({ payload, secret: SECRET }));
      expect(status).toBe(200);
    }
    expect(await w.counts()).toEqual(before);
  });

  it('a 1 MB string in a signed payload is refused or ignored, never a crash', async () => {
    const big = checkoutSession({ metadata: { sa_click_id: 'x'.repeat(1_000_000) }, customer_details: null, customer: null });
    const { status } = await w.deliver(event('checkout.session.completed', big));
    expect([200, 400]).toContain(status);
  });

  it('bad signatures, other secrets, stale timestamps and bodies that are not JSON answer 400 and write nothing', async () => {
    const payload = JSON.stringify(event('checkout.session.completed', checkoutSession({ id: 'cs_fuzz_sig', payment_intent: 'pi_fuzz_sig' })));
    const signatures = fc.oneof(
      fc.string(),
      fc.string().map((s) => `t=${Math.floor(Date.now() / 1000)},v1=${s}`),
      fc.string({ minLength: 8 }).map((secret) => signer.webhooks.generateTestHeaderString({ payload, secret: `whsec_${secret}` })),
      fc.integer({ min: 301, max: 10_000_000 }).map((age) => signer.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - age })),
      // Ahead of now by more than the tolerance: a header replayed into the future.
      fc.integer({ min: 302, max: 100_000_000 }).map((ahead) => signer.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) + ahead })),
    );
    await fc.assert(
      fc.asyncProperty(signatures, async (signature) => {
        const before = await w.counts();
        const { status } = await w.attribution.handleWebhook(payload, signature);
        expect(status).toBe(400);
        expect(await w.counts()).toEqual(before);
      }),
      { numRuns: DB_ROUNDS },
    );
    const notJson = 'not json {';
    const refused = await w.attribution.handleWebhook(notJson, signer.webhooks.generateTestHeaderString({ payload: notJson, secret: SECRET }));
    expect(refused).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^Malformed webhook body/) } });
  });

  it('forged click ids and referral codes are never trusted; nothing from a request reaches SQL but as a parameter', async () => {
    await fc.assert(
      fc.asyncProperty(nasty.map(asText), fc.string(), async (code, cookie) => {
        const before = await w.counts();
        const url = new URL('https://shop.example/pricing');
        url.searchParams.set('via', code);
        const { clickId } = await w.attribution.captureClick({
          method: 'GET',
          url: url.href,
          headers: { 'user-agent': 'Mozilla/5.0 (X11) Firefox/120.0', cookie: `sa_click=${encodeURIComponent(cookie)}` },
        });
        // Only Alice's and Bob's codes are known: anything else records no click and sets no cookie.
        if (!['alice', 'bob'].includes(code.toLowerCase())) {
          expect(await w.counts()).toEqual(before);
        }
        // A cookie is only ever read back as a click id when it is one we could have issued.
        if (clickId !== null && clickId !== undefined) expect(clickId).toMatch(/^[A-Za-z0-9_-]+$/);
      }),
      { numRuns: DB_ROUNDS * 2 },
    );
    // The tables are all still there after every SQL-looking value.
    const tables = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = ${w.schema}`.execute(backend.db);
    expect(tables.rows[0]!.n).toBeGreaterThanOrEqual(TABLES.length);

    // A checkout naming a click that does not exist is recorded unattributed.
    const forged = await w.deliver(
      event('checkout.session.completed', checkoutSession({ id: 'cs_forged', payment_intent: 'pi_forged', customer: 'cus_forged', customer_details: null, metadata: { sa_click_id: 'Zm9yZ2VkX2NsaWNrX2lkX3h4eHh4' }, client_reference_id: 'Zm9yZ2VkX2NsaWNrX2lkX3h4eHh4' })),
    );
    expect(forged.status).toBe(200);
    expect((await w.attribution.sales.list({ livemode: false })).find((sale) => sale.stripePaymentIntentId === 'pi_forged')).toMatchObject({ partnerId: null, clickId: null });
  });

  it('a visitor’s raw IP address is stored nowhere', async () => {
    const ip = '203.0.113.77';
    const { clickId } = await w.attribution.captureClick({
      method: 'GET',
      url: 'https://shop.example/?via=bob',
      headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0) Chrome/120.0' },
      remoteAddress: ip,
    });
    expect(clickId).toBeTruthy();
    for (const table of TABLES) {
      const rows = await sql<{ row: string }>`select t::text as row from ${sql.id(w.schema, `sa_${table}`)} t`.execute(backend.db);
      for (const { row } of rows.rows) expect(row).not.toContain(ip);
    }
  });
});
