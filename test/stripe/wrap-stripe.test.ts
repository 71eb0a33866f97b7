import Stripe from 'stripe';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { AttributionError } from '../../src/core/kernel/errors.js';
import { startStripeServer } from '../support/stripe-server.js';

const attribution = createAttribution({ database: 'memory://' });
const CLICK = 'clk_abcdefghijklmnopqrstuv';
let stripeServer: Awaited<ReturnType<typeof startStripeServer>>;
let stripe: Stripe;

beforeAll(async () => {
  stripeServer = await startStripeServer();
});
afterAll(() => stripeServer.close());
beforeEach(() => {
  stripeServer.requests.length = 0;
});

// stripe 18's own types declare the module 'stripe' globally, clashing with 23's: load it untyped.
const StripeV18 = createRequire(import.meta.url)('stripe-v18') as new (key: string, config: object) => unknown;

// The current stripe-node major and an older one: the wrapper relies on no private internals.
const majors = [
  ['stripe 23', Stripe],
  ['stripe 18', StripeV18],
] as const;

const inRequest = <T>(fn: () => T, customerKey: string | null = 'user_42') =>
  attribution.runInContext({ clickId: CLICK, customerKey }, fn);
const lastForm = () => stripeServer.requests.at(-1)!.form;
const paymentSession: Stripe.Checkout.SessionCreateParams = {
  mode: 'payment',
  success_url: 'https://shop.example/thanks',
  line_items: [{ price: 'price_123', quantity: 2 }],
};

