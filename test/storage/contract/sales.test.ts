import { describe, expect, it } from 'vitest';
import { createKyselyStorage } from '../../../src/core/storage/kysely-storage.js';
import { backends, freshStorage } from '../../support/backends.js';
import { at, sale } from './fixtures.js';
import { waitingForInvoice, waitingForPayment } from '../../../src/core/storage/webhook-events.js';

describe.each(backends())('sales storage contract on $name', (backend) => {
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

    it('a new sale says in its insert whether events are parked waiting for any of its keys', async () => {
      const storage = await freshStorage(backend);
      expect((await storage.insertSale(sale({ stripePaymentIntentId: 'pi_alone' }))).eventsWaiting).toBe(false);
      await storage.parkEvent({ eventId: 'evt_refund', waitingFor: waitingForPayment('pi_awaited'), event: { id: 'evt_refund' } });
      await storage.parkEvent({ eventId: 'evt_credit', waitingFor: waitingForInvoice('in_awaited'), event: { id: 'evt_credit' } });
      // Waited for under its payment intent, or under its invoice: either key counts.
      expect((await storage.insertSale(sale({ stripePaymentIntentId: 'pi_awaited' }))).eventsWaiting).toBe(true);
      expect((await storage.insertSale(sale({ stripeInvoiceId: 'in_awaited', stripePaymentIntentId: 'pi_other' }))).eventsWaiting).toBe(true);
      // Only a new sale is asked: a repeat leaves it to whoever inserted it.
      const repeat = await storage.insertSale(sale({ stripePaymentIntentId: 'pi_awaited' }));
      expect([repeat.created, repeat.eventsWaiting]).toEqual([false, undefined]);
      // A sale billed outside Stripe has no key an event could wait under; asking leaves the parked events parked.
      expect((await storage.insertSale(sale({ externalInvoiceId: 'ext_1' }))).eventsWaiting).toBe(false);
      expect(await storage.countParkedEvents()).toBe(2);
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

    it('a sale needs at least one identifying key', async () => {
      const storage = await freshStorage(backend);
      await expect(storage.insertSale(sale())).rejects.toThrow();
    });
  });

  describe('invoice payments', () => {
    it('remembers the first invoice a payment intent paid; a repeat changes nothing', async () => {
      const storage = await freshStorage(backend);
      await storage.recordInvoicePayment({ paymentIntentId: 'pi_inv', invoiceId: 'in_first' });
      await storage.recordInvoicePayment({ paymentIntentId: 'pi_inv', invoiceId: 'in_second' });
      expect(await storage.findInvoiceForPaymentIntent('pi_inv')).toBe('in_first');
      expect(await storage.findPaymentIntentForInvoice('in_first')).toBe('pi_inv');
      expect(await storage.findPaymentIntentForInvoice('in_second')).toBeUndefined();
      expect(await storage.findInvoiceForPaymentIntent('pi_none')).toBeUndefined();
    });
  });
});
