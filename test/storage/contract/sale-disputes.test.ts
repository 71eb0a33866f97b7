import { describe, expect, it } from 'vitest';
import { backends, freshStorage } from '../../support/backends.js';
import { at, sale } from './fixtures.js';

describe.each(backends())('sale disputes storage contract on $name', (backend) => {
  describe('disputes', () => {
    it('keeps each dispute’s newest state whatever the order; open and lost disputes count, won ones do not', async () => {
      const storage = await freshStorage(backend);
      const { record } = await storage.insertSale(sale({ stripePaymentIntentId: 'pi_disputed', amount: 10000 }));
      const later = new Date(at.getTime() + 60_000);
      expect((await storage.recordDispute({ id: 'dp_1', saleId: record.id, amount: 4000, status: 'lost', at: later })).amountDisputed).toBe(4000);
      // The older state, delivered late, moves nothing back.
      expect((await storage.recordDispute({ id: 'dp_1', saleId: record.id, amount: 4000, status: 'needs_response', at })).amountDisputed).toBe(4000);
      expect(await storage.disputeTotals(record.id)).toEqual({ open: 0, lost: 4000 });

      expect((await storage.recordDispute({ id: 'dp_2', saleId: record.id, amount: 3000, status: 'under_review', at })).amountDisputed).toBe(7000);
      expect(await storage.disputeTotals(record.id)).toEqual({ open: 3000, lost: 4000 });
      expect((await storage.recordDispute({ id: 'dp_2', saleId: record.id, amount: 3000, status: 'won', at: later })).amountDisputed).toBe(4000);
      expect(await storage.disputeTotals(record.id)).toEqual({ open: 0, lost: 4000 });
    });
  });
});
