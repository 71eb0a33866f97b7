import { describe, expect, it } from 'vitest';
import type { AttributionOptions } from '../../src/core/options/options.js';
import { backends } from '../support/backends.js';
import { T0, checkoutSession, event } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

const programs: AttributionOptions['programs'] = [
  { id: 'affiliates', reward: { type: 'percent', percent: 20 } },
  { id: 'resellers', reward: { type: 'percent', percent: 40 } },
];

/**
 * A buyer arriving through `code` pays $100.00 by checkout (signed webhook); the sale's commission
 * amount. `buyer` names the Stripe customer, so the same buyer can come back.
 */
async function sale(w: World, code: string, buyer: string, order: string, at = T0): Promise<number | null> {
  const { clickId } = await w.attribution.captureClick({ method: 'GET', url: `https://shop.example/?via=${code}`, headers: { 'user-agent': `Mozilla/5.0 (${order}) Firefox/130.0` } });
  const session = checkoutSession({ id: `cs_${order}`, created: at, payment_intent: `pi_${order}`, customer: `cus_${buyer}`, customer_details: null, customer_email: `${buyer}@example.com`, metadata: { sa_click_id: clickId! } });
  expect((await w.deliver(event('checkout.session.completed', session))).status).toBe(200);
  const [recorded] = (await w.attribution.sales.list({ livemode: false })).filter((s) => s.stripeCheckoutSessionId === `cs_${order}`);
  return (await w.attribution.commissions.list({ saleId: recorded!.id })).find((c) => c.kind === 'sale')?.amount ?? null;
}

describe.each(backends())('partner groups on $name', (backend) => {
  it('a partner’s own reward beats their group’s, which beats the program’s, within the group’s program only', async () => {
    const w = await world(backend, undefined, { programs });
    const gold = await w.attribution.partners.groups.create({ name: 'Gold resellers', programId: 'resellers', reward: { type: 'percent', percent: 60 } });
    expect(gold).toMatchObject({ programId: 'resellers', name: 'Gold resellers', reward: { type: 'percent', percent: 60 } });
    await w.attribution.partners.addCode(w.alice, 'alice-pro', { programId: 'resellers' });
    await w.attribution.partners.addCode(w.bob, 'bob-pro', { programId: 'resellers' });
    await w.attribution.partners.groups.assign(w.alice, gold.id);
    await w.attribution.partners.groups.assign(w.bob, gold.id);
    await w.attribution.partners.setReward(w.alice, { type: 'percent', percent: 45 }, { programId: 'resellers' });
    const carol = await w.attribution.partners.create({ name: 'Carol', code: 'carol-pro', programId: 'resellers', groupId: gold.id });
    const dave = await w.attribution.partners.create({ name: 'Dave', code: 'dave-pro', programId: 'resellers' });
    expect(carol.programs.resellers).toEqual({ codes: ['carol-pro'], promotionCodes: [], reward: null, groupId: gold.id });
    expect((await w.attribution.partners.get(w.alice))!.programs.resellers).toMatchObject({ reward: { type: 'percent', percent: 45 }, groupId: gold.id });

    expect(await sale(w, 'alice-pro', 'b1', 'o1')).toBe(4500); // her own 45 %
    expect(await sale(w, 'bob-pro', 'b2', 'o2')).toBe(6000); // the group's 60 %
    expect(await sale(w, 'carol-pro', 'b3', 'o3')).toBe(6000); // the group's, from creation
    expect(await sale(w, 'dave-pro', 'b4', 'o4')).toBe(4000); // no group: the program's 40 %
    // Bob's group is a resellers group: his affiliate link earns the affiliates' 20 %.
    expect(await sale(w, 'bob', 'b5', 'o5')).toBe(2000);
  });

  it('group changes apply to customers whose first sale comes later; a partner is in one group per program', async () => {
    const w = await world(backend, undefined, { programs });
    const silver = await w.attribution.partners.groups.create({ name: 'Silver', programId: 'resellers', reward: { type: 'percent', percent: 50 } });
    const platinum = await w.attribution.partners.groups.create({ name: 'Platinum', programId: 'resellers', reward: { type: 'flat', amount: 7500 } });
    const affiliateGroup = await w.attribution.partners.groups.create({ name: 'Silver', reward: { type: 'percent', percent: 5 } });
    expect(affiliateGroup.programId).toBe('affiliates');
    await w.attribution.partners.addCode(w.bob, 'bob-pro', { programId: 'resellers' });
    await w.attribution.partners.groups.assign(w.bob, silver.id);

    expect(await sale(w, 'bob-pro', 'first', 'o1')).toBe(5000);
    await w.attribution.partners.groups.setReward(silver.id, { type: 'percent', percent: 10 });
    // The first customer keeps the terms of their first sale; a new one gets the new terms.
    expect(await sale(w, 'bob-pro', 'first', 'o2', T0 + 60)).toBe(5000);
    expect(await sale(w, 'bob-pro', 'second', 'o3')).toBe(1000);
    // Assigning another group of the same program moves Bob; his affiliates standing is untouched.
    await w.attribution.partners.groups.assign(w.bob, platinum.id);
    await w.attribution.partners.groups.assign(w.bob, affiliateGroup.id);
    expect((await w.attribution.partners.get(w.bob))!.programs).toMatchObject({ resellers: { groupId: platinum.id }, affiliates: { groupId: affiliateGroup.id } });
    expect(await sale(w, 'bob-pro', 'third', 'o4')).toBe(7500);
    expect(await sale(w, 'bob', 'fourth', 'o5')).toBe(500);
    await w.attribution.partners.groups.unassign(w.bob, { programId: 'resellers' });
    expect(await sale(w, 'bob-pro', 'fifth', 'o6')).toBe(4000);
    expect((await w.attribution.partners.groups.list({ programId: 'resellers' })).map((g) => [g.name, g.reward])).toEqual([
      ['Platinum', { type: 'flat', amount: 7500 }],
      ['Silver', { type: 'percent', percent: 10 }],
    ]);
  });

  it('refuses a group of another program, an unknown group or partner, and a bad reward, writing nothing', async () => {
    const w = await world(backend, undefined, { programs });
    const gold = await w.attribution.partners.groups.create({ name: 'Gold', programId: 'resellers' });
    expect(gold.reward).toBeNull();
    await expect(w.attribution.partners.create({ name: 'Eve', code: 'eve', groupId: gold.id })).rejects.toThrow(/belongs to program "resellers", not "affiliates"/);
    await expect(w.attribution.partners.groups.assign(w.bob, 'grp_missing')).rejects.toThrow(/No partner group grp_missing/);
    await expect(w.attribution.partners.groups.assign('ptn_missing', gold.id)).rejects.toThrow(/No partner ptn_missing/);
    await expect(w.attribution.partners.groups.create({ name: 'Bad', reward: { type: 'percent', percent: 101 } })).rejects.toThrow(/between 0 and 100/);
    await expect(w.attribution.partners.groups.create({ name: ' ' })).rejects.toThrow(/needs a name/);
    await expect(w.attribution.partners.groups.create({ name: 'Elsewhere', programId: 'nonsense' })).rejects.toThrow(/No program "nonsense"/);
    expect((await w.attribution.partners.list()).map((p) => p.name)).toEqual(['Alice', 'Bob']);
    expect(await w.count('sa_partner_groups')).toBe(1);
    expect(await w.count('sa_partner_programs')).toBe(0);
  });
});
