import { describe, expect, it } from 'vitest';
import { backends, freshStorage } from '../../support/backends.js';
import { at, partnerWithClick } from './fixtures.js';

describe.each(backends())('clicks storage contract on $name', (backend) => {
  describe('clicks', () => {
    it('a batch of clicks is written in one statement; a retried batch keeps each click once', async () => {
      const storage = await freshStorage(backend);
      const { partner, click } = await partnerWithClick(storage);
      const { id: _id, createdAt: _at, ...fields } = click;
      const batch = [1, 2].map((n) => ({ ...fields, id: `clk_batch_${n}`, linkCode: 'ALICE', createdAt: new Date(at.getTime() + n) }));
      await storage.insertClicks(batch);
      await storage.insertClicks([...batch, { ...fields, id: 'clk_batch_3', createdAt: at }]);
      for (const n of [1, 2, 3]) expect(await storage.getClick(`clk_batch_${n}`)).toMatchObject({ partnerId: partner.id, linkCode: 'alice' });
      expect((await storage.getClick('clk_batch_2'))!.createdAt).toEqual(new Date(at.getTime() + 2));
    });

    it('a referral visit: the click goes in through an active link of the given programs, in one statement', async () => {
      const storage = await freshStorage(backend);
      const { partner } = await partnerWithClick(storage);
      await storage.insertLink({ partnerId: partner.id, code: 'alice-pro', programId: 'pro' });
      const visit = { landingUrl: 'https://shop.example/?via=ALICE', referrer: null, userAgent: 'Mozilla/5.0', ipHash: 'abc', country: 'DE', createdAt: at };
      const click = await storage.insertClickThroughLink('ALICE', ['default', 'pro'], { ...visit, id: 'clk_visit' });
      // The link gives the partner, program and code (codes are case-insensitive).
      expect(click).toMatchObject({ id: 'clk_visit', partnerId: partner.id, programId: 'default', linkCode: 'alice', createdAt: at });
      expect(await storage.getClick('clk_visit')).toEqual(click);
      expect(await storage.insertClickThroughLink('alice-pro', ['pro'], { ...visit, id: 'clk_pro' })).toMatchObject({ programId: 'pro', linkCode: 'alice-pro' });
    });

    it('a referral visit through no usable link writes nothing', async () => {
      const storage = await freshStorage(backend);
      const { partner } = await partnerWithClick(storage);
      const visit = { landingUrl: 'https://shop.example/', referrer: null, userAgent: null, ipHash: null, country: null, createdAt: at };
      // An unknown code, a link outside the given programs, no programs at all.
      expect(await storage.insertClickThroughLink('nobody', ['default'], { ...visit, id: 'clk_unknown' })).toBeUndefined();
      expect(await storage.insertClickThroughLink('alice', ['pro'], { ...visit, id: 'clk_other_program' })).toBeUndefined();
      expect(await storage.insertClickThroughLink('alice', [], { ...visit, id: 'clk_no_program' })).toBeUndefined();
      // A disabled partner's links record nothing.
      await storage.setPartnerStatus(partner.id, 'disabled');
      expect(await storage.insertClickThroughLink('alice', ['default'], { ...visit, id: 'clk_disabled' })).toBeUndefined();
      for (const id of ['clk_unknown', 'clk_other_program', 'clk_no_program', 'clk_disabled']) expect(await storage.getClick(id)).toBeUndefined();
    });
  });
});
