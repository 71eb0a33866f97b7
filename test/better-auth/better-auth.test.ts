import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stripe as stripePlugin } from '@better-auth/stripe';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import type Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attributionPlugin, forwardStripeEvents } from '../../src/better-auth/index.js';
import { createAttribution, type Attribution } from '../../src/core/attribution.js';
import { PGliteDialect } from '../../src/core/storage/pglite-dialect.js';
import type { Storage } from '../../src/core/storage/types.js';
import { checkoutSession, deliver, event, invoice, subscription, T0 } from '../../src/testing/index.js';
import { backends, freshStorage, templatePGlite, type Backend } from '../support/backends.js';
import { startStripeServer } from '../support/stripe-server.js';

const SECRET = 'whsec_better_auth_suite';
const SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';

let stripeServer: Awaited<ReturnType<typeof startStripeServer>>;
beforeAll(async () => {
  stripeServer = await startStripeServer();
});
afterAll(() => stripeServer.close());

/**
 * A merchant's app as the README sets it up: better-auth (email sign-up, `@better-auth/stripe` with
 * subscriptions) on its own database, served over HTTP by better-auth's Node handler, with the
 * attribution plugin and one Stripe webhook route for both.
 */
async function merchantApp(backend: Backend) {
  const storage = await freshStorage(backend);
  const failures = { next: false, always: false };
  const errors: unknown[] = [];
  const stripeClient = stripeServer.client();
  const attribution: Attribution = createAttribution({
    // Transactions fail after their writes when a test says so, as a connection dropped before COMMIT would.
    database: failingTransactions(storage, () => failures.always || (failures.next ? !(failures.next = false) : false)),
    stripe: stripeClient,
    livemode: false,
    clicks: { ipSalt: 'pepper' },
    program: { currency: 'usd', reward: { type: 'percent', percent: 30, duration: 'lifetime' } },
    clock: () => new Date((T0 - 3600) * 1000),
    onError: (error) => void errors.push(error),
  });
  const alice = await attribution.partners.create({ name: 'Alice', email: 'alice@partners.example', code: 'alice' });
  const { clickId } = await attribution.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice', headers: { 'user-agent': SAFARI } });

  let handler: ReturnType<typeof toNodeHandler> = async (_req, res) => void res.end();
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ownEvents: string[] = [];
  const auth = betterAuth({
    baseURL,
    secret: 'a-better-auth-secret-of-at-least-32-characters',
    database: { dialect: new PGliteDialect(templatePGlite()), type: 'postgres' },
    emailAndPassword: { enabled: true },
    telemetry: { enabled: false },
    logger: { disabled: true },
    plugins: [
      attributionPlugin(attribution),
      stripePlugin({
        stripeClient,
        stripeWebhookSecret: SECRET,
        createCustomerOnSignUp: true,
        subscription: { enabled: true, plans: [{ name: 'pro', priceId: 'price_pro' }] },
        onEvent: forwardStripeEvents(attribution, async (stripeEvent) => void ownEvents.push(stripeEvent.id)),
      }),
    ],
  });
  await (await getMigrations(auth.options)).runMigrations();
  handler = toNodeHandler(auth);
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await attribution.close();
  });

  return {
    attribution,
    auth,
    baseURL,
    alice: alice.id,
    clickId: clickId!,
    errors,
    ownEvents,
    failures,
    /** A browser's sign-up through better-auth's own route, carrying the attribution cookie when given. */
    async signUp(email: string, cookie?: string) {
      const response = await fetch(`${baseURL}/api/auth/sign-up/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: baseURL, 'user-agent': SAFARI, ...(cookie ? { cookie } : {}) },
        body: JSON.stringify({ email, password: 'correct horse battery staple', name: 'Zoë Buyer' }),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { user: { id: string } }).user.id;
    },
    /** Stripe's delivery to `@better-auth/stripe`'s webhook route, signed with the SDK's test header. */
    deliver: (stripeEvent: Stripe.Event, signature?: string) =>
      deliver(`${baseURL}/api/auth/stripe/webhook`, stripeEvent, { secret: SECRET, ...(signature ? { signature } : {}) }),
    async user(id: string) {
      return (await auth.$context).internalAdapter.findUserById(id) as Promise<{ stripeCustomerId?: string } | null>;
    },
  };
}

/** `storage` whose transactions throw after their work whenever `fail()` says so: nothing they wrote is kept. */
function failingTransactions(storage: Storage, fail: () => boolean): Storage {
  return new Proxy(storage, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== 'transaction') return typeof value === 'function' ? value.bind(target) : value;
      return <T>(fn: (tx: Parameters<Parameters<Storage['transaction']>[0]>[0]) => Promise<T>) =>
        target.transaction(async (tx) => {
          const result = await fn(tx);
          if (fail()) throw new Error('connection reset');
          return result;
        });
    },
  });
}

type App = Awaited<ReturnType<typeof merchantApp>>;

/** The first subscription of a user, as `@better-auth/stripe` does it: its row, then Checkout, then the first invoice. */
async function subscribe(app: App, userId: string, email: string, suffix: string) {
  const context = await app.auth.$context;
  const { stripeCustomerId } = (await app.user(userId))!;
  const row = await context.adapter.create<{ id: string }>({
    model: 'subscription',
    data: { plan: 'pro', referenceId: userId, stripeCustomerId, status: 'incomplete' },
  });
  const subscriptionId = `sub_${suffix}`;
  stripeServer.answers.set(
    `GET /v1/subscriptions/${subscriptionId}`,
    subscription({
      id: subscriptionId,
      customer: stripeCustomerId!,
      items: {
        object: 'list',
        has_more: false,
        url: `/v1/subscription_items?subscription=${subscriptionId}`,
        data: [
          {
            id: `si_${suffix}`,
            object: 'subscription_item',
            quantity: 1,
            current_period_start: T0,
            current_period_end: T0 + 30 * 86_400,
            price: { id: 'price_pro', recurring: { interval: 'month' } },
          } as Stripe.SubscriptionItem,
        ],
      },
    }),
  );
  const completed = event(
    'checkout.session.completed',
    checkoutSession({
      id: `cs_${suffix}`,
      mode: 'subscription',
      customer: stripeCustomerId!,
      subscription: subscriptionId,
      payment_intent: null,
      client_reference_id: userId,
      customer_details: { address: null, business_name: null, email, individual_name: null, name: 'Zoë Buyer', phone: null, tax_exempt: 'none', tax_ids: [] },
      metadata: { userId, subscriptionId: row.id, referenceId: userId },
    }),
  );
  const paid = event(
    'invoice.paid',
    invoice({
      id: `in_${suffix}`,
      customer: stripeCustomerId!,
      customer_email: email,
      parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription: subscriptionId } },
    }),
  );
  return { row: row.id, completed, paid };
}

/** The sales of the customer with this user id. */
async function salesOf(app: App, userId: string) {
  const customer = await app.attribution.customers.get({ externalId: userId });
  return app.attribution.sales.list({ livemode: false, customerId: customer!.id });
}

for (const backend of backends()) {
  describe(`stripe-attribution/better-auth (attribution on ${backend.name})`, () => {
    let app: App;
    beforeAll(async () => {
      app = await merchantApp(backend);
    });
    beforeEach(() => {
      app.ownEvents.length = 0;
      app.errors.length = 0;
    });

    it('a sign-up through a partner link is their lead; the Stripe events on better-auth’s route make the sale and its commission', async () => {
      const userId = await app.signUp('zoe@example.com', `theme=dark; sa_click=${app.clickId}`);

      const lead = await app.attribution.customers.get({ externalId: userId });
      expect(lead).toMatchObject({ partnerId: app.alice, email: 'zoe@example.com', attributedBy: 'click', clickId: app.clickId });
      // better-auth's own sign-up work went on: its Stripe customer, created through the real SDK.
      const { stripeCustomerId } = (await app.user(userId))!;
      expect(stripeCustomerId).toMatch(/^customer_\d+$/);
      expect(stripeServer.requests.find((r) => r.path === '/v1/customers' && r.form.email === 'zoe@example.com')).toBeDefined();

      const { row, completed, paid } = await subscribe(app, userId, 'zoe@example.com', 'zoe');
      expect(await app.deliver(completed)).toMatchObject({ status: 200, body: { success: true } });
      expect(await app.deliver(paid)).toMatchObject({ status: 200, body: { success: true } });

      // better-auth's handling: the subscription row it keeps is active now.
      const kept = await (await app.auth.$context).adapter.findOne<{ status: string; stripeSubscriptionId: string }>({
        model: 'subscription',
        where: [{ field: 'id', value: row }],
      });
      expect(kept).toMatchObject({ status: 'active', stripeSubscriptionId: 'sub_zoe' });
      // Ours: the first invoice is the sale, the lead's partner gets it.
      const sales = await salesOf(app, userId);
      expect(sales).toEqual([expect.objectContaining({ partnerId: app.alice, amount: 10000, currency: 'usd', stripeInvoiceId: 'in_zoe' })]);
      const commissions = await app.attribution.commissions.list({ saleId: sales[0]!.id });
      expect(commissions.map((c) => [c.partnerId, c.amount, c.status])).toEqual([[app.alice, 3000, 'pending']]);
      // And the merchant's own onEvent still sees every event.
      expect(app.ownEvents).toEqual([completed.id, paid.id]);

      // Stripe delivers at least once: a repeat changes nothing.
      expect(await app.deliver(paid)).toMatchObject({ status: 200 });
      expect(await salesOf(app, userId)).toHaveLength(1);
      expect(app.errors).toEqual([]);
    });

    it('a sign-up without the cookie is a lead of no partner', async () => {
      const userId = await app.signUp('walkin@example.com');
      expect(await app.attribution.customers.get({ externalId: userId })).toMatchObject({ partnerId: null, email: 'walkin@example.com' });
    });

    it('a sign-up from server code reads the cookie from the headers it passes', async () => {
      const headers = new Headers({ cookie: `sa_click=${app.clickId}`, origin: app.baseURL });
      const { user } = await app.auth.api.signUpEmail({ body: { email: 'server@example.com', password: 'correct horse battery staple', name: 'Sam' }, headers });
      expect(await app.attribution.customers.get({ externalId: user.id })).toMatchObject({ partnerId: app.alice, name: 'Sam' });
    });

    it('a bad signature answers 400 and records nothing', async () => {
      const userId = await app.signUp('forged@example.com', `sa_click=${app.clickId}`);
      const { paid } = await subscribe(app, userId, 'forged@example.com', 'forged');
      const reply = await app.deliver(paid, 't=1,v1=0000');
      expect(reply).toMatchObject({ status: 400, body: { code: 'FAILED_TO_CONSTRUCT_STRIPE_EVENT' } });
      expect(await salesOf(app, userId)).toEqual([]);
      expect(app.ownEvents).toEqual([]);
    });

    it('a failure on our side answers 500 with nothing kept; Stripe’s retry records the sale once', async () => {
      const userId = await app.signUp('retry@example.com', `sa_click=${app.clickId}`);
      const { completed, paid } = await subscribe(app, userId, 'retry@example.com', 'retry');
      expect((await app.deliver(completed)).status).toBe(200);

      app.failures.next = true;
      const failed = await app.deliver(paid);
      expect(failed).toMatchObject({ status: 500, body: { code: 'STRIPE_WEBHOOK_ERROR' } });
      expect(await salesOf(app, userId)).toEqual([]);
      expect(app.ownEvents).toEqual([completed.id]);

      expect((await app.deliver(paid)).status).toBe(200);
      const sales = await salesOf(app, userId);
      expect(sales).toEqual([expect.objectContaining({ partnerId: app.alice, stripeInvoiceId: 'in_retry' })]);
      expect(await app.attribution.commissions.list({ saleId: sales[0]!.id })).toHaveLength(1);
    });

    it('a lead that cannot be recorded is reported, and the sign-up still succeeds', async () => {
      app.failures.always = true;
      const userId = await app.signUp('lost@example.com', `sa_click=${app.clickId}`).finally(() => (app.failures.always = false));
      expect(app.errors).toEqual([expect.objectContaining({ message: 'connection reset' })]);
      expect(await app.attribution.customers.get({ externalId: userId })).toBeUndefined();
    });
  });
}
