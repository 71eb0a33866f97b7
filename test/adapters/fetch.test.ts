import Stripe from 'stripe';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAttribution, type Attribution } from '../../src/core/attribution.js';
import { checkoutSession, event } from '../support/stripe-fixtures.js';

const secret = 'whsec_fetch_handler';
const stripe = new Stripe('sk_test_fetch');
const URL = 'http://shop.example/api/webhooks/stripe';

function customerCreated(id: string, pad = ''): string {
  return JSON.stringify({
    id: `evt_${id}`, object: 'event', type: 'customer.created', created: 1735689600, livemode: false,
    data: { object: { id, object: 'customer', email: `${id}@example.com`, metadata: pad ? { pad } : {} } },
  });
}

function signed(payload: string, init: { headers?: Record<string, string>; method?: string } = {}): Request {
  const signature = stripe.webhooks.generateTestHeaderString({ payload, secret });
  return new Request(URL, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature, ...init.headers },
    body: payload,
  });
}

/** A body with no Content-Length, as a chunked upload sends it: only counting the bytes read can refuse it. */
function streamed(payload: string): Request {
  const bytes = new TextEncoder().encode(payload);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 512) controller.enqueue(bytes.slice(at, at + 512));
      controller.close();
    },
  });
  const signature = stripe.webhooks.generateTestHeaderString({ payload, secret });
  return new Request(URL, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body, duplex: 'half' });
}

describe('attribution.fetch, the webhook endpoint as a Fetch handler', () => {
  let attribution: Attribution;
  beforeAll(async () => {
    attribution = createAttribution({ database: 'memory://', webhookSecret: secret, webhooks: { maxBodyBytes: 2048 } });
    await attribution.migrate();
  });

  it('verifies and records a signed event, answering 200 with JSON', async () => {
    const paid = event('checkout.session.completed', checkoutSession({ id: 'cs_fetch_ok', payment_intent: 'pi_fetch_ok', customer: 'cus_fetch_ok' }));
    const response = await attribution.fetch(signed(JSON.stringify(paid)));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ received: true, type: 'checkout.session.completed' });
    expect((await attribution.sales.list({ livemode: false })).map((sale) => sale.stripeCheckoutSessionId)).toEqual(['cs_fetch_ok']);
  });

  it('can be handed around unbound, as a Next.js route export is', async () => {
    const { fetch: POST } = attribution;
    expect((await POST(signed(customerCreated('cus_fetch_unbound')))).status).toBe(200);
  });

  it('answers 400 to a bad signature and writes nothing', async () => {
    const payload = customerCreated('cus_fetch_forged');
    const forged = new Request(URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else' }) },
      body: payload,
    });
    const response = await attribution.fetch(forged);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^Webhook signature verification failed/);
    expect(await attribution.customers.get({ stripeCustomerId: 'cus_fetch_forged' })).toBeUndefined();
  });

  it('answers 400 to a signed body that is no Stripe event', async () => {
    const payload = JSON.stringify({ id: 'evt_fetch_bad', object: 'event', type: 'customer.created', created: 'yesterday', livemode: false, data: { object: { id: 'cus_x', object: 'customer' } } });
    const response = await attribution.fetch(signed(payload));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'Malformed Stripe event: created must be a Unix timestamp' });
  });

  it('answers 413 past webhooks.maxBodyBytes, whether the length is declared or only read, and writes nothing', async () => {
    const big = customerCreated('cus_fetch_big', 'x'.repeat(4000));
    const declared = await attribution.fetch(signed(big));
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: string }).error).toBe('The webhook body exceeds 2048 bytes (webhooks.maxBodyBytes); a Stripe event is far smaller');

    const undeclared = streamed(big);
    expect(undeclared.headers.get('content-length')).toBeNull();
    expect((await attribution.fetch(undeclared)).status).toBe(413);
    expect(await attribution.customers.get({ stripeCustomerId: 'cus_fetch_big' })).toBeUndefined();

    // The same stream under the limit goes through: the count, not the missing header, decided.
    expect((await attribution.fetch(streamed(customerCreated('cus_fetch_streamed')))).status).toBe(200);
  });

  it('answers 415 to anything but application/json, before reading the body', async () => {
    const payload = customerCreated('cus_fetch_form');
    const response = await attribution.fetch(signed(payload, { headers: { 'content-type': 'text/plain' } }));
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ error: 'Stripe webhooks are application/json; this request is "text/plain"' });
    const untyped = new Request(URL, { method: 'POST', body: new Uint8Array(new TextEncoder().encode(payload)) });
    expect(untyped.headers.get('content-type')).toBeNull();
    expect(await (await attribution.fetch(untyped)).json()).toEqual({ error: 'Stripe webhooks are application/json; this request is without a Content-Type' });
    expect(await attribution.customers.get({ stripeCustomerId: 'cus_fetch_form' })).toBeUndefined();
  });

  it('answers 405 with Allow: POST to any other method', async () => {
    for (const method of ['GET', 'PUT']) {
      const request = method === 'GET' ? new Request(URL) : signed(customerCreated('cus_fetch_put'), { method });
      const response = await attribution.fetch(request);
      expect(response.status, method).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(await response.json()).toEqual({ error: 'Stripe webhooks are POST requests' });
    }
  });

  it('answers 500 naming the setting when no webhook secret is configured, so Stripe retries once it is set', async () => {
    const unsigned = createAttribution({ database: 'memory://' });
    const response = await unsigned.fetch(signed(customerCreated('cus_fetch_nosecret')));
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: string }).error).toContain('STRIPE_WEBHOOK_SECRET');
  });
});
