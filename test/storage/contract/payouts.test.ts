import { describe, expect, it } from 'vitest';
import { createKyselyStorage } from '../../../src/core/storage/kysely-storage.js';
import { backends, freshStorage } from '../../support/backends.js';
import { at, sale } from './fixtures.js';

describe.each(backends())('payouts storage contract on $name', (backend) => {
  describe('payouts', () => {
    it('concurrent payout runs never put one commission in two payouts; marking paid twice pays once', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const partner = await storage.insertPartner({ name: 'Paid' });
      for (const [n, amount] of [[1, 3000], [2, 2000]] as const) {
        const { record } = await storage.insertSale(sale({ stripeInvoiceId: `in_payout_${n}` }));
        await storage.insertCommission({ livemode: true, partnerId: partner.id, saleId: record.id, kind: 'sale', status: 'approved', amount, currency: 'usd' });
      }
      const runs = await Promise.all([storage, second].map((on) => on.transaction((tx) => tx.createPayouts({ minimumAmount: 1000, livemode: true }))));
      const payouts = runs.flat();
      expect(payouts.reduce((sum, payout) => sum + payout.amount, 0)).toBe(5000);
      const commissions = await storage.listCommissions({ partnerId: partner.id });
      expect(commissions.every((commission) => payouts.some((payout) => payout.id === commission.payoutId))).toBe(true);
      expect(await storage.transaction((tx) => tx.createPayouts({ minimumAmount: 1000, livemode: true }))).toEqual([]);

      const payout = payouts[0]!;
      const paid = await Promise.all([storage, second].map((on) => on.transaction((tx) => tx.markPayoutPaid(payout.id, at))));
      expect(paid.map((p) => [p?.status, p?.paidAt])).toEqual([['paid', at], ['paid', at]]);
      const inPayout = (await storage.listCommissions({ partnerId: partner.id })).filter((commission) => commission.payoutId === payout.id);
      expect(inPayout.length).toBeGreaterThan(0);
      expect(inPayout.every((commission) => commission.status === 'paid')).toBe(true);
    });
  });
});
