import { describe, expect, it } from 'vitest';
import { createAttribution, type Attribution } from '../../src/core/attribution.js';
import { ConflictError } from '../../src/core/kernel/errors.js';
import { createKyselyStorage } from '../../src/core/storage/kysely-storage.js';
import { backends, freshStorage, type Backend } from '../support/backends.js';

/** An app instance on its own connection pool to the same tables, as a second booting server has. */
function instance(backend: Backend, layout: { schema?: string; tablePrefix: string }, other = false): Attribution {
  return createAttribution({ database: createKyselyStorage({ db: other ? backend.other() : backend.db, ...layout }), onError: () => {} });
}

async function app(backend: Backend): Promise<{ attribution: Attribution; layout: { schema?: string; tablePrefix: string } }> {
  const { layout } = await freshStorage(backend);
  return { attribution: instance(backend, layout), layout };
}

describe.each(backends())('partners.upsert and getByCode on $name', (backend) => {
  it('seeding on every boot keeps one partner, found by its code in any case, and updates what is given', async () => {
    const { attribution } = await app(backend);
    const seed = { name: 'Alice', email: 'Alice@Partners.example', code: 'alice', metadata: { tier: 'gold' } };
    const first = await attribution.partners.upsert(seed);
    const again = await attribution.partners.upsert(seed);
    expect(again.id).toBe(first.id);
    expect(first).toMatchObject({ name: 'Alice', email: 'alice@partners.example', status: 'active', codes: ['alice'], metadata: { tier: 'gold' } });

    // A later boot renames her and gives her one more code; what it leaves out is kept.
    const renamed = await attribution.partners.upsert({ name: 'Alice Liddell', code: 'ALICE', codes: ['wonderland'], promotionCodes: ['promo_alice'] });
    expect(renamed).toMatchObject({ id: first.id, name: 'Alice Liddell', email: 'alice@partners.example', metadata: { tier: 'gold' }, codes: ['alice', 'wonderland'], promotionCodes: ['promo_alice'] });
    expect((await attribution.partners.list()).map((p) => p.id)).toEqual([first.id]);

    expect((await attribution.partners.getByCode(' Wonderland '))?.id).toBe(first.id);
    expect(await attribution.partners.getByCode('nobody')).toBeUndefined();
    await attribution.close();
  });

  it('a disabled partner stays disabled, and is still found by code', async () => {
    const { attribution } = await app(backend);
    const bob = await attribution.partners.upsert({ name: 'Bob', code: 'bob' });
    await attribution.partners.disable(bob.id);
    expect(await attribution.partners.upsert({ name: 'Bob', code: 'bob' })).toMatchObject({ id: bob.id, status: 'disabled' });
    expect((await attribution.partners.getByCode('BOB'))?.status).toBe('disabled');
    await attribution.close();
  });

  it('a code another partner owns fails the whole upsert and writes nothing', async () => {
    const { attribution } = await app(backend);
    const alice = await attribution.partners.upsert({ name: 'Alice', code: 'alice' });
    const carol = await attribution.partners.upsert({ name: 'Carol', code: 'carol' });
    await expect(attribution.partners.upsert({ name: 'Alice B.', code: 'alice', codes: ['carol'], promotionCodes: ['promo_x'] })).rejects.toThrow(ConflictError);
    await expect(attribution.partners.upsert({ name: 'Dave', code: 'dave', codes: ['carol'] })).rejects.toThrow(/already belongs to another partner/);
    await expect(attribution.partners.upsert({ name: ' ', code: 'erin' })).rejects.toThrow(/needs a name/);
    await expect(attribution.partners.upsert({ name: 'Erin', code: 'not a code' })).rejects.toThrow(/must be 1–64 letters/);
    const list = await attribution.partners.list();
    expect(list.map((p) => [p.id, p.name, p.codes, p.promotionCodes])).toEqual([
      [alice.id, 'Alice', ['alice'], []],
      [carol.id, 'Carol', ['carol'], []],
    ]);
    await attribution.close();
  });

  it('instances booting at once leave one partner, and every one of them gets it', async () => {
    const { attribution, layout } = await app(backend);
    const instances = Array.from({ length: 6 }, () => instance(backend, layout, true));
    const seeded = await Promise.all(instances.map((each, n) => each.partners.upsert({ name: 'Alice', code: 'alice', codes: ['alice-2'], promotionCodes: ['promo_alice'], metadata: { boot: n } })));
    const list = await attribution.partners.list();
    expect(list).toHaveLength(1);
    expect(new Set(seeded.map((p) => p.id))).toEqual(new Set([list[0]!.id]));
    expect(list[0]).toMatchObject({ codes: ['alice', 'alice-2'], promotionCodes: ['promo_alice'] });
    await Promise.all([attribution, ...instances].map((each) => each.close()));
  });
});
