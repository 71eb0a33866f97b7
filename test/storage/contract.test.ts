import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/core/errors.js';
import { createKyselyStorage } from '../../src/core/storage/kysely-storage.js';
import { migrationSql } from '../../src/core/storage/migrations/index.js';
import type { NewSale, Storage } from '../../src/core/storage/types.js';
import { backends, freshStorage, tablesIn, uniqueSchema } from '../support/backends.js';

const at = new Date('2026-03-01T12:00:00Z');

function sale(overrides: Partial<NewSale> = {}): NewSale {
  return { livemode: true, amount: 4900, currency: 'usd', occurredAt: at, ...overrides };
}

async function partnerWithClick(storage: Storage) {
  const partner = await storage.insertPartner({ name: 'Alice', email: 'Alice@Example.com' });
  await storage.insertLink({ partnerId: partner.id, code: 'alice' });
  const click = await storage.insertClick({
    id: `clk_${Math.random().toString(36).slice(2)}`,
    partnerId: partner.id,
    linkCode: 'alice',
    landingUrl: 'https://shop.example/?via=alice',
    referrer: null,
    userAgent: 'Mozilla/5.0',
    ipHash: 'abc',
    country: 'DE',
  });
  return { partner, click };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe.each(backends())('storage contract on $name', (backend) => {
  describe('migrations', () => {
    it('creates every table once; migrating again applies nothing and changes nothing', async () => {
      const schema = uniqueSchema();
      const storage = createKyselyStorage({ db: backend.db, schema });
      expect(await storage.migrate()).toEqual({ applied: ['0001_initial', '0002_invoice_payments', '0003_disputes_credits_subscriptions', '0004_rewards', '0005_payouts', '0006_charge_amounts', '0007_guest_customers', '0008_milestones', '0009_programs', '0010_partner_groups', '0011_charge_refunds', '0012_trial_seat_leads'] });
      const tables = await tablesIn(backend.db, schema);
      expect(tables).toContain('sa_webhook_events');
      expect(tables).toContain('sa_sales');
      expect(tables.every((table) => table.startsWith('sa_'))).toBe(true);

      expect(await storage.migrate()).toEqual({ applied: [] });
      expect(await tablesIn(backend.db, schema)).toEqual(tables);
    });

    it('leaves the merchant’s own tables of the same names alone', async () => {
      const schema = uniqueSchema();
      await sql`create schema ${sql.id(schema)}`.execute(backend.db);
      await sql`create table ${sql.id(schema, 'customers')} (id serial primary key, name text)`.execute(backend.db);
      await sql`create table ${sql.id(schema, 'migrations')} (id serial primary key)`.execute(backend.db);
      await sql`insert into ${sql.id(schema, 'customers')} (name) values ('merchant row')`.execute(backend.db);

      const storage = createKyselyStorage({ db: backend.db, schema });
      await storage.migrate();
      await storage.insertCustomer({ livemode: true, externalId: 'user_1' });

      const merchant = await sql<{ name: string }>`select name from ${sql.id(schema, 'customers')}`.execute(backend.db);
      expect(merchant.rows).toEqual([{ name: 'merchant row' }]);
      expect(await tablesIn(backend.db, schema)).toEqual(expect.arrayContaining(['customers', 'migrations', 'sa_customers']));
    });

    it('an older instance meeting a newer instance’s migration has nothing to do (rolling deploy)', async () => {
      const storage = await freshStorage(backend);
      await sql`insert into ${sql.id(storage.layout.schema!, 'sa_migrations')} (name, timestamp) values ('9999_from_the_future', '2030-01-01T00:00:00.000Z')`.execute(backend.db);
      expect(await storage.migrate()).toEqual({ applied: [] });
    });

    it('honours a custom table prefix', async () => {
      const schema = uniqueSchema();
      const storage = createKyselyStorage({ db: backend.db, schema, tablePrefix: 'aff_' });
      await storage.migrate();
      const partner = await storage.insertPartner({ name: 'Bob' });
      expect((await storage.getPartner(partner.id))?.name).toBe('Bob');
      const tables = await tablesIn(backend.db, schema);
      expect(tables).toContain('aff_partners');
      expect(tables).toContain('aff_migrations');
      expect(tables.some((table) => table.startsWith('sa_'))).toBe(false);
    });

    it('two instances migrating at once both succeed and apply each migration once', async () => {
      const schema = uniqueSchema();
      const first = createKyselyStorage({ db: backend.db, schema });
      const second = createKyselyStorage({ db: backend.other(), schema });
      const reports = await Promise.all([first.migrate(), second.migrate()]);
      expect(reports.flatMap((report) => report.applied)).toEqual(['0001_initial', '0002_invoice_payments', '0003_disputes_credits_subscriptions', '0004_rewards', '0005_payouts', '0006_charge_amounts', '0007_guest_customers', '0008_milestones', '0009_programs', '0010_partner_groups', '0011_charge_refunds', '0012_trial_seat_leads']);
      const recorded = await sql<{ name: string }>`select name from ${sql.id(schema, 'sa_migrations')} order by name`.execute(backend.db);
      expect(recorded.rows).toEqual([{ name: '0001_initial' }, { name: '0002_invoice_payments' }, { name: '0003_disputes_credits_subscriptions' }, { name: '0004_rewards' }, { name: '0005_payouts' }, { name: '0006_charge_amounts' }, { name: '0007_guest_customers' }, { name: '0008_milestones' }, { name: '0009_programs' }, { name: '0010_partner_groups' }, { name: '0011_charge_refunds' }, { name: '0012_trial_seat_leads' }]);
    });

    it('the printed SQL builds the same schema, and migrate() then finds nothing pending', async () => {
      const printedSchema = uniqueSchema();
      await backend.exec(await migrationSql({ tablePrefix: 'sa_', schema: printedSchema }));
      const storage = createKyselyStorage({ db: backend.db, schema: printedSchema });
      expect(await storage.migrate()).toEqual({ applied: [] });
      const partner = await storage.insertPartner({ name: 'Printed' });
      expect((await storage.getPartner(partner.id))?.name).toBe('Printed');

      const migratedSchema = uniqueSchema();
      await createKyselyStorage({ db: backend.db, schema: migratedSchema }).migrate();
      const columns = async (schema: string) =>
        (
          await sql<{ c: string }>`
            select table_name || '.' || column_name || ':' || data_type || ':' || is_nullable as c
            from information_schema.columns where table_schema = ${schema} order by 1`.execute(backend.db)
        ).rows.map((row) => row.c);
      expect(await columns(printedSchema)).toEqual(await columns(migratedSchema));
    });
  });

  describe('webhook events', () => {
    it('records an event id once; a repeat learns it is a repeat', async () => {
      const storage = await freshStorage(backend);
      const event = { id: 'evt_1', type: 'invoice.paid', livemode: true, apiVersion: '2025-03-31.basil', createdAt: at };
      expect(await storage.recordWebhookEvent(event)).toBe(true);
      expect(await storage.recordWebhookEvent(event)).toBe(false);
      expect(await storage.hasWebhookEvent('evt_1')).toBe(true);
    });

    it('the same event from two connections at the same time: one row, and the loser learns it lost', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const event = { id: 'evt_race', type: 'checkout.session.completed', livemode: true, apiVersion: null, createdAt: at };

      const firstInserted = deferred();
      const releaseFirst = deferred();
      const first = storage.transaction(async (tx) => {
        const won = await tx.recordWebhookEvent(event);
        firstInserted.resolve();
        await releaseFirst.promise;
        return won;
      });
      await firstInserted.promise;
      // The second copy starts while the first still holds its uncommitted row.
      const loser = second.transaction((tx) => tx.recordWebhookEvent(event));
      if (backend.concurrent) {
        // Prove the two really overlapped: the second waits on the first's row lock in Postgres.
        await expect.poll(async () => {
          const waiting = await sql<{ n: number }>`select count(*)::int as n from pg_locks where not granted`.execute(backend.db);
          return waiting.rows[0]!.n;
        }).toBeGreaterThan(0);
      }
      releaseFirst.resolve();

      expect(await Promise.all([first, loser])).toEqual([true, false]);
      const rows = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(storage.layout.schema!, 'sa_webhook_events')}`.execute(backend.db);
      expect(rows.rows[0]!.n).toBe(1);
    });

    it('many concurrent copies: exactly one wins', async () => {
      const storage = await freshStorage(backend);
      const event = { id: 'evt_many', type: 'invoice.paid', livemode: false, apiVersion: null, createdAt: at };
      const results = await Promise.all(
        Array.from({ length: 12 }, () => storage.transaction((tx) => tx.recordWebhookEvent(event))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('when the first copy rolls back, the waiting copy wins instead', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const event = { id: 'evt_rollback', type: 'invoice.paid', livemode: true, apiVersion: null, createdAt: at };
      const inserted = deferred();
      const fail = deferred();
      const first = storage.transaction(async (tx) => {
        await tx.recordWebhookEvent(event);
        inserted.resolve();
        await fail.promise;
        throw new Error('database went away mid-event');
      });
      await inserted.promise;
      const retry = second.transaction((tx) => tx.recordWebhookEvent(event));
      fail.resolve();
      await expect(first).rejects.toThrow('database went away mid-event');
      expect(await retry).toBe(true);
    });
  });

  describe('transactions', () => {
    it('a failed transaction leaves nothing behind and rethrows', async () => {
      const storage = await freshStorage(backend);
      const failure = new Error('boom after writes');
      let partnerId = '';
      await expect(
        storage.transaction(async (tx) => {
          const partner = await tx.insertPartner({ name: 'Ghost' });
          partnerId = partner.id;
          const { record: customer } = await tx.insertCustomer({ livemode: true, externalId: 'u_ghost' });
          const { record: created } = await tx.insertSale(sale({ stripeInvoiceId: 'in_ghost', customerId: customer.id, partnerId: partner.id, lines: [{ stripeProductId: 'prod_1', stripePriceId: null, description: null, quantity: 1, amount: 4900 }] }));
          await tx.insertCommission({ livemode: true, partnerId: partner.id, saleId: created.id, kind: 'sale', status: 'pending', amount: 1470, currency: 'usd' });
          await tx.recordWebhookEvent({ id: 'evt_ghost', type: 'invoice.paid', livemode: true, apiVersion: null, createdAt: at });
          await tx.parkEvent({ eventId: 'evt_parked_ghost', waitingFor: 'invoice:in_x', event: { id: 'evt_parked_ghost' } });
          throw failure;
        }),
      ).rejects.toBe(failure);

      expect(partnerId).not.toBe('');
      expect(await storage.getPartner(partnerId)).toBeUndefined();
      expect(await storage.findCustomer({ externalId: 'u_ghost' })).toBeUndefined();
      expect(await storage.findSale({ stripeInvoiceId: 'in_ghost' })).toBeUndefined();
      expect(await storage.hasWebhookEvent('evt_ghost')).toBe(false);
      expect(await storage.countParkedEvents()).toBe(0);
      for (const table of ['sa_partners', 'sa_customers', 'sa_sales', 'sa_sale_lines', 'sa_commissions']) {
        const rows = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(storage.layout.schema!, table)}`.execute(backend.db);
        expect(rows.rows[0]!.n, table).toBe(0);
      }
    });

    it('a committed transaction keeps everything', async () => {
      const storage = await freshStorage(backend);
      const id = await storage.transaction(async (tx) => (await tx.insertPartner({ name: 'Kept' })).id);
      expect((await storage.getPartner(id))?.name).toBe('Kept');
    });
  });

  describe('money', () => {
    it('amounts round-trip exactly beyond 2^31 and up to 2^53 − 1', async () => {
      const storage = await freshStorage(backend);
      const big = 2 ** 31 + 7;
      const huge = Number.MAX_SAFE_INTEGER;
      const { record } = await storage.insertSale(sale({ stripePaymentIntentId: 'pi_big', amount: big, lines: [{ stripeProductId: null, stripePriceId: null, description: null, quantity: 1, amount: big }] }));
      expect((await storage.findSale({ stripePaymentIntentId: 'pi_big' }))?.amount).toBe(big);
      expect((await storage.getSaleLines(record.id))[0]?.amount).toBe(big);
      const { record: hugeSale } = await storage.insertSale(sale({ stripePaymentIntentId: 'pi_huge', amount: huge }));
      expect((await storage.findSale({ stripePaymentIntentId: 'pi_huge' }))?.amount).toBe(huge);
      const partner = await storage.insertPartner({ name: 'Big' });
      const { record: clawback } = await storage.insertCommission({ livemode: true, partnerId: partner.id, saleId: hugeSale.id, kind: 'clawback', status: 'approved', amount: -(2 ** 40), currency: 'usd' });
      expect((await storage.listCommissions({ saleId: hugeSale.id })).map((c) => c.amount)).toEqual([clawback.amount]);
      expect(clawback.amount).toBe(-(2 ** 40));
    });

    it('refuses fractional amounts and writes nothing', async () => {
      const storage = await freshStorage(backend);
      await expect(storage.insertSale(sale({ stripePaymentIntentId: 'pi_float', amount: 49.99 }))).rejects.toThrow(/integer/);
      expect(await storage.findSale({ stripePaymentIntentId: 'pi_float' })).toBeUndefined();
    });
  });

  describe('sales', () => {
    it('one payment is one sale: a repeat under any of its keys returns the first', async () => {
      const storage = await freshStorage(backend);
      const first = await storage.insertSale(sale({ stripeInvoiceId: 'in_1', stripeSubscriptionId: 'sub_1', occurredAt: at }));
      expect(first.created).toBe(true);
      const again = await storage.insertSale(sale({ stripeInvoiceId: 'in_1', stripePaymentIntentId: 'pi_1', amount: 1 }));
      expect(again).toEqual({ record: first.record, created: false });
      expect((await storage.findSale({ stripePaymentIntentId: 'pi_other', stripeInvoiceId: 'in_1' }))?.id).toBe(first.record.id);
    });

    it('concurrent inserts of one sale leave one sale', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? second : storage).transaction((tx) => tx.insertSale(sale({ stripePaymentIntentId: 'pi_race' }))),
        ),
      );
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => result.record.id)).size).toBe(1);
    });

    it('keeps line shares in order', async () => {
      const storage = await freshStorage(backend);
      const { record } = await storage.insertSale(
        sale({
          stripeCheckoutSessionId: 'cs_1',
          amount: 300,
          lines: [
            { stripeProductId: 'prod_a', stripePriceId: 'price_a', description: 'A', quantity: 1, amount: 100 },
            { stripeProductId: 'prod_b', stripePriceId: 'price_b', description: 'B', quantity: 2, amount: 200 },
          ],
        }),
      );
      const lines = await storage.getSaleLines(record.id);
      expect(lines.map((line) => [line.position, line.stripeProductId, line.amount])).toEqual([
        [0, 'prod_a', 100],
        [1, 'prod_b', 200],
      ]);
    });

    it('charge refunds are raised per charge and summed per sale, even when two charges are refunded at once', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const { record } = await storage.insertSale(sale({ stripeInvoiceId: 'in_two_charges', amount: 20000, chargeAmount: 20000 }));
      const refund = (on: Storage, chargeId: string, amountRefunded: number) =>
        on.transaction((tx) => tx.recordChargeRefund({ saleId: record.id, chargeId, amountRefunded }));
      const totals = await Promise.all([refund(storage, 'ch_a', 15000), refund(second, 'ch_b', 5000)]);
      // Whichever went second saw the first.
      expect(Math.max(...totals)).toBe(20000);
      expect(await refund(storage, 'ch_a', 3000)).toBe(20000); // an older cumulative total lowers nothing
      await expect(refund(storage, 'ch_c', 1.5)).rejects.toThrow();
    });

    it('a sale needs at least one identifying key', async () => {
      const storage = await freshStorage(backend);
      await expect(storage.insertSale(sale())).rejects.toThrow();
    });
  });

  describe('commissions', () => {
    it('one sale commission per sale and partner; several clawbacks allowed', async () => {
      const storage = await freshStorage(backend);
      const partner = await storage.insertPartner({ name: 'Carol' });
      const { record: s } = await storage.insertSale(sale({ stripeInvoiceId: 'in_c' }));
      const commission = { livemode: true, partnerId: partner.id, saleId: s.id, kind: 'sale' as const, status: 'pending' as const, amount: 1470, currency: 'USD' };
      const first = await storage.insertCommission(commission);
      const repeat = await storage.insertCommission({ ...commission, amount: 9999 });
      expect(first.created).toBe(true);
      expect(repeat).toEqual({ record: first.record, created: false });
      expect(first.record.currency).toBe('usd');
      await storage.insertCommission({ ...commission, kind: 'clawback', amount: -100, status: 'approved' });
      await storage.insertCommission({ ...commission, kind: 'clawback', amount: -200, status: 'approved' });
      const listed = (await storage.listCommissions({ saleId: s.id })).map((c) => [c.kind, c.amount]);
      expect(listed.sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual([
        ['clawback', -200],
        ['clawback', -100],
        ['sale', 1470],
      ]);
    });

    it('one lead commission per customer and partner', async () => {
      const storage = await freshStorage(backend);
      const partner = await storage.insertPartner({ name: 'Dan' });
      const { record: customer } = await storage.insertCustomer({ livemode: true, externalId: 'u_lead' });
      const lead = { livemode: true, partnerId: partner.id, customerId: customer.id, kind: 'lead' as const, status: 'pending' as const, amount: 200, currency: 'usd' };
      const results = await Promise.all([storage.insertCommission(lead), storage.insertCommission(lead)]);
      expect(results.map((r) => r.created).sort()).toEqual([false, true]);
      expect(await storage.listCommissions({ customerId: customer.id })).toHaveLength(1);
      // A trial's further seats are lead commissions of their own, each once; the customer's own lead is still found as itself.
      const seat = { ...lead, onceKey: `trial_seat:${customer.id}:2` };
      const seats = await Promise.all([storage.insertCommission(seat), storage.insertCommission(seat)]);
      expect(seats.map((r) => r.created).sort()).toEqual([false, true]);
      expect(await storage.insertCommission(lead)).toEqual({ record: results.find((r) => r.created)!.record, created: false });
      expect(await storage.listCommissions({ customerId: customer.id })).toHaveLength(2);
    });
  });

  describe('partners, links and clicks', () => {
    it('codes are case-insensitive and belong to one partner', async () => {
      const storage = await freshStorage(backend);
      const { partner, click } = await partnerWithClick(storage);
      expect((await storage.findActiveLink('ALICE'))?.partner.id).toBe(partner.id);
      expect(await storage.insertLink({ partnerId: partner.id, code: 'Alice' })).toMatchObject({ code: 'alice' });
      const bob = await storage.insertPartner({ name: 'Bob' });
      await expect(storage.insertLink({ partnerId: bob.id, code: 'alice' })).rejects.toBeInstanceOf(ConflictError);
      expect(await storage.getClick(click.id)).toEqual(click);
      expect(partner.email).toBe('alice@example.com');
    });

    it('a disabled partner’s links resolve to nothing', async () => {
      const storage = await freshStorage(backend);
      const { partner } = await partnerWithClick(storage);
      await storage.setPartnerStatus(partner.id, 'disabled');
      expect(await storage.findActiveLink('alice')).toBeUndefined();
    });

    it('a batch of clicks is written in one statement; a retried batch keeps each click once', async () => {
      const storage = await freshStorage(backend);
      const { partner, click } = await partnerWithClick(storage);
      const { id: _id, createdAt: _at, ...fields } = click;
      const batch = [1, 2].map((n) => ({ ...fields, id: `clk_batch_${n}`, linkCode: 'ALICE', createdAt: new Date(at.getTime() + n) }));
      await storage.insertClicks(batch);
      await storage.insertClicks([...batch, { ...fields, id: 'clk_batch_3', createdAt: at }]);
      for (const n of [1, 2, 3]) expect(await storage.getClick(`clk_batch_${n}`)).toMatchObject({ partnerId: partner.id, linkCode: 'alice' });
      expect((await storage.getClick('clk_batch_2'))!.createdAt).toEqual(new Date(at.getTime() + 2));
    });

    it('promotion codes map to their partner', async () => {
      const storage = await freshStorage(backend);
      const partner = await storage.insertPartner({ name: 'Eve' });
      await storage.insertPromotionCode({ id: 'promo_1', partnerId: partner.id });
      expect((await storage.findPromotionCodes(['promo_x', 'promo_1'])).map((p) => p.partnerId)).toEqual([partner.id]);
      const other = await storage.insertPartner({ name: 'Frank' });
      await expect(storage.insertPromotionCode({ id: 'promo_1', partnerId: other.id })).rejects.toBeInstanceOf(ConflictError);
    });
  });

  describe('customers', () => {
    it('insert is idempotent on the merchant’s id and on the Stripe customer id', async () => {
      const storage = await freshStorage(backend);
      const first = await storage.insertCustomer({ livemode: true, externalId: 'user_1', email: 'A@B.co' });
      expect(first.created).toBe(true);
      expect(first.record.email).toBe('a@b.co');
      const repeat = await storage.insertCustomer({ livemode: true, externalId: 'user_1' });
      expect(repeat).toEqual({ record: first.record, created: false });
      const linked = await storage.linkCustomer(first.record.id, { stripeCustomerId: 'cus_1', email: 'other@b.co' });
      expect(linked.stripeCustomerId).toBe('cus_1');
      expect(linked.email).toBe('a@b.co');
      expect((await storage.insertCustomer({ livemode: true, stripeCustomerId: 'cus_1' })).record.id).toBe(first.record.id);
      expect((await storage.findCustomer({ email: 'A@b.CO' }))?.id).toBe(first.record.id);
    });

    it('guests known only by email meet on it, even when their checkouts race', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? second : storage).transaction((tx) => tx.insertCustomer({ livemode: true, email: i % 3 ? 'guest@b.co' : 'Guest@B.co' }))),
      );
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => result.record.id)).size).toBe(1);
      // Another mode, or a customer Stripe knows, is someone else with the same email.
      expect((await storage.insertCustomer({ livemode: false, email: 'guest@b.co' })).created).toBe(true);
      expect((await storage.insertCustomer({ livemode: true, stripeCustomerId: 'cus_guest', email: 'guest@b.co' })).created).toBe(true);
    });

    it('attribution never moves once set, even when two partners race', async () => {
      const storage = await freshStorage(backend);
      const a = await partnerWithClick(storage);
      const b = await storage.insertPartner({ name: 'Bob' });
      const { record: customer } = await storage.insertCustomer({ livemode: true, externalId: 'user_race' });
      const results = await Promise.all([
        storage.transaction((tx) => tx.attributeCustomer(customer.id, { partnerId: a.partner.id, clickId: a.click.id, attributedBy: 'click', at })),
        storage.transaction((tx) => tx.attributeCustomer(customer.id, { partnerId: b.id, clickId: null, attributedBy: 'promotion_code', at })),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results[0] ? a.partner.id : b.id;
      expect((await storage.findCustomer({ id: customer.id }))?.partnerId).toBe(winner);
      expect(await storage.attributeCustomer(customer.id, { partnerId: winner === b.id ? a.partner.id : b.id, clickId: null, attributedBy: 'click', at })).toBe(false);
      expect((await storage.findCustomer({ id: customer.id }))?.partnerId).toBe(winner);
    });
  });

  describe('parked events', () => {
    it('parks, re-parks idempotently, and hands each event to one taker', async () => {
      const storage = await freshStorage(backend);
      await storage.parkEvent({ eventId: 'evt_refund', waitingFor: 'payment_intent:pi_1', event: { id: 'evt_refund', amount: 5 } });
      await storage.parkEvent({ eventId: 'evt_refund', waitingFor: 'payment_intent:pi_1', event: { id: 'evt_refund', amount: 5 } });
      await storage.parkEvent({ eventId: 'evt_other', waitingFor: 'invoice:in_9', event: { id: 'evt_other' } });
      expect(await storage.countParkedEvents()).toBe(2);

      expect(await storage.takeParkedEvents('payment_intent:nope')).toEqual([]);
      const [a, b] = await Promise.all([
        storage.transaction((tx) => tx.takeParkedEvents('payment_intent:pi_1')),
        storage.transaction((tx) => tx.takeParkedEvents('payment_intent:pi_1')),
      ]);
      const taken = [...a!, ...b!];
      expect(taken).toHaveLength(1);
      expect(taken[0]).toMatchObject({ eventId: 'evt_refund', event: { id: 'evt_refund', amount: 5 }, attempts: 0 });
      expect((await storage.takeParkedEvents()).map((e) => e.eventId)).toEqual(['evt_other']);
      expect(await storage.countParkedEvents()).toBe(0);
    });

    it('a rolled-back take puts the event back', async () => {
      const storage = await freshStorage(backend);
      await storage.parkEvent({ eventId: 'evt_back', waitingFor: 'x', event: {} });
      await expect(
        storage.transaction(async (tx) => {
          expect(await tx.takeParkedEvents('x')).toHaveLength(1);
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      expect(await storage.countParkedEvents()).toBe(1);
    });
  });
});
