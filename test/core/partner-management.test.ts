import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { AttributionError } from '../../src/core/kernel/errors.js';
import { backends, freshStorage } from '../support/backends.js';

const visit = (code: string) => ({ method: 'GET', url: `https://shop.example/?via=${code}`, headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } });

describe.each(backends())('partner management, on $name', (backend) => {
  const instance = async () => createAttribution({ database: await freshStorage(backend), clicks: { ipSalt: 'pepper' }, onError: () => {} });

  it('update changes only the given fields, and refuses a blank name or a malformed email', async () => {
    const attribution = await instance();
    const { id } = await attribution.partners.create({ name: 'Alice', email: 'alice@partners.example', code: 'alice', metadata: { tier: 'gold' } });
    expect(await attribution.partners.update(id, { name: ' Alice Smith ' })).toMatchObject({ name: 'Alice Smith', email: 'alice@partners.example', metadata: { tier: 'gold' } });
    expect(await attribution.partners.update(id, { email: 'Alice@New.example' })).toMatchObject({ name: 'Alice Smith', email: 'alice@new.example' });
    expect(await attribution.partners.update(id, { email: null })).toMatchObject({ email: null });
    await expect(attribution.partners.update(id, { name: ' ' })).rejects.toThrow('A partner needs a name');
    await expect(attribution.partners.update(id, { email: 'alice' })).rejects.toThrow('is not an email address');
    await expect(attribution.partners.update('ptn_nope', { name: 'X' })).rejects.toThrow('No partner ptn_nope');
    expect(await attribution.partners.get(id)).toMatchObject({ name: 'Alice Smith', email: null });
  });

  it('create and upsert refuse a malformed email before writing anything, and keep a blank one as none', async () => {
    const attribution = await instance();
    await expect(attribution.partners.create({ name: 'Alice', email: 'Alice Smith', code: 'alice' })).rejects.toThrow('"Alice Smith" is not an email address');
    await expect(attribution.partners.upsert({ name: 'Alice', email: 'alice@', code: 'alice' })).rejects.toThrow('"alice@" is not an email address');
    // The rule applicants meet too: a display name around the address is not an address.
    await expect(attribution.partners.create({ name: 'Alice', email: 'Alice<alice@a.example>', code: 'alice' })).rejects.toThrow('"Alice<alice@a.example>" is not an email address');
    expect(await attribution.partners.list()).toEqual([]);
    expect(await attribution.partners.getByCode('alice')).toBeUndefined();
    expect(await attribution.partners.create({ name: 'Alice', email: '  Alice@Partners.Example ', code: 'alice' })).toMatchObject({ email: 'alice@partners.example' });
    expect(await attribution.partners.upsert({ name: 'Alice', email: ' ', code: 'alice' })).toMatchObject({ email: null });
    await expect(attribution.partners.upsert({ name: 'Alice', email: 'alice', code: 'alice' })).rejects.toThrow('is not an email address');
    expect(await attribution.partners.getByCode('alice')).toMatchObject({ email: null });
  });

  it('a removed code records no clicks and is free for another partner; the clicks it made stay credited', async () => {
    const attribution = await instance();
    const alice = await attribution.partners.create({ name: 'Alice', code: 'alice', codes: ['spring'], promotionCodes: ['promo_spring'] });
    const before = await attribution.captureClick(visit('spring'));
    expect(before.clickId).not.toBeNull();
    await attribution.partners.removeCode(alice.id, 'SPRING');
    await attribution.partners.removePromotionCode(alice.id, 'promo_spring');
    expect(await attribution.partners.get(alice.id)).toMatchObject({ codes: ['alice'], promotionCodes: [] });
    expect((await attribution.captureClick(visit('spring'))).clickId).toBeNull();
    await expect(attribution.partners.removeCode(alice.id, 'spring')).rejects.toThrow(AttributionError);

    const bob = await attribution.partners.create({ name: 'Bob', code: 'spring', promotionCodes: ['promo_spring'] });
    expect((await attribution.partners.getByCode('spring'))!.id).toBe(bob.id);
    // Bob's code cannot be removed through Alice.
    await expect(attribution.partners.removeCode(alice.id, 'spring')).rejects.toThrow('has no referral code "spring"');
    await expect(attribution.partners.removePromotionCode(alice.id, 'promo_spring')).rejects.toThrow('has no promotion code promo_spring');
    expect((await attribution.partners.get(bob.id))!.promotionCodes).toEqual(['promo_spring']);
    expect((await (await attribution.storage()).getClick(before.clickId!))?.partnerId).toBe(alice.id);
  });

  it('code and status changes to a partner that does not exist are refused', async () => {
    const attribution = await instance();
    for (const change of [
      () => attribution.partners.addCode('ptn_nope', 'nope'),
      () => attribution.partners.addPromotionCode('ptn_nope', 'promo_nope'),
      () => attribution.partners.disable('ptn_nope'),
      () => attribution.partners.enable('ptn_nope'),
    ]) {
      await expect(change()).rejects.toThrow('No partner ptn_nope');
    }
    expect(await attribution.partners.list()).toEqual([]);
  });

  it('a pending application cannot be enabled around its approval, nor disabled', async () => {
    const attribution = await instance();
    const { partner } = await attribution.applications.submit({ name: 'Dana', email: 'dana@partners.example', promotion: 'A cooking blog', code: 'dana' });
    await expect(attribution.partners.enable(partner.id)).rejects.toThrow('is a pending application');
    await expect(attribution.partners.disable(partner.id)).rejects.toThrow('is a pending application');
    expect((await attribution.partners.get(partner.id))!.status).toBe('pending');
    expect((await attribution.captureClick(visit('dana'))).clickId).toBeNull();
  });
});

describe('share links', () => {
  it('are full links on portal.siteUrl, with the first referral parameter', () => {
    const attribution = createAttribution({ database: 'memory://', clicks: { params: ['ref', 'via'] }, portal: { siteUrl: 'https://shop.example/pricing?lang=en' } });
    expect(attribution.partners.shareUrl('alice')).toBe('https://shop.example/pricing?lang=en&ref=alice');
    expect(createAttribution({ database: 'memory://' }).partners.shareUrl('alice')).toBe('?via=alice');
    expect(() => createAttribution({ database: 'memory://', portal: { siteUrl: 'shop.example' } })).toThrow();
    expect(() => createAttribution({ database: 'memory://', portal: { siteUrl: 'ftp://shop.example/' } })).toThrow('portal.siteUrl must be an http(s) address');
  });
});
