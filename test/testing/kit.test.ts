import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { createAttribution, type Attribution } from 'stripe-attribution';
import { attributionMiddleware as expressMiddleware } from 'stripe-attribution/express';
import { attributionMiddleware as fastifyMiddleware } from 'stripe-attribution/fastify';
import { attributionMiddleware as koaMiddleware } from 'stripe-attribution/koa';
import { webhookRoute } from 'stripe-attribution/nextjs';
import {
  LEGACY_API_VERSION,
  T0,
  charge,
  checkoutSession,
  deliver,
  event,
  invoice,
  legacyInvoice,
} from 'stripe-attribution/testing';

/** A merchant's own integration test, written as the README shows: only the public entry points. */
const secret = 'whsec_merchant_ci';

async function shop(): Promise<{ attribution: Attribution; clickId: string; partnerId: string }> {
  const attribution = createAttribution({ database: 'memory://', webhookSecret: secret, clicks: { ipSalt: 'kit' }, clock: () => new Date((T0 - 60) * 1000) });
  await attribution.migrate();
  const partner = await attribution.partners.create({ name: 'Alice', code: 'alice' });
  const { clickId } = await attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice', headers: { 'user-agent': 'Mozilla/5.0 Firefox/130.0' } });
  return { attribution, clickId: clickId!, partnerId: partner.id };
}

describe('stripe-attribution/testing', () => {
  it('builds typed events that the webhook accepts in both payload shapes, with the same result', async () => {
    const { attribution, clickId, partnerId } = await shop();
    const app = express().use(expressMiddleware(attribution));
    const basil = invoice({ id: 'in_basil', parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: { sa_click_id: clickId }, subscription: 'sub_1' } } });
    const legacy = legacyInvoice({ ...basil, id: 'in_legacy', customer: 'cus_other', customer_email: 'other@example.com' }, 'pi_legacy');
    expect(legacy).not.toHaveProperty('parent');
    expect(legacy).toMatchObject({ subscription: 'sub_1', subscription_details: { metadata: { sa_click_id: clickId } } });

    expect(await deliver(app, event('invoice.paid', basil), { secret })).toMatchObject({ status: 200, body: { received: true, type: 'invoice.paid' } });
    expect(await deliver(app, event('invoice.paid', legacy, LEGACY_API_VERSION), { secret })).toMatchObject({ status: 200 });
    const sales = await attribution.sales.list({ livemode: false });
    expect(sales.map((sale) => [sale.stripeInvoiceId, sale.amount, sale.partnerId])).toEqual([
      ['in_basil', 10000, partnerId],
      ['in_legacy', 10000, partnerId],
    ]);
    await attribution.close();
  });

  it('a repeat of the same event changes nothing; a wrong secret or a stale signature is refused', async () => {
    const { attribution, clickId } = await shop();
    const app = express().use(expressMiddleware(attribution));
    const completed = event('checkout.session.completed', checkoutSession({ metadata: { sa_click_id: clickId } }));
    expect(completed.data.object.id).toBe('cs_test_1');
    expect((await deliver(app, completed, { secret })).status).toBe(200);
    expect((await deliver(app, completed, { secret })).status).toBe(200);
    expect(await attribution.sales.list({ livemode: false })).toHaveLength(1);

    const other = event('charge.refunded', charge({ amount_refunded: 10000, refunded: true }));
    expect((await deliver(app, other, { secret: 'whsec_wrong' })).status).toBe(400);
    expect((await deliver(app, other, { secret, timestamp: Math.floor(Date.now() / 1000) - 3600 })).status).toBe(400);
    expect((await deliver(app, other, { secret, signature: 't=1,v1=forged' })).status).toBe(400);
    expect((await attribution.sales.list({ livemode: false }))[0]).toMatchObject({ amountRefunded: 0 });
    await expect(deliver(app, other, { secret: '' })).rejects.toThrow('deliver() needs { secret }');
    await attribution.close();
  });

  it('posts to every kind of target: a URL, an http.Server, Koa, Fastify and a Next.js route handler', async () => {
    const { attribution } = await shop();
    const ping = () => event('product.created', { id: 'prod_1', object: 'product' });
    const accepted = { status: 200, body: { received: true, type: 'product.created' } };

    const running = createServer(express().use(expressMiddleware(attribution)));
    await new Promise<void>((resolve) => running.listen(0, '127.0.0.1', resolve));
    const { port } = running.address() as { port: number };
    expect(await deliver(`http://127.0.0.1:${port}`, ping(), { secret })).toMatchObject(accepted);
    expect(await deliver(new URL(`http://127.0.0.1:${port}/webhooks/stripe`), ping(), { secret })).toMatchObject(accepted);
    expect(await deliver(running, ping(), { secret })).toMatchObject(accepted);
    expect(running.listening).toBe(true);
    await new Promise((resolve) => running.close(resolve));

    const idle = createServer(express().use(expressMiddleware(attribution)));
    expect(await deliver(idle, ping(), { secret })).toMatchObject(accepted);
    expect(idle.listening).toBe(false);

    const koa = new Koa().use(koaMiddleware(attribution));
    expect(await deliver(koa, ping(), { secret })).toMatchObject(accepted);
    expect(await deliver(koa.callback(), ping(), { secret })).toMatchObject(accepted);

    const fastify = Fastify();
    await fastify.register(fastifyMiddleware(attribution));
    expect(await deliver(fastify, ping(), { secret })).toMatchObject(accepted);
    await fastify.close();

    const POST = webhookRoute(attribution);
    expect(await deliver(POST, ping(), { secret, path: '/api/webhooks/stripe' })).toMatchObject(accepted);
    await attribution.close();
  });
});
