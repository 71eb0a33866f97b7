import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createDashboard, type DashboardRequest, type DashboardResponse } from '../../src/dashboard/index.js';
import { ConfigurationError } from '../../src/core/kernel/errors.js';
import { backends } from '../support/backends.js';
import { checkoutSession, event } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

const BASE = '/attribution';
const PORTAL = { secret: 'portal-secret-for-the-hardening-suite', url: 'https://shop.example/attribution/portal' };
type Native = { user?: string };

function get(path: string, headers: Record<string, string> = {}, origin = 'https://shop.example'): DashboardRequest {
  return { method: 'GET', url: `${origin}${path}`, headers };
}

function cookieOf(response: DashboardResponse): string {
  return response.headers['set-cookie']!.split(';')[0]!;
}

/** The CSRF token of the approve form of `commissionId` on a rendered page. */
function tokenOf(page: DashboardResponse, commissionId: string): string {
  return new RegExp(`action="${BASE}/commissions/${commissionId}/approve"><input type="hidden" name="csrf" value="([^"]+)"`).exec(page.body)![1]!;
}

function approve(commissionId: string, cookie: string, token: string): DashboardRequest {
  return { method: 'POST', url: `https://shop.example${BASE}/commissions/${commissionId}/approve`, headers: { cookie }, body: `csrf=${encodeURIComponent(token)}` };
}

