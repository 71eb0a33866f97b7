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
  });
});
