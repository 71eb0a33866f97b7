import { describe, expect, it } from 'vitest';
import type { SubscriptionState } from '../../../src/core/storage/types.js';
import { backends, freshStorage } from '../../support/backends.js';
import { at } from './fixtures.js';

describe.each(backends())('subscriptions storage contract on $name', (backend) => {
  describe('subscriptions', () => {
    it('keeps the newest state whatever order the events arrive in', async () => {
      const storage = await freshStorage(backend);
      const active: SubscriptionState = { id: 'sub_1', livemode: true, customerId: null, status: 'active', quantity: 2, stripePriceId: 'price_1', canceledAt: null, endedAt: null, at: new Date(at.getTime() + 1000) };
      await storage.upsertSubscription(active);
      await storage.upsertSubscription({ ...active, status: 'incomplete', quantity: 1, at });
      expect(await storage.getSubscription('sub_1')).toEqual(active);

      const ended = { ...active, status: 'canceled', endedAt: new Date(at.getTime() + 2000), at: new Date(at.getTime() + 2000) };
      await storage.upsertSubscription(ended);
      expect(await storage.getSubscription('sub_1')).toEqual(ended);
      expect(await storage.getSubscription('sub_none')).toBeUndefined();
    });
  });
});
