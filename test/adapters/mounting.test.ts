import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { NextRequest } from 'next/server.js';
import Stripe from 'stripe';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { ConfigurationError } from '../../src/core/kernel/errors.js';
import { attributionMiddleware as expressAttribution } from '../../src/express/index.js';
import { attributionMiddleware as fastifyAttribution } from '../../src/fastify/index.js';
import { attributionMiddleware as koaAttribution } from '../../src/koa/index.js';
import { clickCaptureRoute, attributionMiddleware as nextAttribution, webhookRoute } from '../../src/nextjs/index.js';
import type { Logger } from '../../src/core/kernel/logger.js';

const secret = 'whsec_mounting';
// A type the ledger ignores: verified, then answered 200.
const payload = '{"id":"evt_mount","object":"event","type":"product.created","data":{"object":{"id":"prod_1","object":"product"}}}';
const signature = () => new Stripe('sk_test_x').webhooks.generateTestHeaderString({ payload, secret });
const attribution = () => createAttribution({ database: 'memory://', webhookSecret: secret, clicks: { ipSalt: 'salt' } });

describe('mounting the adapters', () => {
  it('express: a JSON parser mounted first gets a 500 that says how to mount', async () => {
    const app = express();
    app.use(express.json());
    app.use(expressAttribution(attribution()));
    const reply = await request(app).post('/webhooks/stripe').set('content-type', 'application/json').set('stripe-signature', signature()).send(payload);
    expect(reply.status).toBe(500);
    expect(reply.body.error).toContain('already parsed by another middleware');
    expect(reply.body.error).toContain('Mount attributionMiddleware() before express.json()');
  });

  it('express: express.raw() mounted first leaves the bytes, which verify', async () => {
    const app = express();
    app.use('/webhooks/stripe', express.raw({ type: 'application/json' }));
    app.use(expressAttribution(attribution()));
    const reply = await request(app).post('/webhooks/stripe').set('content-type', 'application/json').set('stripe-signature', signature()).send(payload);
    expect(reply.status).toBe(200);
  });

  it('express: the webhook path is configurable', async () => {
    const app = express();
    app.use(expressAttribution(attribution(), { webhookPath: '/hooks/stripe' }));
    app.post('/webhooks/stripe', (_req, res) => void res.status(204).end());
    const moved = await request(app).post('/hooks/stripe').set('content-type', 'application/json').set('stripe-signature', signature()).send(payload);
    expect(moved.status).toBe(200);
    expect((await request(app).post('/webhooks/stripe').send(payload)).status).toBe(204);
  });

  it('koa: a body parser that ran first gets a 500 that says how to mount', async () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      (ctx.request as { body?: unknown }).body = { parsed: true };
      await next();
    });
    app.use(koaAttribution(attribution()));
    const reply = await request(app.callback()).post('/webhooks/stripe').set('content-type', 'application/json').set('stripe-signature', signature()).send(payload);
    expect(reply.status).toBe(500);
    expect(reply.body.error).toContain('Use attributionMiddleware() before your body parser');
  });

  it('fastify: the webhook’s raw-body parser does not leak into the merchant’s routes', async () => {
    const app = Fastify();
    await app.register(fastifyAttribution(attribution()));
    app.post('/echo', async (req) => ({ isObject: typeof req.body === 'object' && !Buffer.isBuffer(req.body), body: req.body }));
    await app.ready();
    const echo = await request(app.server).post('/echo').set('content-type', 'application/json').send({ a: 1 });
    expect(echo.body).toEqual({ isObject: true, body: { a: 1 } });
    const hook = await request(app.server).post('/webhooks/stripe').set('content-type', 'application/json').set('stripe-signature', signature()).send(payload);
    expect(hook.status).toBe(200);
    expect(app.attribution).toBeDefined();
    await app.close();
  });
});

