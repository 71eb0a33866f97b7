import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttribution, type Attribution } from '../../src/core/attribution.js';
import type { AttributionOptions } from '../../src/core/options/options.js';
import type { AttributionRequest } from '../../src/core/clicks/request.js';
import type { Storage } from '../../src/core/storage/types.js';
import { attributionEdgeMiddleware } from '../../src/nextjs/edge.js';
import { clickCaptureRoute } from '../../src/nextjs/index.js';
import { backends, freshStorage } from '../support/backends.js';

const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const [pglite] = backends();
const DAY = 86_400_000;

function visit(url: string, headers: Record<string, string> = {}, remoteAddress = '198.51.100.7'): AttributionRequest {
  return { method: 'GET', url, headers: { 'user-agent': BROWSER, ...headers }, remoteAddress };
}

async function instance(options: AttributionOptions = {}) {
  let now = new Date('2026-05-01T10:00:00Z');
  const storage = await freshStorage(pglite!);
  const attribution = createAttribution({ database: storage, clicks: { ipSalt: 'pepper', ...options.clicks }, clock: () => now, ...options });
  const alice = await attribution.partners.create({ name: 'Alice', email: 'alice@partners.example', code: 'alice' });
  const bob = await attribution.partners.create({ name: 'Bob', code: 'bob', codes: ['bobby'] });
  return {
    attribution,
    storage,
    alice,
    bob,
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
  };
}

async function clickOf(attribution: Attribution, request: AttributionRequest): Promise<string> {
  const { clickId, setCookie } = await attribution.captureClick(request);
  expect(setCookie).toBeDefined();
  return clickId!;
}

