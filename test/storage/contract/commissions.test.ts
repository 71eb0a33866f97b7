import { describe, expect, it } from 'vitest';
import { backends, freshStorage } from '../../support/backends.js';
import { sale } from './fixtures.js';

describe.each(backends())('commissions storage contract on $name', (backend) => {
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
});
