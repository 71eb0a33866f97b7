import { describe, expect, it } from 'vitest';
import { createKyselyStorage } from '../../../src/core/storage/kysely-storage.js';
import { backends, freshStorage } from '../../support/backends.js';
import { at, partnerWithClick } from './fixtures.js';

describe.each(backends())('customers storage contract on $name', (backend) => {
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

    it('reward terms lock once: concurrent first sales all get the first one’s terms back; the anchor is the earliest sale by Stripe time', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const { record: customer } = await storage.insertCustomer({ livemode: true, externalId: 'user_terms' });
      const results = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          (n % 2 ? second : storage).transaction((tx) => tx.lockRewardTerms(customer.id, { terms: { percent: n }, saleId: `sale_${n}`, at: new Date(at.getTime() + n) })),
        ),
      );
      const terms = results[0]!.terms;
      expect(results.map((result) => result.terms)).toEqual(results.map(() => terms));
      // Whatever the order the four took turns in, the anchor ends at the earliest of them.
      const earliest = { saleId: 'sale_1', at: new Date(at.getTime() + 1) };
      expect(await storage.lockRewardTerms(customer.id, { terms: { percent: 99 }, saleId: 'sale_9', at: new Date(at.getTime() + 9) })).toEqual({ terms, ...earliest, replaced: null });
      // An earlier sale delivered late moves the anchor and names the one it replaced; the terms stay.
      expect(await storage.lockRewardTerms(customer.id, { terms: { percent: 99 }, saleId: 'sale_late', at })).toEqual({ terms, saleId: 'sale_late', at, replaced: earliest });
    });

    it('the Stripe metadata write-back is claimed once, even by concurrent callers; a block keeps its first reason', async () => {
      const storage = await freshStorage(backend);
      const second = createKyselyStorage({ db: backend.other(), schema: storage.layout.schema });
      const { record: customer } = await storage.insertCustomer({ livemode: true, externalId: 'user_claim' });
      const claims = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? second : storage).transaction((tx) => tx.claimStripeMetadataWrite(customer.id, at))),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await storage.claimStripeMetadataWrite(customer.id, at)).toBe(false);

      await storage.blockCustomer(customer.id, 'self_referral');
      await storage.blockCustomer(customer.id, 'manual');
      expect((await storage.findCustomer({ id: customer.id }))?.blockedReason).toBe('self_referral');
    });
  });
});