describe('click capture rules', () => {
  it('marks the cookie Secure on https, and behind a trusted proxy that says https', async () => {
    const plain = await instance();
    expect((await plain.attribution.captureClick(visit('https://shop.example/?via=alice'))).setCookie).toContain('Secure');
    // An untrusted X-Forwarded-Proto is ignored…
    const spoofed = await plain.attribution.captureClick(visit('http://shop.example/?via=bob', { 'x-forwarded-proto': 'https' }));
    expect(spoofed.setCookie).not.toContain('Secure');
    // …a trusted one is believed, and the client IP comes from X-Forwarded-For.
    const proxied = await instance({ clicks: { trustProxy: true, cookieDomain: '.shop.example', cookieName: 'aff', params: ['partner'] } });
    const behind = await proxied.attribution.captureClick(
      visit('http://10.0.0.5/?partner=alice', { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.1, 10.0.0.1' }, '10.0.0.1'),
    );
    expect(behind.setCookie).toMatch(/^aff=clk_/);
    expect(behind.setCookie).toContain('Secure');
    expect(behind.setCookie).toContain('Domain=.shop.example');
    const direct = await proxied.attribution.captureClick(visit('http://10.0.0.5/?partner=bob', {}, '203.0.113.1'));
    const [first, second] = await Promise.all([behind.clickId!, direct.clickId!].map((id) => proxied.storage.getClick(id)));
    expect(first!.ipHash).toBe(second!.ipHash);
    // The default parameter names are replaced, not extended.
    expect((await proxied.attribution.captureClick(visit('http://10.0.0.5/?via=alice'))).setCookie).toBeUndefined();
  });

  it('codes match case-insensitively, and any of a partner’s codes works', async () => {
    const { attribution, storage, bob } = await instance();
    const clickId = await clickOf(attribution, visit('http://shop.example/?ref=BOBBY'));
    expect(await storage.getClick(clickId)).toMatchObject({ partnerId: bob.id, linkCode: 'bobby' });
  });

  it('finds a referral parameter however the URL spells its name: percent-encoded, or split by a tab the URL parser drops', async () => {
    const { attribution, storage, alice } = await instance();
    for (const url of ['http://shop.example/?v%69a=alice', 'http://shop.example/?v\tia=alice', 'http://shop.example/?utm_source=x&%76ia=alice']) {
      const clickId = await clickOf(attribution, visit(url));
      expect(await storage.getClick(clickId), url).toMatchObject({ partnerId: alice.id });
    }
  });

  it('ignores prefetches', async () => {
    const { attribution } = await instance();
    const prefetch = await attribution.captureClick(visit('http://shop.example/?via=alice', { 'sec-purpose': 'prefetch;prerender' }));
    expect(prefetch).toEqual({ clickId: null });
  });

  it('never breaks the page when the database fails: the error is reported and the visit goes on', async () => {
    const errors: Array<[unknown, string]> = [];
    // A Storage whose every call fails, as when the database is down (and not a thenable).
    const failing = new Proxy({} as Storage, {
      get: (_target, property) => (property === 'then' ? undefined : () => Promise.reject(new Error('connection refused'))),
    });
    const attribution = createAttribution({ database: failing, onError: (error, during) => errors.push([error, during]) });
    const result = await attribution.captureClick(visit('http://shop.example/?via=alice', { cookie: 'sa_click=clk_AAAAAAAAAAAAAAAAAAAAAA' }));
    expect(result).toEqual({ clickId: 'clk_AAAAAAAAAAAAAAAAAAAAAA' });
    expect(errors).toHaveLength(1);
    expect(errors[0]![1]).toBe('click capture');
  });

  it('a consent callback that throws is reported and records nothing, the page goes on', async () => {
    const errors: string[] = [];
    const { attribution } = await instance({
      clicks: { consent: () => { throw new Error('CMP not loaded'); } },
      onError: (_error, during) => errors.push(during),
    });
    expect(await attribution.captureClick(visit('http://shop.example/?via=alice'))).toEqual({ clickId: null });
    expect(errors).toEqual(['click capture']);
  });

  it('a click older than its lifetime is replaced by a new one through the same link', async () => {
    const { attribution, advance } = await instance();
    const first = await clickOf(attribution, visit('http://shop.example/?via=alice'));
    advance(91 * DAY);
    const second = await attribution.captureClick(visit('http://shop.example/?via=alice', { cookie: `sa_click=${first}` }));
    expect(second.clickId).not.toBe(first);
    expect(second.setCookie).toBeDefined();
  });
});

describe('trackLead', () => {
  it('is idempotent and attribution never moves', async () => {
    const { attribution, alice, bob } = await instance();
    const aliceClick = await clickOf(attribution, visit('http://shop.example/?via=alice'));
    const first = await attribution.trackLead({ customerExternalId: 'u1', email: 'u1@example.com', clickId: aliceClick });
    expect(first).toMatchObject({ created: true, attributed: true, customer: { partnerId: alice.id } });
    const repeat = await attribution.trackLead({ customerExternalId: 'u1', clickId: aliceClick });
    expect(repeat).toMatchObject({ created: false, attributed: false, customer: { id: first.customer.id, partnerId: alice.id } });
    const bobClick = await clickOf(attribution, visit('http://shop.example/?via=bob'));
    const later = await attribution.trackLead({ customerExternalId: 'u1', clickId: bobClick });
    expect(later.customer.partnerId).toBe(alice.id);
    expect(bob.id).not.toBe(alice.id);
  });

  it('uses the request context’s click unless one is passed explicitly', async () => {
    const { attribution, alice, bob } = await instance();
    const aliceClick = await clickOf(attribution, visit('http://shop.example/?via=alice'));
    const bobClick = await clickOf(attribution, visit('http://shop.example/?via=bob'));
    const fromContext = await attribution.runInContext({ clickId: aliceClick }, () => attribution.trackLead({ customerExternalId: 'ctx' }));
    expect(fromContext.customer.partnerId).toBe(alice.id);
    const explicit = await attribution.runInContext({ clickId: aliceClick }, () =>
      attribution.trackLead({ customerExternalId: 'explicit', clickId: bobClick }),
    );
    expect(explicit.customer.partnerId).toBe(bob.id);
    const outside = await attribution.trackLead({ customerExternalId: 'nowhere' });
    expect(outside).toMatchObject({ attributed: false, customer: { partnerId: null } });
  });

  it('records an expired, unknown or disabled partner’s click as an unattributed lead, not an error', async () => {
    const { attribution, advance, bob } = await instance();
    const aliceClick = await clickOf(attribution, visit('http://shop.example/?via=alice'));
    const bobClick = await clickOf(attribution, visit('http://shop.example/?via=bob'));
    await attribution.partners.disable(bob.id);
    expect((await attribution.trackLead({ customerExternalId: 'b', clickId: bobClick })).attributed).toBe(false);
    expect((await attribution.trackLead({ customerExternalId: 'x', clickId: 'clk_unknownunknownunknow' })).attributed).toBe(false);
    advance(90 * DAY + 1);
    const expired = await attribution.trackLead({ customerExternalId: 'late', clickId: aliceClick });
    expect(expired).toMatchObject({ created: true, attributed: false, customer: { partnerId: null } });
  });

  it('does not claim a customer who already bought unattributed', async () => {
    const { attribution, storage } = await instance();
    const { record: buyer } = await storage.insertCustomer({ livemode: true, externalId: 'buyer' });
    await storage.insertSale({ livemode: true, customerId: buyer.id, stripeInvoiceId: 'in_before', amount: 1000, currency: 'usd', occurredAt: new Date() });
    const clickId = await clickOf(attribution, visit('http://shop.example/?via=alice'));
    expect((await attribution.trackLead({ customerExternalId: 'buyer', clickId })).attributed).toBe(false);
  });

  it('two signups of one user racing: one customer, credited once', async () => {
    const { attribution, storage, alice } = await instance();
    const clickId = await clickOf(attribution, visit('http://shop.example/?via=alice'));
    const results = await Promise.all([1, 2, 3].map(() => attribution.trackLead({ customerExternalId: 'racer', clickId })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.filter((r) => r.attributed)).toHaveLength(1);
    expect((await storage.findCustomer({ externalId: 'racer' }))?.partnerId).toBe(alice.id);
  });
});

describe('Next.js 14/15 Edge middleware', () => {
  let server: Server;
  let origin: string;
  let env: Awaited<ReturnType<typeof instance>>;

  beforeAll(async () => {
    env = await instance();
    const capture = clickCaptureRoute(env.attribution);
    // The Node route, served for real: the Edge middleware reaches it over HTTP.
    server = createServer(async (req, res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
      const response = await capture(new Request(`${origin}${req.url}`, { headers }));
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(await response.text());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('forwards a referral visit to the capture route, which records the click; the page gets the cookie', async () => {
    const middleware = attributionEdgeMiddleware({}, () => new Response('page', { headers: { 'x-page': '1' } }));
    const response = await middleware(
      new Request(`${origin}/pricing?via=alice`, { headers: { 'user-agent': BROWSER, referer: 'https://blog.example/', 'x-forwarded-for': '203.0.113.50' } }),
    );
    expect(await response.text()).toBe('page');
    const setCookie = response.headers.get('set-cookie');
    const clickId = setCookie?.match(/^sa_click=([^;]+)/)?.[1];
    expect(clickId).toMatch(/^clk_/);
    expect(await env.storage.getClick(clickId!)).toMatchObject({
      partnerId: env.alice.id,
      landingUrl: `${origin}/pricing?via=alice`,
      referrer: 'https://blog.example/',
      userAgent: BROWSER,
    });
  });

  it('lets other requests through without a round trip, and a failed capture never breaks the page', async () => {
    const plain = attributionEdgeMiddleware({}, () => new Response('page'));
    const response = await plain(new Request(`${origin}/pricing`, { headers: { 'user-agent': BROWSER } }));
    expect(response.headers.get('set-cookie')).toBeNull();
    const unreachable = attributionEdgeMiddleware({ captureRoute: 'http://127.0.0.1:1/nowhere' }, () => new Response('still here'));
    const degraded = await unreachable(new Request(`${origin}/?via=alice`, { headers: { 'user-agent': BROWSER } }));
    expect(await degraded.text()).toBe('still here');
    expect(degraded.headers.get('set-cookie')).toBeNull();
  });

  it('adds the cookie to a response whose headers are immutable (a redirect)', async () => {
    const middleware = attributionEdgeMiddleware({}, () => Response.redirect(`${origin}/welcome`, 307));
    const response = await middleware(new Request(`${origin}/?via=alice`, { headers: { 'user-agent': BROWSER } }));
    expect(response.status).toBe(307);
    expect(response.headers.get('location')).toBe(`${origin}/welcome`);
    expect(response.headers.get('set-cookie')).toMatch(/^sa_click=clk_/);
  });

  it('does not let a hanging capture route hold the page', async () => {
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const port = (hanging.address() as AddressInfo).port;
    const middleware = attributionEdgeMiddleware({ captureRoute: `http://127.0.0.1:${port}/capture`, captureTimeoutMs: 100 }, () => new Response('page'));
    const response = await middleware(new Request(`${origin}/?via=alice`, { headers: { 'user-agent': BROWSER } }));
    expect(await response.text()).toBe('page');
    expect(response.headers.get('set-cookie')).toBeNull();
    hanging.closeAllConnections();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
  });
});
