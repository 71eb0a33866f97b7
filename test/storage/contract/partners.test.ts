import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/core/kernel/errors.js';
import { backends, freshStorage } from '../../support/backends.js';
import { partnerWithClick } from './fixtures.js';

describe.each(backends())('partners storage contract on $name', (backend) => {
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

    it('promotion codes map to their partner', async () => {
      const storage = await freshStorage(backend);
      const partner = await storage.insertPartner({ name: 'Eve' });
      await storage.insertPromotionCode({ id: 'promo_1', partnerId: partner.id });
      expect((await storage.findPromotionCodes(['promo_x', 'promo_1'])).map((p) => p.partnerId)).toEqual([partner.id]);
      const other = await storage.insertPartner({ name: 'Frank' });
      await expect(storage.insertPromotionCode({ id: 'promo_1', partnerId: other.id })).rejects.toBeInstanceOf(ConflictError);
    });
  });
});
