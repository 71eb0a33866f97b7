import { describe, expect, it } from 'vitest';
import { createKyselyStorage } from '../../../src/core/storage/kysely-storage.js';
import type { Storage } from '../../../src/core/storage/types.js';
import { backends, freshStorage } from '../../support/backends.js';
import { sale } from './fixtures.js';

describe.each(backends())('sale refunds storage contract on $name', (backend) => {
  describe('refunds', () => {
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

    it('the refunded amount only rises, whatever order the cumulative totals arrive in', async () => {
      const storage = await freshStorage(backend);
      const { record } = await storage.insertSale(sale({ stripePaymentIntentId: 'pi_refunds', amount: 10000 }));
      expect((await storage.raiseSaleRefunded(record.id, 3000)).amountRefunded).toBe(3000);
      expect((await storage.raiseSaleRefunded(record.id, 1000)).amountRefunded).toBe(3000);
      expect((await storage.raiseSaleRefunded(record.id, 5000)).amountRefunded).toBe(5000);
    });

    it('a credit note counts once, even when copies race; voiding it takes it back', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const { record } = await storage.insertSale(sale({ stripeInvoiceId: 'in_credit', amount: 10000 }));
      const credit = { creditNoteId: 'cn_1', saleId: record.id, amount: 2500 };
      const credited = await Promise.all([storage, second].map((on) => on.transaction((tx) => tx.recordSaleCredit(credit))));
      expect(credited.map((s) => s.amountCredited)).toEqual([2500, 2500]);
      expect((await storage.recordSaleCredit({ creditNoteId: 'cn_2', saleId: record.id, amount: 1000 })).amountCredited).toBe(3500);
      expect(await storage.transaction((tx) => tx.removeSaleCredit('cn_1'))).toBe(record.id);
      expect((await storage.findSale({ stripeInvoiceId: 'in_credit' }))?.amountCredited).toBe(1000);
      expect(await storage.removeSaleCredit('cn_unknown')).toBeUndefined();
    });
  });
});
