import { describe, expect, it } from 'vitest';
import { CrossBorderError } from '../../src/core/index.js';
import { serviceAgreement } from '../../src/core/partners/cross-border.js';
import { backends } from '../support/backends.js';
import { account, event } from '../support/stripe-fixtures.js';
import { stripeServer, world } from '../support/world.js';
import { connectWorld } from './support.js';

const urls = { returnUrl: 'https://shop.example/partners/done', refreshUrl: 'https://shop.example/partners/again' };

function accountRequests(partnerId: string) {
  return stripeServer.requests.filter((r) => r.method === 'POST' && r.path === '/v1/accounts' && r.form['metadata[sa_partner_id]'] === partnerId);
}

describe('the cross-border rule', () => {
  it('allows the same country (full agreement), the cross-border region (recipient agreement), and nothing else', () => {
    expect(serviceAgreement('US', 'us')).toBe('full');
    expect(serviceAgreement('JP', 'JP')).toBe('full');
    expect(serviceAgreement('US', 'DE')).toBe('recipient');
    expect(serviceAgreement('GB', 'CA')).toBe('recipient');
    expect(serviceAgreement('NO', 'CH')).toBe('recipient');
    expect(() => serviceAgreement('US', 'IN')).toThrow(CrossBorderError);
    expect(() => serviceAgreement('JP', 'US')).toThrow(/cannot transfer to a connected account in US/);
    expect(() => serviceAgreement('US', 'Germany')).toThrow(/two-letter ISO country code/);
  });
});

describe.each(backends())('Connect onboarding on $name', (backend) => {
  it('creates one Express account with the transfers capability, stores it, and returns a Stripe-hosted onboarding link', async () => {
    const w = await connectWorld(backend, { connectAlice: false });
    const [one, two] = await Promise.all([w.attribution.connect.onboard(w.alice, { country: 'US', ...urls }), w.attribution.connect.onboard(w.alice, { country: 'US', ...urls })]);
    expect(one.stripeAccountId).toBe(two.stripeAccountId);
    expect(one.url).toMatch(new RegExp(`^https://connect\\.stripe\\.com/setup/e/${one.stripeAccountId}/`));
    const sent = accountRequests(w.alice);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    for (const request of sent) {
      expect(request.idempotencyKey).toBe(`sa-partner-account-${w.alice}-US`);
      expect(request.form).toMatchObject({ type: 'express', country: 'US', email: 'alice@partners.example', 'capabilities[transfers][requested]': 'true' });
      expect(request.form['tos_acceptance[service_agreement]']).toBeUndefined();
    }
    expect(stripeServer.created.filter((o) => o.object === 'account' && (o.metadata as Record<string, string>).sa_partner_id === w.alice)).toHaveLength(1);
    const link = stripeServer.requests.filter((r) => r.path === '/v1/account_links' && r.form.account === one.stripeAccountId).at(-1)!;
    expect(link.form).toMatchObject({ type: 'account_onboarding', return_url: urls.returnUrl, refresh_url: urls.refreshUrl });

    expect(await w.attribution.connect.payoutMethod(w.alice)).toMatchObject({ stripeAccountId: one.stripeAccountId, country: 'US', method: 'export', state: 'onboarding' });
    // Coming back later (the link expired): a new link for the same account, no country needed.
    const again = await w.attribution.connect.onboard(w.alice, urls);
    expect(again.stripeAccountId).toBe(one.stripeAccountId);
    expect(accountRequests(w.alice)).toHaveLength(sent.length);
  });

  it('refuses a partner whose country cannot receive transfers from the merchant’s, before creating anything; cross-border ones get a recipient account', async () => {
    // The merchant's country comes from Stripe when not configured.
    stripeServer.answers.set('GET /v1/account', { ...account({ id: 'acct_platform', country: 'US' }) });
    const w = await world(backend);
    await expect(w.attribution.connect.onboard(w.alice, { country: 'IN', ...urls })).rejects.toThrow(CrossBorderError);
    await expect(w.attribution.connect.onboard(w.alice, { country: 'IN', ...urls })).rejects.toThrow(/in US cannot transfer to a connected account in IN/);
    expect(accountRequests(w.alice)).toHaveLength(0);
    expect(await w.attribution.connect.payoutMethod(w.alice)).toMatchObject({ stripeAccountId: null, state: 'none', method: 'export' });

    await w.attribution.connect.onboard(w.bob, { country: 'de', ...urls });
    expect(accountRequests(w.bob)[0]!.form).toMatchObject({ country: 'DE', 'tos_acceptance[service_agreement]': 'recipient' });
    stripeServer.answers.delete('GET /v1/account');
  });

  it('refuses bad input clearly, writing nothing', async () => {
    const w = await connectWorld(backend, { connectAlice: false });
    await expect(w.attribution.connect.onboard(w.alice, { ...urls })).rejects.toThrow(/needs their country/);
    await expect(w.attribution.connect.onboard(w.alice, { country: 'US', ...urls, returnUrl: '/done' })).rejects.toThrow(/returnUrl must be an absolute http\(s\) URL/);
    await expect(w.attribution.connect.onboard('pa_nobody', { country: 'US', ...urls })).rejects.toThrow(/No partner pa_nobody/);
    expect(accountRequests(w.alice)).toHaveLength(0);
  });

  it('records transfers enabled and disabled from signed account.updated webhooks, raising partner.payouts_enabled once', async () => {
    const w = await connectWorld(backend, { connectAlice: false });
    const { stripeAccountId } = await w.attribution.connect.onboard(w.alice, { country: 'US', ...urls });
    const updated = (transfers: 'active' | 'inactive' | 'pending') => event('account.updated', account({ id: stripeAccountId, capabilities: { transfers } }), { account: stripeAccountId });

    expect(await w.deliver(updated('pending'))).toMatchObject({ status: 200 });
    expect(await w.attribution.connect.payoutMethod(w.alice)).toMatchObject({ transfersStatus: 'pending', state: 'onboarding' });
    expect(await w.deliver(updated('active'))).toMatchObject({ status: 200 });
    expect(await w.deliver(updated('active'))).toMatchObject({ status: 200 });
    expect(await w.attribution.connect.payoutMethod(w.alice)).toMatchObject({ transfersStatus: 'active', state: 'enabled', method: 'stripe' });
    await w.attribution.outbox.drain();
    expect(w.raised.filter((r) => r.name === 'partner.payouts_enabled').map((r) => r.payload)).toEqual([{ partnerId: w.alice, stripeAccountId }]);

    expect(await w.deliver(updated('inactive'))).toMatchObject({ status: 200 });
    expect(await w.attribution.connect.payoutMethod(w.alice)).toMatchObject({ transfersStatus: 'inactive', state: 'onboarding', method: 'export' });
    // Another connected account of the merchant's: nothing recorded, still 200.
    expect(await w.deliver(event('account.updated', account({ id: 'acct_someone_else' }), { account: 'acct_someone_else' }))).toMatchObject({ status: 200 });
    expect((await w.attribution.connect.payoutMethods()).map((m) => [m.partnerName, m.state])).toEqual([
      ['Alice', 'onboarding'],
      ['Bob', 'none'],
    ]);
  });
});
