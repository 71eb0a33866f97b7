import type { Server } from 'node:http';
import express from 'express';
import expressV4 from 'express-v4';
import Fastify from 'fastify';
import Koa from 'koa';
import { NextRequest } from 'next/server.js';
import getRawBody from 'raw-body';
import request from 'supertest';
import type Stripe from 'stripe';
import type { Attribution } from '../../src/core/attribution.js';
import { attributionMiddleware as expressAttribution } from '../../src/express/index.js';
import { attributionMiddleware as fastifyAttribution } from '../../src/fastify/index.js';
import { attributionMiddleware as koaAttribution } from '../../src/koa/index.js';
import {
  attributionMiddleware as nextProxy,
  webhookRoute,
  withAttribution,
} from '../../src/nextjs/index.js';

export interface Reply {
  status: number;
  setCookies: string[];
  body: any;
}

export interface SendOptions {
  headers?: Record<string, string>;
  /** Sent byte for byte. */
  body?: Buffer;
}

/** One framework's app with the attribution middleware and the merchant routes the contract uses. */
export interface App {
  send(method: 'GET' | 'POST', path: string, options?: SendOptions): Promise<Reply>;
  close(): Promise<void>;
}

export interface AdapterUnderTest {
  name: string;
  /** `stripe` is the merchant's client; the app wraps it once, as the README says. */
  start(attribution: Attribution, stripe: Stripe): Promise<App>;
}

/** The merchant's routes, the same in every framework: where am I, and sign me up. */
const routes = {
  whoami: (attribution: Attribution) => ({ clickId: attribution.context()?.clickId ?? null }),
  async signup(attribution: Attribution, body: { userId: string; email: string }) {
    // A real async hop (as a database call would be) before the lead is tracked.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const lead = await attribution.trackLead({ customerExternalId: body.userId, email: body.email });
    return { attributed: lead.attributed, partnerId: lead.customer.partnerId, clickId: attribution.context()?.clickId ?? null };
  },
  async checkout(billing: Stripe, body: { order: string }) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const session = await billing.checkout.sessions.create({
      mode: 'payment',
      success_url: 'https://shop.example/thanks',
      line_items: [{ price: 'price_gold', quantity: 1 }],
      metadata: { order: body.order },
    });
    return { session: session.id };
  },
};

function supertestApp(handler: Parameters<typeof request>[0], close: () => Promise<void> = async () => {}): App {
  return {
    async send(method, path, options = {}) {
      let test = method === 'GET' ? request(handler).get(path) : request(handler).post(path);
      for (const [name, value] of Object.entries(options.headers ?? {})) test = test.set(name, value);
      // Bytes as they are: superagent would otherwise JSON-encode a Buffer sent as application/json.
      const response = options.body === undefined ? await test : await test.serialize((body: Buffer) => body as unknown as string).send(options.body);
      const setCookie = response.headers['set-cookie'] as unknown as string[] | string | undefined;
      return { status: response.status, setCookies: [setCookie ?? []].flat(), body: response.body };
    },
    close,
  };
}

function expressApp(factory: typeof express) {
  return async (attribution: Attribution, stripe: Stripe): Promise<App> => {
    const billing = attribution.wrapStripe(stripe);
    const app = factory();
    app.use(expressAttribution(attribution));
    app.use(factory.json());
    app.get(['/', '/pricing'], (_req, res) => void res.json(routes.whoami(attribution)));
    app.post('/signup', (req, res, next) => {
      routes.signup(attribution, req.body).then((result) => res.json(result), next);
    });
    app.post('/checkout', (req, res, next) => {
      routes.checkout(billing, req.body).then((result) => res.json(result), next);
    });
    return supertestApp(app);
  };
}

export const adapters: AdapterUnderTest[] = [
  { name: 'express 5', start: expressApp(express) },
  { name: 'express 4', start: expressApp(expressV4) },
  {
    name: 'koa',
    async start(attribution, stripe) {
      const billing = attribution.wrapStripe(stripe);
      const app = new Koa();
      app.use(koaAttribution(attribution));
      app.use(async (ctx) => {
        if (ctx.method === 'GET' && (ctx.path === '/' || ctx.path === '/pricing')) ctx.body = routes.whoami(attribution);
        else if (ctx.method === 'POST' && ctx.path === '/signup') {
          ctx.body = await routes.signup(attribution, JSON.parse(await getRawBody(ctx.req, { encoding: 'utf8' })));
        } else if (ctx.method === 'POST' && ctx.path === '/checkout') {
          ctx.body = await routes.checkout(billing, JSON.parse(await getRawBody(ctx.req, { encoding: 'utf8' })));
        } else ctx.status = 404;
      });
      const server: Server = app.listen(0);
      return supertestApp(server, () => new Promise((resolve) => server.close(() => resolve())));
    },
  },
  {
    name: 'fastify',
    async start(attribution, stripe) {
      const billing = attribution.wrapStripe(stripe);
      const app = Fastify();
      await app.register(fastifyAttribution(attribution));
      app.get('/', async () => routes.whoami(attribution));
      app.get('/pricing', async () => routes.whoami(attribution));
      // Fastify's own JSON parser reads this body: the context must survive it.
      app.post('/signup', async (req) => routes.signup(attribution, req.body as { userId: string; email: string }));
      app.post('/checkout', async (req) => routes.checkout(billing, req.body as { order: string }));
      await app.ready();
      return supertestApp(app.server, () => app.close());
    },
  },
  {
    name: 'nextjs',
    async start(attribution, stripe) {
      const billing = attribution.wrapStripe(stripe);
      const proxy = nextProxy(attribution);
      const webhook = webhookRoute(attribution);
      const page = withAttribution(async () => Response.json(routes.whoami(attribution)), attribution);
      const checkout = withAttribution(async (req: Request) => Response.json(await routes.checkout(billing, (await req.json()) as { order: string })), attribution);
      const signup = withAttribution(async (req: Request) => Response.json(await routes.signup(attribution, (await req.json()) as { userId: string; email: string })), attribution);
      return {
        async send(method, path, options = {}) {
          const url = `http://shop.example${path}`;
          // Next's server tells the app the peer address in X-Forwarded-For.
          const headers = { 'x-forwarded-for': '203.0.113.9', ...options.headers };
          const init = { method, headers, ...(options.body ? { body: options.body } : {}) };
          let response: Response;
          let setCookies: string[] = [];
          if (method === 'POST' && path === '/webhooks/stripe') {
            response = await webhook(new Request(url, init));
          } else {
            // As Next does: the proxy runs first; the route then sees the request headers it passed on.
            const proxied = await proxy(new NextRequest(url, init));
            setCookies = proxied.headers.getSetCookie();
            const routedHeaders = new Headers(headers);
            const overridden = proxied.headers.get('x-middleware-override-headers')?.split(',') ?? [];
            for (const name of overridden.filter(Boolean)) routedHeaders.set(name, proxied.headers.get(`x-middleware-request-${name}`) ?? '');
            const routed = new NextRequest(url, { ...init, headers: routedHeaders });
            const handler = method === 'POST' ? (path === '/signup' ? signup : checkout) : page;
            response = await handler(routed, {});
            setCookies = [...setCookies, ...response.headers.getSetCookie()];
          }
          return { status: response.status, setCookies, body: await response.json() };
        },
        async close() {},
      };
    },
  },
];

