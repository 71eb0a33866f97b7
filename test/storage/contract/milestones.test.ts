import { describe, expect, it } from 'vitest';
import { createKyselyStorage } from '../../../src/core/storage/kysely-storage.js';
import type { NewMilestone } from '../../../src/core/storage/types.js';
import { backends, freshStorage } from '../../support/backends.js';
import { at } from './fixtures.js';

describe.each(backends())('milestones storage contract on $name', (backend) => {
  describe('milestones', () => {
    it('one milestone per idempotency key and mode, even when copies race; it takes its customer’s program', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const { record: customer } = await storage.insertCustomer({ livemode: true, externalId: 'user_milestone', programId: 'pro' });
      const milestone: NewMilestone = { livemode: true, name: 'demo_booked', idempotencyKey: 'demo_1', customerId: customer.id, partnerId: null, clickId: null, value: 1000, currency: 'USD', occurredAt: at };
      const results = await Promise.all([0, 1, 2, 3].map((i) => (i % 2 ? second : storage).transaction((tx) => tx.insertMilestone(milestone))));
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => result.record.id)).size).toBe(1);
      expect(results[0]!.record).toMatchObject({ programId: 'pro', currency: 'usd', value: 1000, name: 'demo_booked' });
      expect(await storage.findMilestone({ livemode: true, idempotencyKey: 'demo_1' })).toEqual(results[0]!.record);
      // The same key in the other mode is another milestone.
      expect((await storage.insertMilestone({ ...milestone, livemode: false })).created).toBe(true);
      expect(await storage.listMilestones({ customerId: customer.id, livemode: true })).toEqual([results[0]!.record]);
    });
  });
});
