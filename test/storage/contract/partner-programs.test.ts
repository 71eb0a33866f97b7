import { describe, expect, it } from 'vitest';
import { backends, freshStorage } from '../../support/backends.js';

describe.each(backends())('partner programs storage contract on $name', (backend) => {
  describe('partner terms and groups', () => {
    it('a partner is in one group per program; their own reward comes before the group’s', async () => {
      const storage = await freshStorage(backend);
      const partner = await storage.insertPartner({ name: 'Grouped' });
      const gold = await storage.insertPartnerGroup({ programId: 'pro', name: 'Gold', reward: { type: 'percent', percent: 40 } });
      const silver = await storage.insertPartnerGroup({ programId: 'pro', name: 'Silver', reward: { type: 'percent', percent: 20 } });
      expect(await storage.assignPartnerGroup(partner.id, gold.id)).toBe(true);
      expect(await storage.assignPartnerGroup(partner.id, silver.id)).toBe(true);
      expect(await storage.assignPartnerGroup(partner.id, 'grp_missing')).toBe(false);
      expect(await storage.listPartnerPrograms(partner.id)).toEqual([{ programId: 'pro', reward: null, groupId: silver.id }]);
      expect(await storage.getPartnerTerms(partner.id, 'pro')).toEqual({ reward: null, groupReward: { type: 'percent', percent: 20 } });

      await storage.setPartnerReward(partner.id, { type: 'flat', amount: 500 }, 'pro');
      expect(await storage.getPartnerTerms(partner.id, 'pro')).toEqual({ reward: { type: 'flat', amount: 500 }, groupReward: { type: 'percent', percent: 20 } });
      await storage.removePartnerGroup(partner.id, 'pro');
      expect(await storage.getPartnerTerms(partner.id, 'pro')).toEqual({ reward: { type: 'flat', amount: 500 }, groupReward: null });
      expect(await storage.getPartnerReward(partner.id)).toBeNull();
      expect((await storage.listPartnerGroups({ programId: 'pro' })).map((group) => group.name)).toEqual(['Gold', 'Silver']);
    });
  });
});