describe.each(backends())('dashboard and portal hardening ($name)', (backend) => {
  let w: World;
  let pending: () => Promise<string[]>;
  beforeAll(async () => {
    w = await world(backend, undefined, { livemode: false, portal: PORTAL, program: { reward: { type: 'percent', percent: 30, duration: 'lifetime' } } });
    for (const n of [1, 2, 3]) {
      await w.deliver(event('checkout.session.completed', checkoutSession({ id: `cs_dash_${n}`, payment_intent: `pi_dash_${n}`, customer: `cus_dash_${n}`, metadata: { sa_click_id: w.aliceClick } })));
    }
    pending = async () => (await w.attribution.commissions.list({ partnerId: w.alice })).filter((c) => c.status === 'pending').map((c) => c.id);
    expect((await pending()).length).toBeGreaterThanOrEqual(3);
  });

  it('in production, refuses to start without a configured secret', () => {
    vi.stubEnv('NODE_ENV', 'production');
    const bare = { ...w.attribution, options: { ...w.attribution.options, portal: { ...w.attribution.options.portal, secret: undefined } } } as typeof w.attribution;
    expect(() => createDashboard(bare, { authorize: () => true })).toThrow(ConfigurationError);
    expect(() => createDashboard(bare, { authorize: () => true })).toThrow(/needs a stable secret in production/);
    expect(() => createDashboard(bare, { authorize: () => true, secret: 'configured' })).not.toThrow();
    expect(() => createDashboard(w.attribution, { authorize: () => true })).not.toThrow();
  });

  it('two instances sharing a secret accept each other’s forms; an instance with another secret does not', async () => {
    const [first, second, other] = ['shared', 'shared', 'another'].map((secret) => createDashboard<Native>(w.attribution, { authorize: () => true, secret, livemode: false }));
    const [commission] = await pending();
    const page = (await first!(get(`${BASE}/`), {}))!;
    const cookie = cookieOf(page);
    const token = tokenOf(page, commission!);
    expect((await other!(approve(commission!, cookie, token), {}))!.status).toBe(403);
    expect((await second!(approve(commission!, cookie, token), {}))!.status).toBe(303);
    expect((await w.attribution.commissions.list({ partnerId: w.alice })).find((c) => c.id === commission)!.status).toBe('approved');
  });

  it('a CSRF token is bound to the user authorize names', async () => {
    const dashboard = createDashboard<Native>(w.attribution, { authorize: (native) => (native.user ? { user: native.user } : false), secret: 'shared', livemode: false });
    const [commission] = await pending();
    const page = (await dashboard(get(`${BASE}/`), { user: 'ana' }))!;
    const request = approve(commission!, cookieOf(page), tokenOf(page, commission!));
    expect((await dashboard(request, { user: 'bo' }))!.status).toBe(403);
    expect((await w.attribution.commissions.list({ partnerId: w.alice })).find((c) => c.id === commission)!.status).toBe('pending');
    expect((await dashboard(request, { user: 'ana' }))!.status).toBe(303);
  });

  it('the CSRF cookie is Secure over https, and behind a proxy only when the merchant trusts it', async () => {
    const viaProxy = get(`${BASE}/`, { 'x-forwarded-proto': 'https, http' }, 'http://app.internal:3000');
    const untrusting = createDashboard(w.attribution, { authorize: () => true, secret: 'shared' });
    const trusting = createDashboard(w.attribution, { authorize: () => true, secret: 'shared', trustProxy: true });
    expect((await untrusting(viaProxy, viaProxy))!.headers['set-cookie']).not.toMatch(/;\s*Secure/i);
    expect((await trusting(viaProxy, viaProxy))!.headers['set-cookie']).toMatch(/;\s*Secure/i);
    const plain = get(`${BASE}/`, {}, 'http://app.internal:3000');
    expect((await trusting(plain, plain))!.headers['set-cookie']).not.toMatch(/;\s*Secure/i);
    const tls = get(`${BASE}/`);
    expect((await untrusting(tls, tls))!.headers['set-cookie']).toMatch(/;\s*Secure/i);
  });

  it('malformed paths and hosts answer 400, not 500', async () => {
    const dashboard = createDashboard(w.attribution, { authorize: () => true, secret: 'shared' });
    for (const path of [`${BASE}/partners/%E0%A4%A`, `${BASE}/commissions/%zz/approve`]) {
      const request = get(path);
      expect((await dashboard(request, request))!.status).toBe(400);
    }
    const badHost = { method: 'GET', url: `http://exa mple:99999${BASE}/`, headers: {} };
    expect((await dashboard(badHost, badHost))!.status).toBe(400);
  });

  it('a portal link is refused once its partner is disabled', async () => {
    const dashboard = createDashboard(w.attribution, { authorize: () => false });
    const bob = await w.attribution.partners.create({ name: 'Bobby', code: 'bobby' });
    const link = new URL(await w.attribution.partners.portalUrl(bob.id, { expiresIn: 600 }));
    const open = get(`${BASE}/portal${link.search}`);
    expect((await dashboard(open, open))!.status).toBe(200);
    await w.attribution.partners.disable(bob.id);
    const refused = (await dashboard(open, open))!;
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('disabled');
  });

  it('the overview shows how many hook events are failing', async () => {
    const hooked = await world(backend, undefined, { livemode: false, outbox: { worker: false }, onError: () => {} });
    hooked.attribution.on('sale.created', () => {
      throw new Error('the CRM is down');
    });
    const dashboard = createDashboard(hooked.attribution, { authorize: () => true });
    const before = get(`${BASE}/`);
    expect((await dashboard(before, before))!.body).not.toContain('Hook events failing');
    await hooked.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_hooked', payment_intent: 'pi_hooked', metadata: { sa_click_id: hooked.aliceClick } })));
    await hooked.attribution.outbox.drain();
    const after = (await dashboard(before, before))!;
    expect(after.body).toContain('data-outbox-failing="1"');
    expect(after.body).toContain('Hook events failing: 1 retrying, 0 given up');
  });

  it('revoking a partner’s portal links refuses every earlier link (API and the partner page’s button); a new link works', async () => {
    const dashboard = createDashboard<Native>(w.attribution, { authorize: (native) => (native.user ? { user: native.user } : false) });
    const bob = await w.attribution.partners.create({ name: 'Robert', code: 'robert' });
    const opener = async (url: string) => {
      const request = get(`${BASE}/portal${new URL(url).search}`);
      return (await dashboard(request, {}))!;
    };
    const first = await w.attribution.partners.portalUrl(bob.id, { expiresIn: 600 });
    expect((await opener(first)).status).toBe(200);
    await w.attribution.partners.revokePortalLinks(bob.id);
    expect(await opener(first)).toMatchObject({ status: 403, body: expect.stringContaining('revoked') });

    const second = await w.attribution.partners.portalUrl(bob.id, { expiresIn: 600 });
    expect((await opener(second)).status).toBe(200);
    // The button on the partner's page, with its CSRF token.
    const page = (await dashboard(get(`${BASE}/partners/${bob.id}`), { user: 'ada' }))!;
    const action = `${BASE}/partners/${bob.id}/revoke-portal-links`;
    const token = new RegExp(`action="${action}"><input type="hidden" name="csrf" value="([^"]+)"`).exec(page.body)![1]!;
    const post = (csrf: string): DashboardRequest => ({ method: 'POST', url: `https://shop.example${action}`, headers: { cookie: cookieOf(page) }, body: `csrf=${encodeURIComponent(csrf)}` });
    expect((await dashboard(post('forged'), { user: 'ada' }))!.status).toBe(403);
    expect((await opener(second)).status).toBe(200);
    const revoked = (await dashboard(post(token), { user: 'ada' }))!;
    expect(revoked.status).toBe(303);
    expect((await opener(second)).status).toBe(403);
    await expect(w.attribution.partners.revokePortalLinks('ptn_nobody')).rejects.toThrow(/No partner/);
  });
});
