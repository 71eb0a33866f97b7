import { sql } from 'kysely';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAttribution, type Attribution } from '../../src/core/attribution.js';
import type { AttributionOptions } from '../../src/core/options/options.js';
import type { KyselyStorage } from '../../src/core/storage/kysely-storage.js';
import type { Storage } from '../../src/core/storage/types.js';
import { backends, freshStorage, type Backend } from '../support/backends.js';
import { adapters, type App } from './apps.js';
import { startStripeServer } from '../support/stripe-server.js';

const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
const WEBHOOK_SECRET = 'whsec_contract_suite';
const stripe = new Stripe('sk_test_contract');

/** Counts storage calls, to prove which requests never touch the database. */
function counted(storage: Storage): { storage: Storage; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(storage, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
  return { storage: proxy, calls };
}

interface Setup {
  app: App;
  attribution: Attribution;
  calls: string[];
  clicks(): Promise<Array<{ partner_id: string; link_code: string; landing_url: string; referrer: string | null; user_agent: string; ip_hash: string | null; country: string | null }>>;
  partners: { alice: string; bob: string };
}

let stripeServer: Awaited<ReturnType<typeof startStripeServer>>;
beforeAll(async () => {
  stripeServer = await startStripeServer();
});
afterAll(() => stripeServer.close());

const open: App[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close()));
});

/** A storage one adapter's tests share, and its partners: Alice, Bob, and Dora (disabled). */
interface Shared {
  real: KyselyStorage;
  partners: { alice: string; bob: string };
}

/**
 * One migrated storage and its partners per backend and adapter, made by its first test: a schema
 * per test was most of this file's time. Tests keep apart by what they make: each sees only the
 * clicks made since its own setup, and uses ids of its own.
 */
const shared = new Map<string, Promise<Shared>>();

function sharedStorage(backend: Backend, adapter: (typeof adapters)[number]): Promise<Shared> {
  const key = `${backend.name}/${adapter.name}`;
  let made = shared.get(key);
  if (!made) {
    made = (async () => {
      const real = await freshStorage(backend);
      const attribution = createAttribution({ database: real });
      const alice = await attribution.partners.create({ name: 'Alice', email: 'alice@partners.example', code: 'alice' });
      const bob = await attribution.partners.create({ name: 'Bob', code: 'bob' });
      await attribution.partners.create({ name: 'Dora', code: 'dora' }).then((dora) => attribution.partners.disable(dora.id));
      return { real, partners: { alice: alice.id, bob: bob.id } };
    })();
    shared.set(key, made);
  }
  return made;
}

async function setup(backend: Backend, adapter: (typeof adapters)[number], options: AttributionOptions = {}): Promise<Setup> {
  const { real, partners } = await sharedStorage(backend, adapter);
  const { storage, calls } = counted(real);
  const attribution = createAttribution({
    database: storage,
    webhookSecret: WEBHOOK_SECRET,
    clicks: { ipSalt: 'contract-salt', ...options.clicks },
    ...options,
  });
  const table = sql.id(real.layout.schema!, 'sa_clicks');
  const earlier = new Set((await sql<{ id: string }>`select id from ${table}`.execute(backend.db)).rows.map((row) => row.id));
  const app = await adapter.start(attribution, stripeServer.client());
  open.push(app);
  calls.length = 0;
  return {
    app,
    attribution,
    calls,
    partners,
    clicks: async () => (await sql<any>`select * from ${table} order by created_at`.execute(backend.db)).rows.filter((row) => !earlier.has(row.id)),
  };
}

function cookieValue(setCookie: string | undefined): string | undefined {
  return setCookie?.match(/^sa_click=([^;]+)/)?.[1];
}

