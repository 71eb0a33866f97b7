import { describe, expect, it } from 'vitest';
import { createDashboard, type DashboardRequest, type DashboardResponse } from '../../src/dashboard/index.js';
import { backends } from '../support/backends.js';
import { checkoutSession, event } from '../support/stripe-fixtures.js';
import { world } from '../support/world.js';

const BASE = '/attribution';
const PORTAL = { secret: 'portal-secret-for-the-review-suite', url: 'https://shop.example/attribution/portal' };

const get = (path: string, headers: Record<string, string> = {}): DashboardRequest => ({ method: 'GET', url: `https://shop.example${path}`, headers });
const post = (path: string, cookie: string, body: string): DashboardRequest => ({ method: 'POST', url: `https://shop.example${path}`, headers: { cookie }, body });
const cookieOf = (response: DashboardResponse) => response.headers['set-cookie']!.split(';')[0]!;
const tokenOf = (page: DashboardResponse, id: string, action: 'clear' | 'void') =>
  new RegExp(`action="${BASE}/commissions/${id}/${action}"><input type="hidden" name="csrf" value="([^"]+)"`).exec(page.body)![1]!;

describe.each(backends())('fraud review in the dashboard ($name)', (backend) => {
  it('lists held commissions with their flags; clear and void are CSRF forms; the portal shows "under review" without the reason', async () => {
    const w = await world(backend, undefined, { livemode: false, portal: PORTAL, program: { reward: { type: 'percent', percent: 30 } } });
    for (const n of [1, 2, 3]) {
      const session = checkoutSession({ id: `cs_${n}`, payment_intent: `pi_${n}`, customer: `cus_${n}`, customer_details: null, customer_email: `buyer${n}@mailinator.com`, metadata: { sa_click_id: w.aliceClick } });
      await w.deliver(event('checkout.session.completed', session));
    }
    const [first, second, third] = (await w.attribution.commissions.review.list()).map((c) => c.id);
    const dashboard = createDashboard<{ user?: string }>(w.attribution, { authorize: () => ({ user: 'merchant@shop.example' }), secret: 'shared', livemode: false });

    const page = (await dashboard(get(`${BASE}/review`), {}))!;
    expect(page.status).toBe(200);
    for (const id of [first, second, third]) expect(page.body).toContain(`data-commission="${id}"`);
    expect(page.body).toContain('<strong>disposableEmail</strong>: The buyer&#39;s email is at a throwaway domain (mailinator.com)');
    const cookie = cookieOf(page);

    // A forged token changes nothing.
    expect((await dashboard(post(`${BASE}/commissions/${first}/clear`, cookie, 'csrf=forged'), {}))!.status).toBe(403);
    expect((await dashboard(get(`${BASE}/commissions/${first}/clear`), {}))!.status).toBe(405);
    expect((await w.attribution.commissions.review.list()).map((c) => c.id)).toEqual([first, second, third]);

    const cleared = (await dashboard(post(`${BASE}/commissions/${first}/clear`, cookie, `csrf=${encodeURIComponent(tokenOf(page, first!, 'clear'))}&note=regular`), {}))!;
    expect(cleared).toMatchObject({ status: 303, headers: { location: `${BASE}/review?done=clear` } });
    expect(await w.attribution.commissions.review.decision(first!)).toMatchObject({ decision: 'cleared', note: 'regular', decidedBy: 'merchant@shop.example' });
    const again = (await dashboard(post(`${BASE}/commissions/${first}/clear`, cookie, `csrf=${encodeURIComponent(tokenOf(page, first!, 'clear'))}`), {}))!;
    expect(again.status).toBe(409);

    const voidToken = encodeURIComponent(tokenOf(page, second!, 'void'));
    expect((await dashboard(post(`${BASE}/commissions/${second}/void`, cookie, `csrf=${voidToken}&reason=`), {}))!.status).toBe(400);
    expect((await dashboard(post(`${BASE}/commissions/${second}/void`, cookie, `csrf=${voidToken}&reason=fake%20buyer`), {}))!.status).toBe(303);

    const statuses = Object.fromEntries((await w.attribution.commissions.list({ partnerId: w.alice })).map((c) => [c.id, [c.status, c.review]]));
    expect([statuses[first!], statuses[second!], statuses[third!]]).toEqual([['pending', 'cleared'], ['voided', 'voided'], ['held', 'pending']]);
    const after = (await dashboard(get(`${BASE}/review?done=void`, { cookie }), {}))!;
    expect(after.body).toContain('Voided: 1 commission.');
    expect(after.body).not.toContain(`data-commission="${first}"`);

    const link = new URL(await w.attribution.partners.portalUrl(w.alice, { expiresIn: 600 }));
    const portal = (await dashboard(get(link.pathname + link.search), {}))!;
    expect(portal.status).toBe(200);
    expect(portal.body).toMatch(new RegExp(`data-commission="${third}"[\\s\\S]*?under review`));
    expect(portal.body).not.toContain('throwaway');
    expect(portal.body).not.toContain('disposableEmail');
  });
});
