import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appWithDashboard } from '../../examples/dashboard-express.js';
import { backends } from '../support/backends.js';
import { launchChromium, saveScreenshot } from '../support/chromium.js';
import { T0, checkoutSession, event } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

const ADMIN = 'admin-token-for-the-browser-suite';
const PORTAL_SECRET = 'portal-secret-of-the-browser-suite-0123456789';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

const money = (minor: number) => `${(minor / 100).toFixed(2)} USD`;

describe.each(backends())('dashboard in a browser, on $name', (backend) => {
  let w: World;
  let server: Server;
  let base: string;
  let now = new Date((T0 + 3600) * 1000);

  beforeAll(async () => {
    // The portal's URL names the server's port, so the server listens before the app exists.
    let app: ReturnType<typeof appWithDashboard> | undefined;
    server = createServer((req, res) => app!(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    w = await world(backend, undefined, {
      livemode: false, // the fixtures' events are test mode
      program: { holdDays: 30, reward: { type: 'percent', percent: 30 } },
      portal: { secret: PORTAL_SECRET, url: `${base}/admin/attribution/portal` },
      clock: () => now,
    });
    app = appWithDashboard(w.attribution, ADMIN);
    const bobClick = await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=bob', headers: { 'user-agent': 'Mozilla/5.0 (X11) Firefox/130.0' } });
    const buy = (id: string, click: string, amount: number) =>
      w.deliver(event('checkout.session.completed', checkoutSession({ id, amount_total: amount, amount_subtotal: amount, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@buyers.example`, metadata: { sa_click_id: click } })));
    expect((await buy('cs_alice', w.aliceClick, 10000)).status).toBe(200);
    expect((await buy('cs_bob', bobClick.clickId!, 4000)).status).toBe(200);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const adminPage = async (width: number, height: number): Promise<Page> =>
    (await browser.newContext({ viewport: { width, height }, extraHTTPHeaders: { authorization: `Bearer ${ADMIN}` } })).newPage();

  it('refuses a request without credentials (401) and with the wrong ones (403)', async () => {
    const anonymous = await (await browser.newContext()).newPage();
    expect((await anonymous.goto(`${base}/admin/attribution/`))!.status()).toBe(401);
    const stranger = await (await browser.newContext({ extraHTTPHeaders: { authorization: 'Bearer guess' } })).newPage();
    expect((await stranger.goto(`${base}/admin/attribution/`))!.status()).toBe(403);
    expect(await stranger.textContent('body')).not.toContain('Alice');
  });

  it('shows the ledger’s numbers per partner, at desktop and phone widths', async () => {
    const report = await w.attribution.report({ from: new Date(Date.UTC(2000, 0, 1)), to: new Date(Date.UTC(2027, 0, 1)), interval: 'all', livemode: false });
    for (const [width, height, name] of [[1280, 900, 'desktop'], [390, 844, 'phone']] as const) {
      const page = await adminPage(width, height);
      expect((await page.goto(`${base}/admin/attribution/`))!.status()).toBe(200);
      for (const partnerId of [w.alice, w.bob]) {
        const row = report.find((r) => r.partnerId === partnerId)!;
        const cell = (field: string) => page.textContent(`tr[data-partner="${partnerId}"] [data-field="${field}"]`);
        expect(await cell('clicks')).toBe(String(row.clicks));
        expect(await cell('leads')).toBe(String(row.leads));
        expect(await cell('sales')).toBe(String(row.currencies.usd!.sales));
        expect(await cell('revenue')).toBe(money(row.currencies.usd!.revenue));
        expect(await cell('commission-pending')).toBe(money(row.currencies.usd!.commissions.pending));
      }
      expect(await page.textContent(`tr[data-partner="${w.alice}"] [data-field="revenue"]`)).toBe('100.00 USD');
      expect(await page.textContent(`tr[data-partner="${w.bob}"] [data-field="commission-pending"]`)).toBe('12.00 USD');
      // Charts and the event stream render without any script.
      expect(await page.locator('svg[role="img"]').count()).toBeGreaterThanOrEqual(2);
      expect(await page.getAttribute('figure svg[role="img"] >> nth=1', 'aria-label')).toContain('Clicks 2, Leads 2 (100.0%), Sales 2 (100.0%)');
      expect(await page.locator('#sales-h + ul li').count()).toBe(2);
      // Nothing wider than the screen but the tables' own scroll boxes.
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      await saveScreenshot(page, `dashboard-${name}`);
      await page.context().close();
    }
  });

  it('approves a commission from the keyboard, then marks it paid, and the ledger agrees', async () => {
    const [commission] = await w.attribution.commissions.list({ partnerId: w.alice });
    expect(commission!.status).toBe('pending');
    const page = await adminPage(1280, 900);
    await page.goto(`${base}/admin/attribution/`);
    const row = `tr[data-commission="${commission!.id}"]`;
    await page.focus(`${row} button`);
    await Promise.all([page.waitForURL(/done=approve/), page.keyboard.press('Enter')]);
    expect(await page.textContent(`${row} [data-field="status"]`)).toBe('approved');
    expect(await page.textContent('[role="status"]')).toContain('Approved: 1 commission');
    expect((await w.attribution.commissions.list({ partnerId: w.alice }))[0]!.status).toBe('approved');

    await Promise.all([page.waitForURL(/done=mark-paid/), page.click(`${row} button:has-text("Mark paid")`)]);
    expect(await page.textContent(`${row} [data-field="status"]`)).toBe('paid');
    expect((await w.attribution.commissions.list({ partnerId: w.alice }))[0]!.status).toBe('paid');
    await page.context().close();
  });

  it('refuses an action without the CSRF token, and changes nothing', async () => {
    const [bobs] = await w.attribution.commissions.list({ partnerId: w.bob });
    const response = await fetch(`${base}/admin/attribution/commissions/${bobs!.id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-www-form-urlencoded', cookie: 'sa_dashboard_csrf=chosen-by-attacker' },
      body: 'csrf=forged&return=%2Fadmin%2Fattribution%2F',
      redirect: 'manual',
    });
    expect(response.status).toBe(403);
    expect((await w.attribution.commissions.list({ partnerId: w.bob }))[0]!.status).toBe('pending');
  });

  it('a portal link shows that partner only; an expired or forged link is refused', async () => {
    const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    const link = await w.attribution.partners.portalUrl(w.bob, { expiresIn: 600 });
    expect((await page.goto(link))!.status()).toBe(200);
    const body = (await page.textContent('body'))!;
    expect(body).toContain('Partner portal: Bob');
    expect(body).toContain('?via=bob');
    expect(body).not.toContain('Alice');
    expect(body).not.toContain('100.00 USD');
    expect(await page.locator('tr[data-partner]').count()).toBe(1);
    expect(await page.locator('form').count()).toBe(0);
    expect(await page.textContent(`tr[data-partner="${w.bob}"] [data-field="revenue"]`)).toBe('40.00 USD');
    await saveScreenshot(page, 'portal-phone');

    // Bob's signature on Alice's id.
    const token = new URL(link).searchParams.get('token')!;
    const forged = new URL(link);
    forged.searchParams.set('token', token.replace(w.bob, w.alice));
    expect((await page.goto(forged.href))!.status()).toBe(403);
    expect(await page.textContent('body')).toContain('not valid');

    now = new Date(now.getTime() + 601_000);
    expect((await page.goto(link))!.status()).toBe(403);
    expect(await page.textContent('body')).toContain('expired');
    await page.context().close();
  });
});