describe.each(backends())('adapter contract on $name', (backend) => {
  describe.each(adapters)('$name', (adapter) => {
    it('a referral visit sets the cookie and stores exactly one click', async () => {
      const { app, clicks, partners } = await setup(backend, adapter);
      const reply = await app.send('GET', '/pricing?via=alice&utm_source=newsletter', {
        headers: { 'user-agent': BROWSER, referer: 'https://blog.example/post', 'cf-ipcountry': 'de' },
      });
      expect(reply.status).toBe(200);
      expect(reply.setCookies).toHaveLength(1);
      const [setCookie] = reply.setCookies;
      expect(setCookie).toMatch(/^sa_click=clk_[A-Za-z0-9_-]{22}; /);
      expect(setCookie).toContain('Max-Age=7776000');
      expect(setCookie).toContain('HttpOnly');
      expect(setCookie).toContain('SameSite=Lax');
      expect(setCookie).toContain('Path=/');
      expect(setCookie).not.toContain('Secure'); // plain http, no trusted proxy
      // The page handling this very request already sees the new click.
      expect(reply.body).toEqual({ clickId: cookieValue(setCookie) });

      const stored = await clicks();
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({
        id: cookieValue(setCookie),
        partner_id: partners.alice,
        link_code: 'alice',
        referrer: 'https://blog.example/post',
        user_agent: BROWSER,
        country: 'DE',
      });
      expect(stored[0]!.landing_url).toMatch(/\/pricing\?via=alice&utm_source=newsletter$/);
      expect(stored[0]!.ip_hash).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(stored[0]!.ip_hash).not.toContain('127.0.0.1');
    });

    it('a visit without a referral stores nothing, sets nothing and never touches the database', async () => {
      const { app, calls, clicks } = await setup(backend, adapter);
      const reply = await app.send('GET', '/pricing?utm_source=ads', { headers: { 'user-agent': BROWSER } });
      expect(reply).toMatchObject({ status: 200, setCookies: [], body: { clickId: null } });
      expect(calls).toEqual([]);
      expect(await clicks()).toEqual([]);
    });

    it('a returning visitor without a referral: the cookie’s click reaches the page and the wrapped client, without the database', async () => {
      const { app, calls, clicks } = await setup(backend, adapter);
      const clickId = cookieValue((await app.send('GET', '/?via=alice', { headers: { 'user-agent': BROWSER } })).setCookies[0]);
      calls.length = 0;
      const cookie = `theme=dark; sa_click=${clickId}`;
      for (const path of ['/pricing', '/pricing?utm_source=ads', '/pricing?utm_source=ads&ref=']) {
        const reply = await app.send('GET', path, { headers: { 'user-agent': BROWSER, cookie } });
        expect(reply, path).toMatchObject({ status: 200, setCookies: [], body: { clickId } });
      }
      expect(calls).toEqual([]);
      const order = `${adapter.name}-${backend.name}-returning-${Math.random()}`;
      const checkout = await app.send('POST', '/checkout?via=bob', {
        headers: { 'user-agent': BROWSER, cookie, 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ order })),
      });
      expect(checkout.status).toBe(200);
      expect(stripeServer.requests.find((recorded) => recorded.form['metadata[order]'] === order)?.form).toMatchObject({ 'metadata[sa_click_id]': clickId });
      expect(await clicks()).toHaveLength(1);
    });

    it('a referral parameter whose name is percent-encoded still records the click', async () => {
      const { app, clicks, partners } = await setup(backend, adapter);
      const reply = await app.send('GET', '/pricing?utm_source=ads&v%69a=alice', { headers: { 'user-agent': BROWSER } });
      expect(reply.setCookies).toHaveLength(1);
      expect(reply.body).toEqual({ clickId: cookieValue(reply.setCookies[0]) });
      expect((await clicks()).map((click) => click.partner_id)).toEqual([partners.alice]);
    });

    it('an unknown code, or a disabled partner’s code, records nothing', async () => {
      const { app, clicks } = await setup(backend, adapter);
      for (const path of ['/?via=nobody', '/?via=dora', '/?via=%3Cscript%3E']) {
        const reply = await app.send('GET', path, { headers: { 'user-agent': BROWSER } });
        expect(reply.setCookies, path).toEqual([]);
      }
      expect(await clicks()).toEqual([]);
    });

    it('a bot or link preview records nothing', async () => {
      const { app, clicks } = await setup(backend, adapter);
      for (const ua of ['Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', 'Googlebot/2.1 (+http://www.google.com/bot.html)', 'curl/8.5.0']) {
        expect((await app.send('GET', '/?via=alice', { headers: { 'user-agent': ua } })).setCookies, ua).toEqual([]);
      }
      expect((await app.send('GET', '/?via=alice')).setCookies).toEqual([]); // no user agent at all
      expect(await clicks()).toEqual([]);
    });

    it('without consent, no cookie and no stored click', async () => {
      const { app, clicks } = await setup(backend, adapter, {
        clicks: { consent: (request) => /consent=yes/.test(String(request.headers instanceof Headers ? request.headers.get('cookie') : request.headers.cookie)) },
      });
      expect((await app.send('GET', '/?via=alice', { headers: { 'user-agent': BROWSER } })).setCookies).toEqual([]);
      expect(await clicks()).toEqual([]);
      const consented = await app.send('GET', '/?via=alice', { headers: { 'user-agent': BROWSER, cookie: 'consent=yes' } });
      expect(consented.setCookies).toHaveLength(1);
      expect(await clicks()).toHaveLength(1);
    });

    it('last-click by default: a newer partner link replaces the cookie', async () => {
      const { app, clicks, partners } = await setup(backend, adapter);
      const first = cookieValue((await app.send('GET', '/?via=alice', { headers: { 'user-agent': BROWSER } })).setCookies[0]);
      const second = await app.send('GET', '/?via=bob', { headers: { 'user-agent': BROWSER, cookie: `sa_click=${first}` } });
      const replaced = cookieValue(second.setCookies[0]);
      expect(replaced).toBeDefined();
      expect(replaced).not.toBe(first);
      expect(second.body).toEqual({ clickId: replaced });
      expect((await clicks()).map((click) => click.partner_id)).toEqual([partners.alice, partners.bob]);

      // Coming back through the same link is the same click: no new row, no new cookie.
      const again = await app.send('GET', '/?via=bob', { headers: { 'user-agent': BROWSER, cookie: `sa_click=${replaced}` } });
      expect(again).toMatchObject({ setCookies: [], body: { clickId: replaced } });
      expect(await clicks()).toHaveLength(2);
    });

    it('first-click as an option: the first partner keeps the visitor, the second visit still counts', async () => {
      const { app, clicks, partners } = await setup(backend, adapter, { attributionModel: 'first-click' });
      const first = cookieValue((await app.send('GET', '/?via=alice', { headers: { 'user-agent': BROWSER } })).setCookies[0]);
      const second = await app.send('GET', '/?ref=bob', { headers: { 'user-agent': BROWSER, cookie: `sa_click=${first}` } });
      expect(second).toMatchObject({ setCookies: [], body: { clickId: first } });
      expect((await clicks()).map((click) => click.partner_id)).toEqual([partners.alice, partners.bob]);
    });

    it('trackLead inside a route picks up the visitor’s click', async () => {
      const { app, partners, attribution } = await setup(backend, adapter);
      const clickId = cookieValue((await app.send('GET', '/?via=alice', { headers: { 'user-agent': BROWSER } })).setCookies[0]);
      const signup = await app.send('POST', '/signup', {
        headers: { 'user-agent': BROWSER, cookie: `theme=dark; sa_click=${clickId}`, 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ userId: 'user_42', email: 'Zoe@Example.com' })),
      });
      expect(signup.status).toBe(200);
      expect(signup.body).toEqual({ attributed: true, partnerId: partners.alice, clickId });
      const customer = await (await attribution.storage()).findCustomer({ externalId: 'user_42' });
      expect(customer).toMatchObject({ partnerId: partners.alice, clickId, attributedBy: 'click', email: 'zoe@example.com' });
    });

    it('concurrent visitors never see each other’s click', async () => {
      const { app } = await setup(backend, adapter);
      const visitors = await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const visit = await app.send('GET', `/?via=${i % 2 ? 'bob' : 'alice'}`, { headers: { 'user-agent': BROWSER } });
          return cookieValue(visit.setCookies[0])!;
        }),
      );
      expect(new Set(visitors).size).toBe(16);
      const signups = await Promise.all(
        visitors.map((clickId, i) =>
          app.send('POST', '/signup', {
            headers: { 'user-agent': BROWSER, cookie: `sa_click=${clickId}`, 'content-type': 'application/json' },
            body: Buffer.from(JSON.stringify({ userId: `user_${i}`, email: `u${i}@example.com` })),
          }),
        ),
      );
      expect(signups.map((signup) => signup.body.clickId)).toEqual(visitors);
      expect(signups.every((signup) => signup.body.attributed)).toBe(true);
    });

    it('the wrapped Stripe client carries each visitor’s click, 50 requests interleaved', async () => {
      const { app } = await setup(backend, adapter);
      const visitors = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const visit = await app.send('GET', `/?via=${i % 2 ? 'bob' : 'alice'}`, { headers: { 'user-agent': BROWSER } });
          return cookieValue(visit.setCookies[0])!;
        }),
      );
      const orders = visitors.map((_, i) => `${adapter.name}-${backend.name}-${i}-${Math.random()}`);
      const replies = await Promise.all(
        visitors.map((clickId, i) =>
          app.send('POST', '/checkout', {
            headers: { 'user-agent': BROWSER, cookie: `sa_click=${clickId}`, 'content-type': 'application/json' },
            body: Buffer.from(JSON.stringify({ order: orders[i] })),
          }),
        ),
      );
      expect(replies.every((reply) => reply.status === 200)).toBe(true);
      for (const [i, order] of orders.entries()) {
        const sent = stripeServer.requests.find((recorded) => recorded.form['metadata[order]'] === order);
        expect(sent?.path).toBe('/v1/checkout/sessions');
        expect(sent?.form).toMatchObject({
          client_reference_id: visitors[i],
          'metadata[sa_click_id]': visitors[i],
          'payment_intent_data[metadata][sa_click_id]': visitors[i],
          'payment_intent_data[metadata][sa_via]': 'checkout',
          customer_creation: 'always',
        });
      }
    });

    it('a forged or garbage cookie is ignored, not trusted', async () => {
      const { app } = await setup(backend, adapter);
      const garbage = await app.send('GET', '/', { headers: { 'user-agent': BROWSER, cookie: 'sa_click=%27%3B%20drop%20table' } });
      expect(garbage.body).toEqual({ clickId: null });
      const forged = 'clk_AAAAAAAAAAAAAAAAAAAAAA';
      const signup = await app.send('POST', '/signup', {
        headers: { 'user-agent': BROWSER, cookie: `sa_click=${forged}`, 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ userId: 'user_forged', email: 'f@example.com' })),
      });
      expect(signup.status).toBe(200);
      expect(signup.body).toEqual({ attributed: false, partnerId: null, clickId: forged });
    });

    it('the webhook route verifies the exact raw bytes Stripe signed', async () => {
      const { app } = await setup(backend, adapter);
      // Unicode, escaped and literal, and whitespace no JSON serializer would produce.
      const payload =
        '{\n  "id": "evt_1PqRaw",  "object":"event",\t"api_version": "2025-03-31.basil", "created": 1735689600,\r\n' +
        '  "type": "customer.created", "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},\n' +
        '  "data": {"object": {"id": "cus_Zoe", "object": "customer", "name": "Zoë 🚀 Müller \\u00e9", "email": "zoë@exämple.com"}}\n}  \n';
      const body = Buffer.from(payload, 'utf8');
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      const json = { 'content-type': 'application/json; charset=utf-8' };

      const verified = await app.send('POST', '/webhooks/stripe', { headers: { ...json, 'stripe-signature': signature }, body });
      expect(verified.status).toBe(200);
      expect(verified.body).toEqual({ received: true, type: 'customer.created' });

      const tampered = Buffer.from(payload.replace('Müller', 'Muller'), 'utf8');
      const rejected = await app.send('POST', '/webhooks/stripe', { headers: { ...json, 'stripe-signature': signature }, body: tampered });
      expect(rejected.status).toBe(400);
      expect(rejected.body.error).toMatch(/signature/i);

      const unsigned = await app.send('POST', '/webhooks/stripe', { headers: json, body });
      expect(unsigned).toMatchObject({ status: 400, body: { error: 'Missing Stripe-Signature header' } });

      const wrongSecret = stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else' });
      expect((await app.send('POST', '/webhooks/stripe', { headers: { ...json, 'stripe-signature': wrongSecret }, body })).status).toBe(400);
    });

    it('a signed body of literally null answers 400 in JSON, never a framework error page', async () => {
      const { app } = await setup(backend, adapter);
      const payload = 'null';
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      const reply = await app.send('POST', '/webhooks/stripe', { headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: Buffer.from(payload) });
      expect(reply).toMatchObject({ status: 400, body: { error: 'Malformed Stripe event: the event must be a JSON object' } });
    });

    it('oversize bodies answer 413 and other content types 415, with nothing written', async () => {
      const { app, attribution } = await setup(backend, adapter, { webhooks: { maxBodyBytes: 2048 } });
      const payload = JSON.stringify({
        id: 'evt_big', object: 'event', type: 'customer.created', created: 1735689600, livemode: false,
        data: { object: { id: 'cus_big', object: 'customer', email: 'big@example.com', metadata: { pad: 'x'.repeat(4000) } } },
      });
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
      const big = await app.send('POST', '/webhooks/stripe', { headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: Buffer.from(payload) });
      expect(big.status).toBe(413);
      expect(big.body.error).toMatch(/webhooks\.maxBodyBytes/);

      const small = JSON.stringify({ id: 'evt_form', object: 'event', type: 'customer.created', created: 1735689600, livemode: false, data: { object: { id: 'cus_form', object: 'customer' } } });
      const formSignature = stripe.webhooks.generateTestHeaderString({ payload: small, secret: WEBHOOK_SECRET });
      const form = await app.send('POST', '/webhooks/stripe', { headers: { 'content-type': 'text/plain', 'stripe-signature': formSignature }, body: Buffer.from(small) });
      expect(form.status).toBe(415);
      expect(await attribution.customers.get({ stripeCustomerId: 'cus_big' })).toBeUndefined();
      expect(await attribution.customers.get({ stripeCustomerId: 'cus_form' })).toBeUndefined();
    });
  });
});
