import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { backends, freshStorage } from '../../support/backends.js';
import { at, sale } from './fixtures.js';

describe.each(backends())('transactions storage contract on $name', (backend) => {
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
});