describe('Next.js proxy', () => {
  it('passes the new click on in the Cookie header, leaving every other cookie byte for byte', async () => {
    const instance = attribution();
    await instance.migrate();
    await instance.partners.create({ name: 'Alice', code: 'alice' });
    let forwarded: string | null = null;
    const proxy = nextAttribution(instance, (_request, init) => {
      forwarded = init.request.headers.get('cookie');
      return new Response('ok');
    });
    const cookie = 'theme=dark; sa_click=clk_oldoldoldoldoldoldoldo; x="quoted%20v"; theme=light; café=1';
    const response = await proxy(
      new NextRequest('http://shop.example/?via=alice', { headers: { cookie, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' } }),
    );
    const clickId = response.headers.get('set-cookie')?.match(/^sa_click=([^;]+)/)?.[1];
    expect(clickId).toMatch(/^clk_/);
    expect(forwarded).toBe(`theme=dark; x="quoted%20v"; theme=light; café=1; sa_click=${clickId}`);
  });
});

describe('attributionMiddleware() without an instance', () => {
  it('builds one from DATABASE_URL, STRIPE_WEBHOOK_SECRET and STRIPE_SECRET_KEY, and exposes it', async () => {
    vi.stubEnv('DATABASE_URL', 'memory://');
    vi.stubEnv('STRIPE_ATTRIBUTION_IP_SALT', 'env-test-salt');
    vi.stubEnv('STRIPE_WEBHOOK_SECRET', 'whsec_old, whsec_new');
    vi.stubEnv('STRIPE_SECRET_KEY', 'sk_test_123');
    const middlewares = [expressAttribution(), koaAttribution(), fastifyAttribution(), nextAttribution()];
    for (const middleware of middlewares) {
      expect(middleware.attribution.options.webhookSecrets).toEqual(['whsec_old', 'whsec_new']);
      expect(middleware.attribution.options.livemode).toBe(false);
      // One instance per process: several adapters never open the database twice.
      expect(middleware.attribution).toBe(middlewares[0]!.attribution);
    }
    const app = express();
    const middleware = expressAttribution();
    expect(middleware.attribution).toBe(middlewares[0]!.attribution);
    app.use(middleware);
    expect(await middleware.attribution.migrate()).toEqual({ applied: ['0001_initial', '0002_invoice_payments', '0003_disputes_credits_subscriptions', '0004_rewards', '0005_payouts', '0006_charge_amounts', '0007_guest_customers', '0008_milestones', '0009_programs', '0010_partner_groups', '0011_charge_refunds', '0012_trial_seat_leads', '0013_payout_commission_count', '0014_partner_applications', '0015_fraud_review', '0016_connect', '0017_outbox', '0018_manual_adjustments'] });
    const partner = await middleware.attribution.partners.create({ name: 'Env', code: 'env' });
    const visit = await request(app).get('/?via=env').set('user-agent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0');
    expect(visit.headers['set-cookie']).toHaveLength(1);
    expect(partner.codes).toEqual(['env']);
    await middleware.attribution.close();
  });

  it('refuses, in production, to fall back to an embedded database because DATABASE_URL is missing', () => {
    vi.stubEnv('NODE_ENV', 'production');
    vi.stubEnv('STRIPE_ATTRIBUTION_IP_SALT', 'salt');
    vi.stubEnv('DATABASE_URL', undefined);
    expect(() => expressAttribution()).toThrow(ConfigurationError);
    expect(() => expressAttribution()).toThrow('DATABASE_URL is not set');
  });

  it('refuses to capture clicks in production without an IP salt, naming the setting', () => {
    vi.stubEnv('NODE_ENV', 'production');
    vi.stubEnv('STRIPE_ATTRIBUTION_IP_SALT', undefined);
    const unsalted = createAttribution({ database: 'memory://' });
    for (const install of [() => expressAttribution(unsalted), () => koaAttribution(unsalted), () => fastifyAttribution(unsalted)]) {
      expect(install).toThrow(ConfigurationError);
      expect(install).toThrow('STRIPE_ATTRIBUTION_IP_SALT');
    }
    vi.stubEnv('STRIPE_ATTRIBUTION_IP_SALT', 'a-long-random-secret');
    expect(() => expressAttribution(createAttribution({ database: 'memory://', webhookSecret: 'whsec_x' }))).not.toThrow();
  });

  it('refuses, in production, to mount a webhook route without a webhook secret, unless the route is off', () => {
    vi.stubEnv('NODE_ENV', 'production');
    vi.stubEnv('STRIPE_ATTRIBUTION_IP_SALT', 'a-long-random-secret');
    const unsigned = createAttribution({ database: 'memory://' });
    for (const install of [() => expressAttribution(unsigned), () => koaAttribution(unsigned), () => fastifyAttribution(unsigned)]) {
      expect(install).toThrow(ConfigurationError);
      expect(install).toThrow('STRIPE_WEBHOOK_SECRET');
    }
    // Click capture only: no route, no secret needed (the Next.js proxy never serves webhooks).
    for (const install of [
      () => expressAttribution(unsigned, { webhookPath: false }),
      () => koaAttribution(unsigned, { webhookPath: false }),
      () => fastifyAttribution(unsigned, { webhookPath: false }),
      () => nextAttribution(unsigned),
    ]) {
      expect(install).not.toThrow();
    }
  });

  it('Next.js, in production without a salt or a secret: pages pass through, capture is off, webhooks answer 500, each logged once', async () => {
    vi.stubEnv('NODE_ENV', 'production');
    vi.stubEnv('STRIPE_ATTRIBUTION_IP_SALT', undefined);
    const logged: string[] = [];
    const logger: Logger = { error: (_obj, msg) => logged.push(msg ?? ''), warn: () => {}, info: () => {}, debug: () => {} };
    const bare = createAttribution({ database: 'memory://', logger });
    await bare.migrate();
    await bare.partners.create({ name: 'Alice', code: 'alice' });
    // The proxy, a Next 14/15 capture route and the webhook route, each loaded twice as Next's bundles may.
    const proxies = [nextAttribution(bare), nextAttribution(bare)];
    const captures = [clickCaptureRoute(bare), clickCaptureRoute(bare)];
    const webhooks = [webhookRoute(bare), webhookRoute(bare)];
    expect(logged).toEqual([
      expect.stringMatching(/^Click capture is off\. Set clicks\.ipSalt or STRIPE_ATTRIBUTION_IP_SALT/),
      expect.stringMatching(/^Stripe webhooks are refused with 500\. Set webhookSecret or STRIPE_WEBHOOK_SECRET/),
    ]);

    const visit = new NextRequest('https://shop.example/pricing?via=alice', { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' } });
    const passed = await proxies[0]!(visit);
    expect(passed.status).toBe(200);
    expect(passed.headers.get('x-middleware-next')).toBe('1');
    expect(passed.headers.get('set-cookie')).toBeNull();
    const captured = await captures[0]!(new Request('https://shop.example/api/attribution/click?url=https%3A%2F%2Fshop.example%2F%3Fvia%3Dalice'));
    expect(captured.status).toBe(500);
    expect(((await captured.json()) as { error: string }).error).toContain('STRIPE_ATTRIBUTION_IP_SALT');
    const [row] = await bare.report({ from: new Date(Date.now() - 86_400_000), to: new Date(Date.now() + 86_400_000), interval: 'all' });
    expect(row?.clicks ?? 0).toBe(0);

    const refused = await webhooks[0]!(new Request('https://shop.example/api/webhooks/stripe', { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature() }, body: payload }));
    expect(refused.status).toBe(500);
    expect(((await refused.json()) as { error: string }).error).toContain('STRIPE_WEBHOOK_SECRET');
    expect(logged).toHaveLength(2);
    await bare.close();
  });

  it('Next.js does not log a missing secret while `next build` loads the routes', () => {
    vi.stubEnv('NODE_ENV', 'production');
    vi.stubEnv('NEXT_PHASE', 'phase-production-build');
    vi.stubEnv('STRIPE_ATTRIBUTION_IP_SALT', undefined);
    const logged: string[] = [];
    const bare = createAttribution({ database: 'memory://', logger: { error: (_obj, msg) => logged.push(msg ?? ''), warn: () => {}, info: () => {}, debug: () => {} } });
    nextAttribution(bare);
    webhookRoute(bare);
    expect(logged).toEqual([]);
  });

  it('outside production, a route without a secret still mounts and names the setting when Stripe calls', async () => {
    vi.stubEnv('NODE_ENV', 'development');
    const app = express();
    app.use(expressAttribution(createAttribution({ database: 'memory://', clicks: { ipSalt: 'salt' } })));
    const reply = await request(app).post('/webhooks/stripe').set('content-type', 'application/json').set('stripe-signature', signature()).send(payload);
    expect(reply.status).toBe(500);
    expect(reply.body.error).toContain('STRIPE_WEBHOOK_SECRET');
  });
});
