import { describe, expect, it } from 'vitest';
import { createDashboard, type DashboardRequest } from '../../src/dashboard/index.js';
import { backends } from '../support/backends.js';
import { account, event } from '../support/stripe-fixtures.js';
import { stripeServer, world } from '../support/world.js';

const BASE = '/admin/attribution';
const PORTAL = { secret: 'portal-secret-for-connect-tests-0123456789', url: `https://shop.example${BASE}/portal` };

function request(method: string, path: string, body?: string): DashboardRequest {
  return { method, url: `https://shop.example${path}`, headers: body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}, ...(body ? { body } : {}) };
}

describe.each(backends())('Connect in the dashboard and the partner portal ($name)', (backend) => {
  it('a partner gets paid with Stripe from their portal; the merchant sees each partner’s payout method and state', async () => {
    const w = await world(backend, undefined, { portal: PORTAL, connect: { country: 'US' } });
    const dashboard = createDashboard(w.attribution, { basePath: BASE, authorize: () => true, secret: 'dashboard-secret' });
    const call = async (req: DashboardRequest) => (await dashboard(req, req))!;
    const token = new URL(await w.attribution.partners.portalUrl(w.alice)).searchParams.get('token')!;

    const portal = await call(request('GET', `${BASE}/portal?token=${encodeURIComponent(token)}`));
    expect(portal.status).toBe(200);
    expect(portal.body).toContain('Get paid with Stripe');
    expect(portal.body).toContain(`action="${BASE}/portal/connect"`);

    // A country Stripe cannot transfer to from the US: a clear refusal, no account.
    const refused = await call(request('POST', `${BASE}/portal/connect`, `token=${encodeURIComponent(token)}&country=IN`));
    expect(refused.status).toBe(422);
    expect(refused.body).toMatch(/cannot transfer to a connected account in IN/);
    expect((await w.attribution.connect.payoutMethod(w.alice))!.stripeAccountId).toBeNull();
    // A forged token onboards nobody.
    expect((await call(request('POST', `${BASE}/portal/connect`, 'token=forged&country=US'))).status).toBe(403);

    const started = await call(request('POST', `${BASE}/portal/connect`, `token=${encodeURIComponent(token)}&country=US`));
    expect(started.status).toBe(303);
    const { stripeAccountId } = (await w.attribution.connect.payoutMethod(w.alice))!;
    expect(started.headers.location).toMatch(new RegExp(`^https://connect\\.stripe\\.com/setup/e/${stripeAccountId}/`));
    const link = stripeServer.requests.filter((r) => r.path === '/v1/account_links' && r.form.account === stripeAccountId).at(-1)!;
    expect(link.form.return_url).toBe(`https://shop.example${BASE}/portal?token=${encodeURIComponent(token)}`);
    expect(link.form.refresh_url).toBe(`https://shop.example${BASE}/portal/connect?token=${encodeURIComponent(token)}`);
    // Stripe sends the partner back to the refresh URL when the link expired: a new link, same account.
    const refreshed = await call(request('GET', `${BASE}/portal/connect?token=${encodeURIComponent(token)}`));
    expect(refreshed.status).toBe(303);
    expect(refreshed.headers.location).toContain(stripeAccountId!);

    let overview = await call(request('GET', `${BASE}/`));
    expect(overview.body).toMatch(/data-payout-method="[^"]+"><th scope="row">Alice<\/th><td data-field="method">CSV export<\/td>\s*<td data-field="state">Stripe onboarding not finished/);
    await w.deliver(event('account.updated', account({ id: stripeAccountId!, capabilities: { transfers: 'active' } }), { account: stripeAccountId! }));
    overview = await call(request('GET', `${BASE}/`));
    expect(overview.body).toMatch(/<th scope="row">Alice<\/th><td data-field="method">Stripe transfer<\/td>\s*<td data-field="state">Stripe transfers enabled/);
    expect(overview.body).toMatch(/<th scope="row">Bob<\/th><td data-field="method">CSV export<\/td>\s*<td data-field="state">not connected/);
    expect((await call(request('GET', `${BASE}/portal?token=${encodeURIComponent(token)}`))).body).toContain('You are paid by Stripe transfer');
  });
});
