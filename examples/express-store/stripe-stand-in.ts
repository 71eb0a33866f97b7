import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { charge, checkoutSession, deliver, event, invoice, invoiceLine, invoicePayment } from 'stripe-attribution/testing';

/**
 * A local stand-in for Stripe's API and for the Stripe side of a purchase, so the demo runs with no
 * account and no network. The store talks to it through the real `stripe` SDK; it answers the few
 * calls the store makes and, like Stripe, sends signed webhooks to the store when something is paid,
 * renewed or refunded. It knows one price: `price_pro`, $49.00 a month.
 */
export interface StripeStandIn {
  url: string;
  /** Options for `new Stripe(key, …)` that point the SDK here. */
  clientOptions: Stripe.StripeConfig;
  /** Where webhooks go, and the secret they are signed with. */
  sendWebhooksTo(url: string, secret: string): void;
  /** Every webhook delivered so far, with the store's answer. */
  deliveries: Array<{ type: string; status: number }>;
  close(): Promise<void>;
}

const PRICE = { id: 'price_pro', product: 'prod_pro', unit_amount: 4900, currency: 'usd', description: 'Acme Pro (monthly)' };

interface Purchase {
  session: Stripe.Checkout.Session;
  customer: string;
  email: string | null;
  subscription: string;
  subscriptionMetadata: Record<string, string>;
  /** Invoices paid so far, oldest first, with the payment intent and charge that paid them. */
  invoices: Array<{ id: string; paymentIntent: string; charge: string; paidAt: number; amountRefunded: number }>;
}

