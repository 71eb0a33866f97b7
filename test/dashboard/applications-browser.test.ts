import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributionDashboard, attributionMiddleware } from '../../src/express/index.js';
import { backends } from '../support/backends.js';
import { launchChromium, saveScreenshot } from '../support/chromium.js';
import { T0, checkoutSession, event } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

const ADMIN = 'admin-token-for-the-applications-suite';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

describe.each(backends())('applications, mode switch and program filter in a browser, on $name', (backend) => {
  let w: World;
  let server: Server;
  let base: string;
  let now = new Date((T0 + 3600) * 1000);
  let rita: string;

  beforeAll(async () => {
    w = await world(backend, undefined, {
      livemode: false, // the dashboard opens on test data, as the fixtures' events are
      programs: [
        { id: 'default', reward: { type: 'percent', percent: 30 } },
        { id: 'resellers', reward: { type: 'percent', percent: 10 } },
      ],
      clock: () => now,
    });
    const app = express();
    app.use(attributionMiddleware(w.attribution));
    app.use(
      attributionDashboard(w.attribution, {
        basePath: '/admin/attribution',
        secret: 'applications-browser-secret',
        authorize: (req) => {
          const given = req.get('authorization');
          if (!given) throw Object.assign(new Error('Sign in first'), { status: 401 });
          return given === `Bearer ${ADMIN}`;
        },
        applications: { rateLimit: { max: 50 } },
      }),
    );
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/attribution`;

    rita = (await w.attribution.partners.create({ name: 'Rita Reseller', code: 'rita', programId: 'resellers' })).id;
    const click = async (code: string) => (await w.attribution.captureClick({ method: 'GET', url: `https://shop.example/?via=${code}`, headers: { 'user-agent': 'Mozilla/5.0 (X11) Firefox/130.0' } })).clickId!;
    const buy = async (id: string, clickId: string, amount: number, livemode: boolean) =>
      expect(
        (await w.deliver(event('checkout.session.completed', checkoutSession({ id, livemode, amount_total: amount, amount_subtotal: amount, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@buyers.example`, metadata: { sa_click_id: clickId } })))).status,
      ).toBe(200);
    await buy('cs_alice_test', w.aliceClick, 10000, false);
    await buy('cs_bob_live', await click('bob'), 7000, true);
    await buy('cs_rita_test', await click('rita'), 5000, false);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const adminPage = async (): Promise<Page> => (await browser.newContext({ viewport: { width: 1280, height: 900 }, extraHTTPHeaders: { authorization: `Bearer ${ADMIN}` } })).newPage();
  const visitorPage = async (): Promise<Page> => (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  const later = (seconds: number) => {
    now = new Date(now.getTime() + seconds * 1000);
  };

  async function apply(page: Page, answers: { name: string; email: string; promotion: string; code: string }) {
    expect((await page.goto(`${base}/apply`))!.status()).toBe(200);
    await page.fill('#name', answers.name);
    await page.fill('#email', answers.email);
    await page.fill('#promotion', answers.promotion);
    await page.fill('#code', answers.code);
  }

  it('someone applies from a phone; the merchant approves from the keyboard and the code starts attributing', async () => {
    const visitor = await visitorPage();
    await apply(visitor, { name: 'Nora Newsletter', email: 'nora@creators.example', promotion: 'A weekly newsletter, 4,000 readers', code: 'nora' });
    // The honeypot is out of sight and out of the tab order.
    expect(await visitor.getAttribute('#website', 'tabindex')).toBe('-1');
    expect(await visitor.evaluate('document.querySelector("#website").getBoundingClientRect().right < 0')).toBe(true);
    // Nothing wider than the phone's screen.
    expect(await visitor.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await saveScreenshot(visitor, 'apply-phone');
    later(10);
    await Promise.all([visitor.waitForURL(/sent=1/), visitor.click('button[type="submit"]')]);
    expect(await visitor.textContent('[role="status"]')).toContain('we received your application');
    await visitor.context().close();

    const application = (await w.attribution.applications.list({ status: 'pending' })).find((a) => a.details.code === 'nora')!;
    expect(application.partner).toMatchObject({ name: 'Nora Newsletter', status: 'pending' });
    const noClick = await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=nora', headers: { 'user-agent': 'Mozilla/5.0 (X11) Firefox/130.0' } });
    expect(noClick.clickId).toBeNull();

    const page = await adminPage();
    await page.goto(`${base}/`);
    await Promise.all([page.waitForURL(/\/applications$/), page.click('nav a:has-text("Applications")')]);
    const row = `tr[data-application="${application.partner.id}"]`;
    expect(await page.textContent(`${row} [data-field="status"]`)).toBe('pending');
    await page.focus(`${row} button:has-text("Approve")`);
    await Promise.all([page.waitForURL(/done=approve/), page.keyboard.press('Enter')]);
    expect(await page.textContent('[role="status"]')).toContain('Approved: Nora Newsletter');
    expect(await page.textContent(`${row} [data-field="status"]`)).toBe('approved');
    expect((await w.attribution.partners.get(application.partner.id))!.status).toBe('active');
    const click = await w.attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=nora', headers: { 'user-agent': 'Mozilla/5.0 (X11) Firefox/130.0' } });
    expect(click.clickId).not.toBeNull();
    await page.context().close();
  });

  it('a form sent too fast comes back with the answers kept; a code taken is named; the merchant rejects', async () => {
    const visitor = await visitorPage();
    await apply(visitor, { name: 'Quick Quentin', email: 'quentin@creators.example', promotion: 'Coupons site', code: 'alice' });
    await visitor.click('button[type="submit"]');
    expect(await visitor.textContent('[role="alert"]')).toContain('That was quick');
    expect(await visitor.inputValue('#email')).toBe('quentin@creators.example');
    later(10);
    await visitor.click('button[type="submit"]');
    expect(await visitor.textContent('[role="alert"]')).toContain('The referral code "alice" is taken: choose another');
    await visitor.fill('#code', 'quentin');
    later(10);
    await Promise.all([visitor.waitForURL(/sent=1/), visitor.click('button[type="submit"]')]);
    await visitor.context().close();

    const { partner } = (await w.attribution.applications.list({ status: 'pending' })).find((a) => a.details.code === 'quentin')!;
    const page = await adminPage();
    await page.goto(`${base}/applications`);
    await Promise.all([page.waitForURL(/done=reject/), page.click(`tr[data-application="${partner.id}"] button:has-text("Reject")`)]);
    expect(await page.textContent(`tr[data-application="${partner.id}"] [data-field="status"]`)).toBe('rejected');
    expect((await w.attribution.applications.get(partner.id))!.status).toBe('rejected');
    await page.context().close();
  });

  it('shows which mode it shows and switches between live and test; filters by program, CSV included', async () => {
    const page = await adminPage();
    await page.goto(`${base}/`);
    const revenue = (partnerId: string) => page.textContent(`tr[data-partner="${partnerId}"] [data-field="revenue"]`);
    expect(await page.textContent('[data-field="mode"]')).toBe('Test data');
    expect(await page.textContent('[data-field="program"]')).toBe('All programs');
    expect(await revenue(w.alice)).toBe('100.00 USD');
    expect(await revenue(rita)).toBe('50.00 USD');
    expect((await revenue(w.bob))!.trim()).toBe('—');

    await page.selectOption('#view-mode', 'live');
    await Promise.all([page.waitForURL(/mode=live/), page.click('form.view button')]);
    expect(await page.textContent('[data-field="mode"]')).toBe('Live data');
    expect(await revenue(w.bob)).toBe('70.00 USD');
    expect((await revenue(w.alice))!.trim()).toBe('—');
    // A partner's page keeps the view.
    await Promise.all([page.waitForURL(/partners\/.+mode=live/), page.click(`tr[data-partner="${w.bob}"] a`)]);
    expect(await page.textContent('[data-field="mode"]')).toBe('Live data');

    await page.goto(`${base}/`);
    await page.selectOption('#view-program', 'resellers');
    await Promise.all([page.waitForURL(/program=resellers/), page.click('form.view button')]);
    expect(await page.textContent('[data-field="program"]')).toBe('Program resellers');
    expect(await page.locator('tr[data-partner]').count()).toBe(1);
    expect(await revenue(rita)).toBe('50.00 USD');
    await saveScreenshot(page, 'dashboard-program-filter');

    const href = (await page.getAttribute('a:has-text("Export CSV")', 'href'))!;
    expect(href).toContain('program=resellers');
    const csv = await (await page.request.get(new URL(href, page.url()).href)).text();
    const lines = csv.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^${rita},Rita Reseller,1,\\d+,usd,1,5000,`));
    expect((await page.goto(`${base}/?program=nope`))!.status()).toBe(400);
    await page.context().close();
  });
});