describe.each(majors)('%s', (_major, StripeClass) => {
  beforeAll(() => {
    stripe = stripeServer.client(StripeClass);
  });

  describe('wrapStripe: checkout sessions', () => {
    it('payment mode: client_reference_id, metadata, payment_intent_data metadata with sa_via, customer_creation', async () => {
      const billing = attribution.wrapStripe(stripe);
      const session = await inRequest(() => billing.checkout.sessions.create(paymentSession));
      expect(session.id).toMatch(/^checkout_session_/);
      expect(stripeServer.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v1/checkout/sessions' });
      expect(lastForm()).toEqual({
        mode: 'payment',
        success_url: 'https://shop.example/thanks',
        'line_items[0][price]': 'price_123',
        'line_items[0][quantity]': '2',
        client_reference_id: CLICK,
        'metadata[sa_click_id]': CLICK,
        'metadata[sa_customer_key]': 'user_42',
        'payment_intent_data[metadata][sa_click_id]': CLICK,
        'payment_intent_data[metadata][sa_customer_key]': 'user_42',
        'payment_intent_data[metadata][sa_via]': 'checkout',
        customer_creation: 'always',
      });
    });

    it('subscription mode: the keys go to subscription_data.metadata too, nothing payment-only', async () => {
      const billing = attribution.wrapStripe(stripe);
      await inRequest(() =>
        billing.checkout.sessions.create({ mode: 'subscription', customer: 'cus_1', line_items: [{ price: 'price_m', quantity: 1 }], success_url: 'https://s/' }),
      );
      const form = lastForm();
      expect(form['subscription_data[metadata][sa_click_id]']).toBe(CLICK);
      expect(form['subscription_data[metadata][sa_customer_key]']).toBe('user_42');
      expect(form['metadata[sa_click_id]']).toBe(CLICK);
      expect(Object.keys(form).some((key) => key.startsWith('payment_intent_data'))).toBe(false);
      expect(form.customer_creation).toBeUndefined();
    });

    it('never overwrites what the merchant set', async () => {
      const billing = attribution.wrapStripe(stripe);
      const params: Stripe.Checkout.SessionCreateParams = {
        ...paymentSession,
        client_reference_id: 'order_9',
        customer_creation: 'if_required',
        metadata: { sa_click_id: 'merchant-value', order: '9' },
        payment_intent_data: { description: 'Gold', metadata: { sa_via: 'mine' } },
      };
      const before = structuredClone(params);
      await inRequest(() => billing.checkout.sessions.create(params));
      expect(params).toEqual(before); // the merchant's object is not mutated
      const form = lastForm();
      expect(form).toMatchObject({
        client_reference_id: 'order_9',
        customer_creation: 'if_required',
        'metadata[sa_click_id]': 'merchant-value',
        'metadata[order]': '9',
        'metadata[sa_customer_key]': 'user_42',
        'payment_intent_data[description]': 'Gold',
        'payment_intent_data[metadata][sa_via]': 'mine',
        'payment_intent_data[metadata][sa_click_id]': CLICK,
      });
      // An existing customer needs no customer_creation.
      await inRequest(() => billing.checkout.sessions.create({ ...paymentSession, customer: 'cus_9' }));
      expect(lastForm().customer_creation).toBeUndefined();
    });

    it('adds nothing when there is no attribution', async () => {
      const billing = attribution.wrapStripe(stripe);
      await billing.checkout.sessions.create(paymentSession);
      const wrapped = lastForm();
      await stripe.checkout.sessions.create(paymentSession);
      expect(wrapped).toEqual(lastForm());
      expect(wrapped.customer_creation).toBeUndefined();
    });

    it('skips a key rather than exceed Stripe’s metadata limits', async () => {
      const billing = attribution.wrapStripe(stripe);
      const metadata = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, 'v']));
      await inRequest(() => billing.customers.create({ metadata }));
      const form = lastForm();
      expect(Object.keys(form).filter((key) => key.startsWith('metadata['))).toHaveLength(50);
      expect(form['metadata[sa_click_id]']).toBe(CLICK);
      expect(form['metadata[sa_customer_key]']).toBeUndefined();
      await inRequest(() => billing.customers.create({}), 'u'.repeat(501));
      expect(lastForm()).toEqual({ 'metadata[sa_click_id]': CLICK });
    });

    it('is deterministic, and request options pass through (idempotency key, connected account)', async () => {
      const billing = attribution.wrapStripe(stripe);
      await inRequest(() => billing.checkout.sessions.create(paymentSession, { idempotencyKey: 'idem_1', stripeAccount: 'acct_1' }));
      const first = stripeServer.requests.at(-1)!;
      await inRequest(() => billing.checkout.sessions.create(paymentSession, { idempotencyKey: 'idem_1', stripeAccount: 'acct_1' }));
      const second = stripeServer.requests.at(-1)!;
      expect(second.form).toEqual(first.form);
      expect(first.headers['idempotency-key']).toBe('idem_1');
      expect(first.headers['stripe-account']).toBe('acct_1');
    });
  });

  describe('wrapStripe: other resources', () => {
    it('customers, subscriptions and payment intents get the metadata keys', async () => {
      const billing = attribution.wrapStripe(stripe);
      await inRequest(() => billing.customers.create({ email: 'z@example.com' }));
      expect(lastForm()).toEqual({ email: 'z@example.com', 'metadata[sa_click_id]': CLICK, 'metadata[sa_customer_key]': 'user_42' });
      await inRequest(() => billing.subscriptions.create({ customer: 'cus_1', items: [{ price: 'price_m' }] }));
      expect(lastForm()['metadata[sa_click_id]']).toBe(CLICK);
      await inRequest(() => billing.paymentIntents.create({ amount: 500, currency: 'usd' }));
      expect(lastForm()).toMatchObject({ amount: '500', 'metadata[sa_customer_key]': 'user_42' });
      expect(lastForm()['metadata[sa_via]']).toBeUndefined();
    });

    it('customers.create() with no params, or with request options only', async () => {
      const billing = attribution.wrapStripe(stripe);
      await inRequest(() => billing.customers.create());
      expect(lastForm()).toEqual({ 'metadata[sa_click_id]': CLICK, 'metadata[sa_customer_key]': 'user_42' });
      await inRequest(() => billing.customers.create({ idempotencyKey: 'idem_only' } as Stripe.RequestOptions as Stripe.CustomerCreateParams));
      expect(stripeServer.requests.at(-1)!.headers['idempotency-key']).toBe('idem_only');
      expect(lastForm()['metadata[sa_click_id]']).toBe(CLICK);
    });

    it('leaves updates, payment links and everything else alone', async () => {
      const billing = attribution.wrapStripe(stripe);
      await inRequest(() => billing.customers.update('cus_1', { name: 'Zoë' }));
      expect(stripeServer.requests.at(-1)).toMatchObject({ path: '/v1/customers/cus_1', form: { name: 'Zoë' } });
      await inRequest(() => billing.paymentLinks.create({ line_items: [{ price: 'price_1', quantity: 1 }] }));
      expect(Object.keys(lastForm()).some((key) => key.includes('sa_'))).toBe(false);
    });

    it('takes explicit attribution outside a request', async () => {
      const billing = attribution.wrapStripe(stripe, { clickId: CLICK, customerKey: 'job_user' });
      await billing.customers.create({});
      expect(lastForm()).toEqual({ 'metadata[sa_click_id]': CLICK, 'metadata[sa_customer_key]': 'job_user' });
    });

    it('is the merchant’s client: same type, instanceof intact, the original untouched', async () => {
      const billing = attribution.wrapStripe(stripe);
      expect(billing).toBeInstanceOf(StripeClass);
      expect(billing.checkout.sessions.list).toBe(stripe.checkout.sessions.list);
      await inRequest(() => stripe.customers.create({ email: 'raw@example.com' }));
      expect(lastForm()).toEqual({ email: 'raw@example.com' });

      expectTypeOf(billing).toEqualTypeOf<Stripe>();
      expectTypeOf(billing.checkout.sessions.create).returns.resolves.toEqualTypeOf<Stripe.Response<Stripe.Checkout.Session>>();
      const asStripe: Stripe = billing;
      expect(asStripe).toBe(billing);
    });
  });
});

describe('Payment Links and pricing tables', () => {
  it('appends client_reference_id from the request, or the one given', () => {
    expect(inRequest(() => attribution.paymentLinkUrl('https://buy.stripe.com/test_123?prefilled_email=a%40b.co'))).toBe(
      `https://buy.stripe.com/test_123?prefilled_email=a%40b.co&client_reference_id=${CLICK}`,
    );
    expect(attribution.paymentLinkUrl('https://buy.stripe.com/test_123')).toBe('https://buy.stripe.com/test_123');
    expect(inRequest(() => attribution.pricingTableAttributes())).toEqual({ 'client-reference-id': CLICK });
    expect(attribution.pricingTableAttributes()).toEqual({});
  });

  it('refuses an id Stripe would silently drop', () => {
    expect(() => attribution.paymentLinkUrl('https://buy.stripe.com/x', 'has spaces')).toThrow(AttributionError);
    expect(() => attribution.pricingTableAttributes('x'.repeat(201))).toThrow(/at most 200/);
  });
});