export async function startStripeStandIn({ clock = () => new Date() }: { clock?: () => Date } = {}): Promise<StripeStandIn> {
  // The demo's seeded history moves the clock back in time: payments and refunds happen "then".
  const nowSeconds = () => Math.floor(clock().getTime() / 1000);
  let webhookUrl = '';
  let webhookSecret = '';
  const deliveries: StripeStandIn['deliveries'] = [];
  const purchases = new Map<string, Purchase>();
  let counter = 0;
  const next = (prefix: string) => `${prefix}_demo${String(++counter).padStart(4, '0')}`;

  const send = async (stripeEvent: Stripe.Event) => {
    const { status } = await deliver(webhookUrl, stripeEvent, { secret: webhookSecret });
    deliveries.push({ type: stripeEvent.type, status });
  };

  /** Charges the subscription's next invoice at `paidAt` and tells the store, as Stripe does. */
  const payInvoice = async (purchase: Purchase, paidAt: number, billingReason: Stripe.Invoice.BillingReason) => {
    const id = next('in');
    const paid = { id, paymentIntent: next('pi'), charge: next('ch'), paidAt, amountRefunded: 0 };
    purchase.invoices.push(paid);
    const line = invoiceLine({
      id: next('il'),
      invoice: id,
      amount: PRICE.unit_amount,
      description: `1 × ${PRICE.description}`,
      pricing: { type: 'price_details', price_details: { price: PRICE.id, product: PRICE.product }, unit_amount_decimal: String(PRICE.unit_amount) as unknown as Stripe.Decimal },
      subscription: purchase.subscription,
      period: { start: paidAt, end: addMonth(paidAt) },
    });
    await send(
      event(
        'invoice.paid',
        invoice({
          id,
          created: paidAt,
          customer: purchase.customer,
          customer_email: purchase.email,
          billing_reason: billingReason,
          amount_due: PRICE.unit_amount,
          amount_paid: PRICE.unit_amount,
          subtotal: PRICE.unit_amount,
          subtotal_excluding_tax: PRICE.unit_amount,
          total: PRICE.unit_amount,
          total_excluding_tax: PRICE.unit_amount,
          lines: { object: 'list', data: [line], has_more: false, url: `/v1/invoices/${id}/lines` },
          parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: purchase.subscriptionMetadata, subscription: purchase.subscription } },
          status_transitions: { finalized_at: paidAt, marked_uncollectible_at: null, paid_at: paidAt, voided_at: null },
        }),
        { created: paidAt },
      ),
    );
    await send(
      event(
        'invoice_payment.paid',
        invoicePayment({
          id: next('inpay'),
          invoice: id,
          amount_paid: PRICE.unit_amount,
          amount_requested: PRICE.unit_amount,
          created: paidAt,
          payment: { type: 'payment_intent', payment_intent: paid.paymentIntent },
          status_transitions: { canceled_at: null, paid_at: paidAt },
        }),
        { created: paidAt },
      ),
    );
  };

  const routes: Record<string, (form: Record<string, string>, params: URLSearchParams, path: string) => Promise<[number, unknown]>> = {
    async 'POST /v1/checkout/sessions'(form) {
      if (form['line_items[0][price]'] !== PRICE.id) return [400, { error: { type: 'invalid_request_error', message: `No such price: '${form['line_items[0][price]']}'` } }];
      const id = next('cs_test');
      const session = checkoutSession({
        id,
        mode: form.mode as Stripe.Checkout.Session.Mode,
        created: nowSeconds(),
        client_reference_id: form.client_reference_id ?? null,
        customer: null,
        customer_email: form.customer_email ?? null,
        customer_details: null,
        metadata: nested(form, 'metadata'),
        payment_intent: null,
        payment_status: 'unpaid',
        status: 'open',
        success_url: form.success_url ?? null,
        amount_subtotal: PRICE.unit_amount,
        amount_total: PRICE.unit_amount,
      });
      session.url = `${standIn.url}/pay/${id}`;
      purchases.set(id, { session, customer: '', email: session.customer_email, subscription: '', subscriptionMetadata: nested(form, 'subscription_data[metadata]'), invoices: [] });
      return [200, session];
    },
    /** Stripe's hosted Checkout page, reduced to "the buyer paid": then the webhooks, then the redirect. */
    async 'GET /pay'(_form, _params, path) {
      const purchase = purchases.get(path.split('/')[2] ?? '');
      if (!purchase || purchase.session.status === 'complete') return [404, { error: { message: 'No such open Checkout Session' } }];
      const paidAt = nowSeconds();
      purchase.customer = next('cus');
      purchase.subscription = next('sub');
      const email = purchase.email ?? 'buyer@example.com';
      await payInvoice(purchase, paidAt, 'subscription_create');
      Object.assign(purchase.session, {
        status: 'complete',
        payment_status: 'paid',
        customer: purchase.customer,
        customer_details: { address: null, business_name: null, email, individual_name: null, name: null, phone: null, tax_exempt: 'none', tax_ids: [] },
        subscription: purchase.subscription,
        invoice: purchase.invoices[0]!.id,
      });
      await send(event('checkout.session.completed', purchase.session, { created: paidAt }));
      return [303, { location: purchase.session.success_url }];
    },
    /** What a test clock advanced by a month would do: the subscription renews. */
    async 'POST /demo/renew'(form) {
      const purchase = [...purchases.values()].find((p) => p.subscription === form.subscription);
      if (!purchase) return [404, { error: { message: `No such subscription: '${form.subscription}'` } }];
      await payInvoice(purchase, addMonth(purchase.invoices.at(-1)!.paidAt), 'subscription_cycle');
      return [200, { renewed: purchase.invoices.at(-1)!.id }];
    },
    async 'POST /v1/refunds'(form) {
      const purchase = [...purchases.values()].find((p) => p.invoices.some((paid) => paid.paymentIntent === form.payment_intent));
      const paid = purchase?.invoices.find((candidate) => candidate.paymentIntent === form.payment_intent);
      if (!purchase || !paid) return [404, { error: { type: 'invalid_request_error', message: `No such payment_intent: '${form.payment_intent}'` } }];
      const amount = Number(form.amount ?? PRICE.unit_amount - paid.amountRefunded);
      paid.amountRefunded += amount;
      const refundedAt = Math.max(nowSeconds(), paid.paidAt + 86400);
      const refund = { id: next('re'), object: 'refund', amount, charge: paid.charge, payment_intent: paid.paymentIntent, currency: PRICE.currency, status: 'succeeded' };
      await send(
        event(
          'charge.refunded',
          charge({
            id: paid.charge,
            created: paid.paidAt,
            customer: purchase.customer,
            payment_intent: paid.paymentIntent,
            amount: PRICE.unit_amount,
            amount_captured: PRICE.unit_amount,
            amount_refunded: paid.amountRefunded,
            refunded: paid.amountRefunded >= PRICE.unit_amount,
          }),
          { created: refundedAt },
        ),
      );
      return [200, refund];
    },
    async 'GET /v1/invoice_payments'(_form, params) {
      const intent = params.get('payment[payment_intent]');
      const data = [...purchases.values()]
        .flatMap((p) => p.invoices)
        .filter((paid) => paid.paymentIntent === intent)
        .map((paid) => invoicePayment({ invoice: paid.id, payment: { type: 'payment_intent', payment_intent: paid.paymentIntent } }));
      return [200, { object: 'list', data, has_more: false, url: '/v1/invoice_payments' }];
    },
  };

  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const route = routes[`${req.method} ${url.pathname}`] ?? routes[`${req.method} /${url.pathname.split('/')[1]}`];
      try {
        const [status, answer] = route
          ? await route(Object.fromEntries(new URLSearchParams(body)), url.searchParams, url.pathname)
          : [404, { error: { type: 'invalid_request_error', message: `The demo's Stripe stand-in does not know ${req.method} ${url.pathname}` } }];
        if (status === 303) {
          res.writeHead(303, { location: (answer as { location: string }).location }).end();
          return;
        }
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${counter}` }).end(JSON.stringify(answer));
      } catch (error) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { type: 'api_error', message: String(error) } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const standIn: StripeStandIn = {
    url: `http://127.0.0.1:${port}`,
    clientOptions: { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 },
    sendWebhooksTo(url, secret) {
      webhookUrl = url;
      webhookSecret = secret;
    },
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return standIn;
}

/** `prefix[key]=value` form fields (how the SDK encodes a nested object) as `{ key: value }`. */
function nested(form: Record<string, string>, prefix: string): Record<string, string> {
  const entries = Object.entries(form).filter(([key]) => key.startsWith(`${prefix}[`) && !key.slice(prefix.length + 1).includes('['));
  return Object.fromEntries(entries.map(([key, value]) => [key.slice(prefix.length + 1, -1), value]));
}

/** One calendar month later (UTC, clamped to the month's end), as Stripe bills monthly plans. */
export function addMonth(seconds: number): number {
  const date = new Date(seconds * 1000);
  const next = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()));
  const lastDay = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 0)).getUTCDate();
  next.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  return Math.floor(next.getTime() / 1000);
}
