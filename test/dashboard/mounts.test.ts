import Fastify from 'fastify';
import Koa from 'koa';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/kernel/errors.js';
import { attributionDashboard as expressDashboard } from '../../src/express/index.js';
import { attributionDashboard as fastifyDashboard } from '../../src/fastify/index.js';
import { attributionDashboard as koaDashboard } from '../../src/koa/index.js';
import { attributionDashboard as nextDashboard } from '../../src/nextjs/index.js';
import { backends } from '../support/backends.js';
import { T0, checkoutSession, event } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

const BASE = '/admin/attribution';

interface Reply {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One framework's app with the dashboard mounted at BASE, admin when the `x-role` header says so. */
interface Mounted {
  send(method: 'GET' | 'POST', path: string, headers?: Record<string, string>, body?: string): Promise<Reply>;
}

// 401 for no identity at all, 403 for the wrong one: the two answers authorize can give.
function authorizeRole(role: string | undefined): boolean {
  if (role === undefined) throw Object.assign(new Error('Sign in'), { status: 401 });
  return role === 'admin';
}

const supertestSend = (handler: Parameters<typeof request>[0]): Mounted['send'] => async (method, path, headers = {}, body) => {
  let test = method === 'GET' ? request(handler).get(path) : request(handler).post(path);
  for (const [name, value] of Object.entries(headers)) test = test.set(name, value);
  const response = body === undefined ? await test : await test.send(body);
  return { status: response.status, text: response.text, headers: response.headers };
};

const adapters: Array<{ name: string; refuse: () => unknown; mount(w: World): Promise<Mounted> }> = [
  {
    name: 'Koa',
    refuse: () => koaDashboard({} as never, {} as never),
    async mount(w) {
      const app = new Koa();
      app.use(koaDashboard(w.attribution, { basePath: BASE, authorize: (ctx) => authorizeRole(ctx.get('x-role') || undefined) }));
      app.use((ctx) => {
        ctx.body = 'the merchant’s own page';
      });
      return { send: supertestSend(app.callback()) };
    },
  },
  {
    name: 'Fastify',
    refuse: () => fastifyDashboard({} as never, {} as never),
    async mount(w) {
      const app = Fastify();
      await app.register(fastifyDashboard(w.attribution, { basePath: BASE, authorize: (req) => authorizeRole(req.headers['x-role'] as string | undefined) }));
      app.get('/', async () => 'the merchant’s own page');
      await app.ready();
      return { send: supertestSend(app.server) };
    },
  },
  {
    name: 'Next.js route',
    refuse: () => nextDashboard({} as never, {} as never),
    async mount(w) {
      const route = nextDashboard(w.attribution, { basePath: BASE, authorize: (req) => authorizeRole(req.headers.get('x-role') ?? undefined) });
      return {
        async send(method, path, headers = {}, body) {
          const response = await route[method](new Request(`http://shop.example${path}`, { method, headers, ...(body === undefined ? {} : { body }) }));
          const out: Record<string, string | string[]> = {};
          response.headers.forEach((value, name) => (out[name] = value));
          return { status: response.status, text: await response.text(), headers: out };
        },
      };
    },
  },
];

describe.each(backends())('dashboard mounts on $name', (backend) => {
  let w: World;
  beforeAll(async () => {
    w = await world(backend, undefined, { livemode: false, program: { holdDays: 30, reward: { type: 'percent', percent: 30 } } });
    for (const [index] of adapters.entries()) {
      const id = `cs_mount_${index}`;
      const delivered = await w.deliver(
        event('checkout.session.completed', checkoutSession({ id, created: T0 + index, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@buyers.example`, metadata: { sa_click_id: w.aliceClick } })),
      );
      expect(delivered.status).toBe(200);
    }
  });

  it('Express refuses to mount without authorize', () => {
    expect(() => expressDashboard({} as never, {} as never)).toThrow(ConfigurationError);
  });

  describe.each(adapters)('$name', (adapter) => {
    it('refuses to mount without authorize', () => {
      expect(adapter.refuse).toThrow(/needs an authorize\(request\) function/);
    });

    it('answers 401 and 403 from authorize, and leaves other paths to the app', async () => {
      const app = await adapter.mount(w);
      expect((await app.send('GET', `${BASE}/`)).status).toBe(401);
      const forbidden = await app.send('GET', `${BASE}/`, { 'x-role': 'visitor' });
      expect(forbidden.status).toBe(403);
      expect(forbidden.text).not.toContain('Alice');
      if (adapter.name !== 'Next.js route') expect((await app.send('GET', '/')).text).toBe('the merchant’s own page');
    });

    it('renders, approves through a CSRF-checked form, and exports CSV', async () => {
      const app = await adapter.mount(w);
      const page = await app.send('GET', `${BASE}/`, { 'x-role': 'admin' });
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('>Alice</a>');
      const cookie = [page.headers['set-cookie']].flat()[0]!.split(';')[0]!;
      expect(cookie).toMatch(/^sa_dashboard_csrf=/);

      const pending = (await w.attribution.commissions.list({ partnerId: w.alice })).filter((c) => c.status === 'pending');
      const target = pending[0]!;
      const token = new RegExp(`action="${BASE}/commissions/${target.id}/approve"><input type="hidden" name="csrf" value="([^"]+)"`).exec(page.text)![1]!;
      const form = { 'x-role': 'admin', cookie, 'content-type': 'application/x-www-form-urlencoded' };

      const forged = await app.send('POST', `${BASE}/commissions/${target.id}/approve`, form, `csrf=${token}x&return=${encodeURIComponent(`${BASE}/`)}`);
      expect(forged.status).toBe(403);
      const noCookie = await app.send('POST', `${BASE}/commissions/${target.id}/approve`, { ...form, cookie: '' }, `csrf=${token}`);
      expect(noCookie.status).toBe(403);
      expect((await w.attribution.commissions.list({ partnerId: w.alice })).find((c) => c.id === target.id)!.status).toBe('pending');

      const approved = await app.send('POST', `${BASE}/commissions/${target.id}/approve`, form, `csrf=${encodeURIComponent(token)}&return=${encodeURIComponent('https://evil.example/')}`);
      expect(approved.status).toBe(303);
      expect(approved.headers.location).toBe(`${BASE}/?done=approve&count=1`);
      expect((await w.attribution.commissions.list({ partnerId: w.alice })).find((c) => c.id === target.id)!.status).toBe('approved');

      const csv = await app.send('GET', `${BASE}/export.csv`, { 'x-role': 'admin' });
      expect(csv.status).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const alice = csv.text.split('\n').find((line) => line.startsWith(`${w.alice},`))!;
      expect(alice.split(',').slice(4, 7)).toEqual(['usd', String(adapters.length), String(adapters.length * 10000)]);

      const partnerPage = await app.send('GET', `${BASE}/partners/${w.alice}`, { 'x-role': 'admin' });
      expect(partnerPage.status).toBe(200);
      expect(partnerPage.text).toContain('Partner: Alice');
      expect(partnerPage.text).toContain('Alice: funnel, all time: Clicks 1, Leads');
      expect((await app.send('GET', `${BASE}/partners/ptn_nobody`, { 'x-role': 'admin' })).status).toBe(404);
      expect((await app.send('GET', `${BASE}/nowhere`, { 'x-role': 'admin' })).status).toBe(404);
      expect((await app.send('GET', `${BASE}/commissions/${target.id}/approve`, { 'x-role': 'admin' })).status).toBe(405);
    });
  });

  it('Fastify keeps its form parser to the dashboard', async () => {
    const app = Fastify();
    await app.register(fastifyDashboard(w.attribution, { basePath: BASE, authorize: () => true }));
    app.post('/echo', async (req) => ({ got: req.body }));
    const reply = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' });
    expect(reply.statusCode).toBe(415);
    await app.close();
  });
});
