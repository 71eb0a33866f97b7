import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appWithDashboard } from '../../examples/dashboard-express.js';
import { backends } from '../support/backends.js';
import { launchChromium } from '../support/chromium.js';
import { T0, checkoutSession, event } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

const ADMIN = 'admin-token-for-the-partner-pages';
const PORTAL_SECRET = 'portal-secret-of-the-partner-pages-0123456789';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

describe.each(backends())('partner management in the dashboard, on $name', (backend) => {
  let w: World;
  let server: Server;
  let base: string;
  let dash: string;

  beforeAll(async () => {
    let app: ReturnType<typeof appWithDashboard> | undefined;
    server = createServer((req, res) => app!(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dash = `${base}/admin/attribution`;
    w = await world(backend, undefined, {
      livemode: false, // the fixtures' events are test mode
      program: { holdDays: 30, reward: { type: 'percent', percent: 30 } },
      portal: { secret: PORTAL_SECRET, url: `${dash}/portal`, siteUrl: 'https://shop.example/' },
      clock: () => new Date((T0 + 3600) * 1000),
    });
    app = appWithDashboard(w.attribution, ADMIN);
    const buy = (id: string, amount: number) =>
      w.deliver(event('checkout.session.completed', checkoutSession({ id, amount_total: amount, amount_subtotal: amount, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@buyers.example`, metadata: { sa_click_id: w.aliceClick } })));
    expect((await buy('cs_one', 10000)).status).toBe(200);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const adminPage = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, extraHTTPHeaders: { authorization: `Bearer ${ADMIN}` } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    return context.newPage();
  };
  /** Submits the form `button` is in by pressing Enter on it, as a keyboard user does, and waits for the page that answers. */
  const press = async (page: Page, button: string, url: RegExp) => {
    await page.focus(button);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    // A refusal answers text on the form's own URL: say what it was.
    if (!url.test(page.url())) throw new Error(`${page.url()}: ${await page.textContent('body')}`);
  };

  it('adds a partner from the keyboard, edits, disables and enables them', async () => {
    const page = await adminPage();
    await page.goto(`${dash}/`);
    await Promise.all([page.waitForURL(/\/partners$/), page.click('nav >> text=Partners')]);
    await page.focus('#new-name');
    await page.keyboard.type('Carol');
    await page.keyboard.press('Tab');
    await page.keyboard.type('carol@partners.example');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Carol-Code');
    await Promise.all([page.waitForURL(/\/manage\?done=created$/), page.keyboard.press('Enter')]);
    const carol = (await w.attribution.partners.getByCode('carol-code'))!;
    expect(carol).toMatchObject({ name: 'Carol', email: 'carol@partners.example', status: 'active', codes: ['carol-code'] });
    expect(page.url()).toBe(`${dash}/partners/${carol.id}/manage?done=created`);
    expect(await page.textContent('[role="status"]')).toContain('Partner added');
    expect(await page.textContent('body')).toContain('https://shop.example/?via=carol-code');

    await page.fill('#edit-name', 'Carol Jones');
    await page.fill('#edit-email', '');
    await press(page, 'button:has-text("Save details")', /done=update/);
    expect(await w.attribution.partners.get(carol.id)).toMatchObject({ name: 'Carol Jones', email: null });
    expect(await page.textContent('h1')).toBe('Manage partner: Carol Jones');

    await press(page, 'button:has-text("Disable partner")', /done=disable/);
    expect(await page.textContent('[data-field="partner-status"]')).toBe('disabled');
    expect((await w.attribution.partners.get(carol.id))!.status).toBe('disabled');
    await press(page, 'button:has-text("Enable partner")', /done=enable/);
    expect((await w.attribution.partners.get(carol.id))!.status).toBe('active');

    await Promise.all([page.waitForURL(/\/partners$/), page.click('text=All partners')]);
    expect(await page.textContent(`tr[data-partner="${carol.id}"] [data-field="status"]`)).toBe('active');
    await page.context().close();
  });

  it('adds and removes referral and promotion codes, sets the reward and the group', async () => {
    const group = await w.attribution.partners.groups.create({ name: 'Creators', reward: { type: 'percent', percent: 40 } });
    const page = await adminPage();
    await page.goto(`${dash}/partners/${w.bob}/manage`);

    await page.fill('#add-code', 'Bobby');
    await press(page, 'button:has-text("Add code")', /done=add-code/);
    expect((await w.attribution.partners.get(w.bob))!.codes).toEqual(['bob', 'bobby']);
    expect(await page.textContent('body')).toContain('https://shop.example/?via=bobby');
    await press(page, 'button[aria-label="Remove code bob"]', /done=remove-code/);
    expect((await w.attribution.partners.get(w.bob))!.codes).toEqual(['bobby']);
    expect(await w.attribution.partners.getByCode('bob')).toBeUndefined();

    await page.fill('#add-promo', 'promo_bob_summer');
    await press(page, 'button:has-text("Add promotion code")', /done=add-promo/);
    expect((await w.attribution.partners.get(w.bob))!.promotionCodes).toEqual(['promo_bob_summer']);
    await press(page, 'button[aria-label="Remove promotion code promo_bob_summer"]', /done=remove-promo/);
    expect((await w.attribution.partners.get(w.bob))!.promotionCodes).toEqual([]);

    await page.fill('#reward-rate', '25%');
    await page.selectOption('#reward-duration', '12m');
    await press(page, 'button:has-text("Save reward")', /done=reward/);
    expect((await w.attribution.partners.get(w.bob))!.programs.default!.reward).toEqual({ type: 'percent', percent: 25, duration: { months: 12 } });
    expect(await page.textContent('[data-program="default"] [data-field="reward"]')).toBe('25%, 12 months');

    await page.selectOption('#group', group.id);
    await press(page, 'button:has-text("Save group")', /done=group/);
    expect((await w.attribution.partners.get(w.bob))!.programs.default!.groupId).toBe(group.id);
    expect(await page.textContent('[data-program="default"] [data-field="group"]')).toBe('Creators');
    await page.selectOption('#group', '');
    await press(page, 'button:has-text("Save group")', /done=group/);
    expect((await w.attribution.partners.get(w.bob))!.programs.default!.groupId).toBeNull();

    await page.fill('#reward-rate', '');
    await press(page, 'button:has-text("Save reward")', /done=reward/);
    expect((await w.attribution.partners.get(w.bob))!.programs.default!.reward).toBeNull();
    await page.context().close();
  });

  it('generates a portal link, copies it by keyboard, and the portal shows full share links', async () => {
    const page = await adminPage();
    await page.goto(`${dash}/partners/${w.alice}/manage`);
    await page.focus('button:has-text("Generate portal link")');
    await Promise.all([page.waitForURL(/\/portal-link$/), page.keyboard.press('Enter')]);
    const link = await page.inputValue('#portal-link');
    expect(link.startsWith(`${dash}/portal?token=`)).toBe(true);
    await page.focus('button[data-copy="portal-link"]');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#portal-link-status')).toBe('Copied to the clipboard.');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(link);

    const portal = await (await browser.newContext()).newPage();
    expect((await portal.goto(link))!.status()).toBe(200);
    const body = (await portal.textContent('body'))!;
    expect(body).toContain('Partner portal: Alice');
    expect(body).toContain('https://shop.example/?via=alice');
    await portal.context().close();
    await page.context().close();
  });

  it('approves and voids commissions with a reason on the commissions page', async () => {
    const bob = await w.attribution.partners.get(w.bob);
    expect(bob).toBeDefined();
    const [first] = await w.attribution.commissions.list({ partnerId: w.alice });
    expect(first!.status).toBe('pending');
    const page = await adminPage();
    await page.goto(`${dash}/commissions?status=pending`);
    const row = `tr[data-commission="${first!.id}"]`;
    await press(page, `${row} button:has-text("Approve")`, /done=approve/);
    expect(await page.textContent(`${row} [data-field="status"]`)).toBe('approved');
    expect((await w.attribution.commissions.list({ partnerId: w.alice }))[0]!.status).toBe('approved');

    await page.fill(`${row} input[name="reason"]`, 'test order');
    await press(page, `${row} button:has-text("Void")`, /done=void/);
    expect(await page.textContent(`${row} [data-field="status"]`)).toBe('voided');
    expect(await page.textContent(`${row} [data-field="reason"]`)).toBe('test order');
    expect((await w.attribution.commissions.list({ partnerId: w.alice }))[0]).toMatchObject({ status: 'voided', amount: 0, reason: 'test order' });
    await page.context().close();
  });
});
