import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../../src/dashboard/index.js';
import { backends } from '../support/backends.js';
import { checkoutSession, event } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

const BASE = 'http://shop.example/admin';

describe.each(backends())('partner management over HTTP, on $name', (backend) => {
  let w: World;
  let dashboard: ReturnType<typeof createDashboard>;
  let cookie: string;
  let csrf: string;

  beforeAll(async () => {
    w = await world(backend, undefined, { program: { reward: { type: 'percent', percent: 10 } }, portal: { secret: 'a-portal-secret-for-the-http-suite-0123', url: `${BASE}/portal` } });
    dashboard = createDashboard(w.attribution, { authorize: () => true, basePath: '/admin', secret: 'dashboard-secret-of-the-http-suite-012345' });
    const page = (await dashboard({ method: 'GET', url: `${BASE}/partners`, headers: {} }, undefined as never))!;
    expect(page.status).toBe(200);
    cookie = page.headers['set-cookie']!.split(';')[0]!;
    csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
  });
  afterAll(() => w.attribution.close());

  const post = async (path: string, fields: Record<string, string>, token: string | null = csrf) =>
    (await dashboard(
      { method: 'POST', url: `${BASE}${path}`, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...(token === null ? {} : { csrf: token }), ...fields }).toString() },
      undefined as never,
    ))!;

  it('refuses every action without this browser’s CSRF token, and changes nothing', async () => {
    const before = await w.attribution.partners.get(w.bob);
    const [commission] = await w.attribution.commissions.list();
    const actions: [string, Record<string, string>][] = [
      ['/partners', { name: 'Mallory' }],
      [`/partners/${w.bob}/update`, { name: 'Mallory', email: '' }],
      [`/partners/${w.bob}/disable`, {}],
      [`/partners/${w.bob}/add-code`, { code: 'mallory' }],
      [`/partners/${w.bob}/remove-code`, { code: 'bob' }],
      [`/partners/${w.alice}/remove-promo`, { promotion_code: 'promo_alice' }],
      [`/partners/${w.bob}/add-promo`, { promotion_code: 'promo_mallory' }],
      [`/partners/${w.bob}/reward`, { rate: '90%' }],
      [`/partners/${w.bob}/group`, { group: '' }],
      [`/partners/${w.bob}/portal-link`, {}],
      [`/commissions/${commission?.id ?? 'com_none'}/void-by-hand`, { reason: 'forged' }],
    ];
    for (const [path, fields] of actions) {
      for (const token of [null, 'forged-token']) {
        const response = await post(path, fields, token);
        expect([path, response.status]).toEqual([path, 403]);
        expect(response.body).not.toContain('token=');
      }
    }
    expect(await w.attribution.partners.get(w.bob)).toEqual(before);
    expect((await w.attribution.partners.get(w.alice))!.promotionCodes).toEqual(['promo_alice']);
    expect((await w.attribution.partners.list()).map((p) => p.name)).toEqual(['Alice', 'Bob']);
  });

  it('answers bad input with 400 and what to fix, a taken code with 409, and writes nothing', async () => {
    const before = await w.attribution.partners.get(w.bob);
    const cases: [string, Record<string, string>, number, string][] = [
      ['/partners', { name: '  ' }, 400, 'needs a name'],
      ['/partners', { name: 'Dave', code: 'no spaces' }, 400, 'must be 1–64 letters'],
      [`/partners/${w.bob}/update`, { name: 'Bob', email: 'not-an-email' }, 400, 'not an email address'],
      [`/partners/${w.bob}/update`, { name: '', email: '' }, 400, 'needs a name'],
      [`/partners/${w.bob}/add-code`, { code: 'bad code!' }, 400, 'must be 1–64 letters'],
      [`/partners/${w.bob}/add-code`, { code: 'alice' }, 409, 'already belongs to another partner'],
      [`/partners/${w.bob}/add-promo`, { promotion_code: 'promo_alice' }, 409, 'already belongs to another partner'],
      [`/partners/${w.bob}/add-promo`, { promotion_code: ' ' }, 400, 'promotion code id is needed'],
      [`/partners/${w.bob}/remove-code`, { code: 'alice' }, 400, 'has no referral code'],
      [`/partners/${w.bob}/remove-promo`, { promotion_code: 'promo_nope' }, 400, 'has no promotion code'],
      [`/partners/${w.bob}/reward`, { rate: 'lots' }, 400, 'a percent such as 20%'],
      [`/partners/${w.bob}/reward`, { rate: '120%' }, 400, 'a percent such as 20%'],
      [`/partners/${w.bob}/reward`, { rate: '20%', duration: 'forever' }, 400, 'lifetime, once'],
      [`/partners/${w.bob}/group`, { group: 'grp_nope' }, 400, 'No partner group'],
      [`/partners/${w.bob}/reward`, { rate: '20%', program: 'nope' }, 400, 'nope'],
      ['/partners/ptn_nope/disable', {}, 404, 'No such partner'],
      ['/commissions/com_nope/void-by-hand', { reason: 'typo' }, 400, 'No commission com_nope'],
    ];
    for (const [path, fields, status, message] of cases) {
      const response = await post(path, fields);
      expect([path, fields, response.status]).toEqual([path, fields, status]);
      expect(response.body).toContain(message);
    }
    expect(await w.attribution.partners.get(w.bob)).toEqual(before);
    expect((await w.attribution.partners.list()).map((p) => p.name)).toEqual(['Alice', 'Bob']);
  });

  it('voids a commission only with a reason', async () => {
    const delivered = await w.deliver(event('checkout.session.completed', checkoutSession({ id: 'cs_http', amount_total: 5000, amount_subtotal: 5000, payment_intent: 'pi_http', customer: 'cus_http', customer_details: null, customer_email: 'http@buyers.example', metadata: { sa_click_id: w.aliceClick } })));
    expect(delivered.status).toBe(200);
    const [commission] = await w.attribution.commissions.list();
    expect(commission!.status).toBe('pending');
    const refused = await post(`/commissions/${commission!.id}/void-by-hand`, { reason: '   ' });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('needs a reason');
    expect((await w.attribution.commissions.list())[0]!.status).toBe('pending');
    const voided = await post(`/commissions/${commission!.id}/void-by-hand`, { reason: 'duplicate order' });
    expect([voided.status, voided.headers.location]).toEqual([303, '/admin/commissions?done=void']);
    expect((await w.attribution.commissions.list())[0]).toMatchObject({ status: 'voided', reason: 'duplicate order' });
  });

  it('answers a wrong method with 405 and an unknown status filter with 400', async () => {
    const get = async (path: string, method = 'GET') => (await dashboard({ method, url: `${BASE}${path}`, headers: { cookie } }, undefined as never))!;
    expect((await get(`/partners/${w.bob}/disable`)).status).toBe(405);
    expect((await get(`/partners/${w.bob}/manage`, 'POST')).status).toBe(405);
    expect((await get('/commissions', 'POST')).status).toBe(405);
    expect((await get('/commissions?status=lost')).status).toBe(400);
    expect((await get('/partners/%E0%A4%A/manage')).status).toBe(400);
    expect((await get('/partners/ptn_nope/manage')).status).toBe(404);
  });
});
