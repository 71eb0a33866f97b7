import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NextRequest } from 'next/server.js';
import Stripe from 'stripe';
import request from 'supertest';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Attribution } from '../src/core/attribution.js';

const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0';
const secret = 'whsec_examples';
const payload = JSON.stringify({ id: 'evt_example', object: 'event', type: 'product.created', data: { object: { id: 'prod_1', object: 'product' } } });

beforeEach(() => {
  const env = { STRIPE_SECRET_KEY: 'sk_test_examples', STRIPE_WEBHOOK_SECRET: secret, DATABASE_URL: 'memory://', STRIPE_ATTRIBUTION_IP_SALT: 'examples-salt' };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
});

const quickstarts = ['express.ts', 'dashboard-express.ts', 'koa.ts', 'fastify.ts', 'nextjs/lib/attribution.ts', 'nextjs/proxy.ts', 'nextjs/app/page.tsx', 'nextjs-14-15/middleware.ts',
  'nextjs/app/api/webhooks/stripe/route.ts', 'nextjs/app/api/signup/route.ts', 'nextjs-14-15/app/api/attribution/click/route.ts'];

describe('README quickstarts', () => {
  it.each(quickstarts)('README shows examples/%s verbatim', (file) => {
    const code = readFileSync(join(root, 'examples', file), 'utf8').trim();
    expect(readme).toContain(code);
  });
});

async function journey(attribution: Attribution, send: (method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string) => Promise<{ status: number; setCookie: string | undefined; body: any }>) {
  const partner = await attribution.partners.create({ name: 'Alice', code: 'alice' });
  const visit = await send('GET', '/?via=alice', { 'user-agent': BROWSER });
  const cookie = visit.setCookie?.split(';')[0];
  expect(cookie).toMatch(/^sa_click=clk_/);
  const signup = await send('POST', '/signup?email=zoe%40example.com', { 'user-agent': BROWSER, cookie: cookie!, 'content-type': 'application/json' }, JSON.stringify({ email: 'zoe@example.com' }));
  expect(signup.body.partnerId).toBe(partner.id);
  const signature = new Stripe('sk_test_x').webhooks.generateTestHeaderString({ payload, secret });
  const webhook = await send('POST', '/webhooks/stripe', { 'stripe-signature': signature, 'content-type': 'application/json' }, payload);
  expect(webhook).toMatchObject({ status: 200, body: { received: true, type: 'product.created' } });
}

const supertestSend = (handler: Parameters<typeof request>[0]) => async (method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string) => {
  let test = method === 'GET' ? request(handler).get(path) : request(handler).post(path);
  for (const [name, value] of Object.entries(headers)) test = test.set(name, value);
  const response = body === undefined ? await test : await test.send(body);
  return { status: response.status, setCookie: (response.headers['set-cookie'] as unknown as string[] | undefined)?.[0], body: response.body };
};

describe('the quickstarts run', () => {
  it('Express', async () => {
    const { app, attribution } = await import('../examples/express.js');
    await journey(attribution, supertestSend(app));
  });

  it('Koa', async () => {
    const { app, attribution } = await import('../examples/koa.js');
    await journey(attribution, supertestSend(app.callback()));
  });

  it('Fastify', async () => {
    const { app, attribution } = await import('../examples/fastify.js');
    await app.ready();
    await journey(attribution, supertestSend(app.server));
    await app.close();
  });

  it('Next.js', async () => {
    const { attribution } = await import('../examples/nextjs/lib/attribution.js');
    await attribution.migrate();
    const { proxy } = await import('../examples/nextjs/proxy.js');
    const { POST: signup } = await import('../examples/nextjs/app/api/signup/route.js');
    const { POST: webhook } = await import('../examples/nextjs/app/api/webhooks/stripe/route.js');
    await journey(attribution, async (method, path, headers, body) => {
      const url = `http://shop.example${path}`;
      const init = { method, headers: { 'x-forwarded-for': '203.0.113.9', ...headers }, ...(body ? { body } : {}) };
      const response =
        path === '/webhooks/stripe' ? await webhook(new Request(url, init))
        : method === 'POST' ? await signup(new NextRequest(url, init), {})
        : await proxy(new NextRequest(url, init));
      const json = response.headers.get('content-type')?.includes('json') ? await response.json() : null;
      return { status: response.status, setCookie: response.headers.get('set-cookie') ?? undefined, body: json };
    });
  });
});
