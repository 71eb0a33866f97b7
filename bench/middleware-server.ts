import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { createAttribution } from '../src/core/attribution.js';
import { attributionMiddleware as expressAttribution } from '../src/express/index.js';
import { attributionMiddleware as fastifyAttribution } from '../src/fastify/index.js';
import { attributionMiddleware as koaAttribution } from '../src/koa/index.js';
import { benchPool, kyselyOn } from './support.js';

/**
 * One app under load, in a process of its own so that autocannon (in the parent) does not share
 * its event loop: `framework variant schema`, where variant `plain` is the bare hello route,
 * `attribution` the same route behind attributionMiddleware, `batched` the same with
 * `clickWrites: 'batched'`, `empty` the route behind a middleware that only passes the request on
 * (what the framework charges for any middleware), and `scope` the route behind a middleware that
 * only enters the attribution context (`runInContext`): the floor of carrying the click to
 * trackLead. Sends
 * `{ port }` to the parent, and `{ cpu: { user, system } }` (µs) when asked with `'cpu'`.
 */
export type Framework = 'express' | 'koa' | 'fastify';
export type Variant = 'plain' | 'attribution' | 'batched' | 'empty' | 'scope';

const [framework, variant, schema] = process.argv.slice(2) as [Framework, Variant, string];
const HELLO = 'hello';

const pool = benchPool(10);
// Requests still in flight when the parent hangs up meet a closed pool: that is shutdown, not a finding.
let closing = false;
const attribution = createAttribution({
  database: kyselyOn(pool),
  schema,
  webhookSecret: 'whsec_bench',
  clicks: { ipSalt: 'bench-salt' },
  clickWrites: variant === 'batched' ? 'batched' : 'sync',
  onError: (error) => {
    if (!closing) console.error(error);
  },
});
const withMiddleware = variant === 'attribution' || variant === 'batched';

async function listen(): Promise<number> {
  if (framework === 'express') {
    const app = express();
    app.disable('x-powered-by');
    if (withMiddleware) app.use(expressAttribution(attribution));
    if (variant === 'empty') app.use((_req, _res, next) => next());
    if (variant === 'scope') app.use((_req, _res, next) => attribution.runInContext({ clickId: null }, next));
    app.get('/', (_req, res) => void res.type('text/plain').send(HELLO));
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return (server.address() as AddressInfo).port;
  }
  if (framework === 'koa') {
    const app = new Koa();
    if (withMiddleware) app.use(koaAttribution(attribution));
    if (variant === 'empty') app.use((_ctx, next) => next());
    if (variant === 'scope') app.use((_ctx, next) => attribution.runInContext({ clickId: null }, next));
    app.use((ctx) => {
      ctx.type = 'text/plain';
      ctx.body = HELLO;
    });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return (server.address() as AddressInfo).port;
  }
  const app = Fastify({ logger: false });
  if (withMiddleware) await app.register(fastifyAttribution(attribution));
  if (variant === 'empty') app.addHook('onRequest', (_request, _reply, next) => next());
  if (variant === 'scope') app.addHook('onRequest', (_request, _reply, next) => attribution.runInContext({ clickId: null }, next));
  app.get('/', async (_request, reply) => reply.type('text/plain').send(HELLO));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

const port = await listen();
process.send!({ port });
// The parent reads this process's CPU time around each load run: CPU per request is steadier than req/s on a shared machine.
process.on('message', (message) => {
  if (message !== 'cpu') return;
  const { user, system } = process.cpuUsage();
  process.send!({ cpu: { user, system } });
});
process.on('disconnect', () => {
  closing = true;
  void attribution.close().finally(() => pool.end().finally(() => process.exit(0)));
});
