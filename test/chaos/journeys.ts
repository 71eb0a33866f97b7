import type Stripe from 'stripe';
import { charge, checkoutSession, customer, discount, dispute, event, invoice, invoiceLine, lineItem, paymentIntent, subscription } from '../support/stripe-fixtures.js';

/**
 * Customer journeys as plain data (what happened, in Stripe's time), and the signed-event stream
 * Stripe would send for them. The oracle reads the data; the library only ever sees the events.
 */

/** Dee is paid for a customer's first sale only (`'once'`), Eli for their first month (`{ months: 1 }`). */
export type PartnerName = 'ana' | 'ben' | 'cy' | 'dee' | 'eli';
export const PARTNERS: readonly PartnerName[] = ['ana', 'ben', 'cy', 'dee', 'eli'];
/** Ben's referral code is also a Stripe promotion code. */
export const PROMOTION_CODE = 'promo_chaos_ben';

export interface Refund {
  /** Cumulative `amount_refunded` of the charge, tax included, as `charge.refunded` reports it. */
  cumulative: number;
  at: number;
}

export interface Dispute {
  amount: number;
  outcome: 'won' | 'lost' | 'open';
  openedAt: number;
  closedAt: number;
}

export interface Payment {
  /** What the sale is: untaxed price. */
  price: number;
  tax: number;
  at: number;
  kind: 'checkout' | 'invoice';
  /** Proration invoices (upgrades) earn percent rewards only. */
  proration: boolean;
  refunds: Refund[];
  dispute: Dispute | null;
}

export interface Journey {
  index: number;
  /** The partner whose click or promotion code brought the customer, if any. */
  partner: PartnerName | null;
  via: 'click' | 'promotion_code' | 'forged_click' | 'none';
  /** A `customer.created` with our metadata (the wrapped client's signup). */
  lead: boolean;
  /** Checkout without a Stripe customer: known by email only. */
  guest: boolean;
  payments: Payment[];
  /** A subscription that starts with a free trial: its first invoice is for $0. */
  trial: boolean;
  /** Invoices of this endpoint arrive in the pre-Basil shape. */
  legacy: boolean;
  /**
   * The first payment's sale events are lost in an outage and delivered after everything else (a
   * retry, or `reconcile`), so the customer's later payments are processed before their first.
   */
  late: boolean;
}

export type Rng = () => number;

/** Deterministic, so a failing seed can be replayed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400;
const PRICES = [990, 2900, 4900, 9900, 14_999, 19_900];
const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
const chance = (rng: Rng, p: number) => rng() < p;
const between = (rng: Rng, low: number, high: number) => low + Math.floor(rng() * (high - low + 1));

function priced(rng: Rng): { price: number; tax: number } {
  const price = pick(rng, PRICES);
  return { price, tax: chance(rng, 0.4) ? Math.round(price * 0.19) : 0 };
}

/** Refunds (1–3 partial, sometimes to the full amount) or a dispute, or neither: Stripe allows one or the other. */
function aftermath(rng: Rng, total: number, at: number): Pick<Payment, 'refunds' | 'dispute'> {
  const roll = rng();
  if (roll < 0.2) {
    const refunds: Refund[] = [];
    let cumulative = 0;
    for (let n = between(rng, 1, 3), i = 0; i < n && cumulative < total; i++) {
      cumulative = chance(rng, 0.25) ? total : Math.min(total, cumulative + between(rng, 1, Math.ceil(total / 2)));
      refunds.push({ cumulative, at: at + (i + 1) * between(rng, 3600, 5 * DAY) });
    }
    return { refunds, dispute: null };
  }
  if (roll < 0.32) {
    const openedAt = at + between(rng, DAY, 20 * DAY);
    const amount = chance(rng, 0.7) ? total : between(rng, 1, total);
    return { refunds: [], dispute: { amount, outcome: pick(rng, ['won', 'lost', 'open'] as const), openedAt, closedAt: openedAt + between(rng, DAY, 30 * DAY) } };
  }
  return { refunds: [], dispute: null };
}

/** `count` journeys starting within 30 days after `start` (Unix seconds): the click's lifetime covers them. */
export function generateJourneys(seed: number, count: number, start: number): Journey[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, (_, index) => {
    const begin = start + between(rng, 60, 30 * DAY);
    const roll = rng();
    const via: Journey['via'] = roll < 0.7 ? 'click' : roll < 0.82 ? 'promotion_code' : roll < 0.9 ? 'forged_click' : 'none';
    const partner = via === 'click' ? pick(rng, PARTNERS) : via === 'promotion_code' ? 'ben' : null;
    const subscribes = via !== 'promotion_code' && chance(rng, 0.45);
    const payments: Payment[] = [];
    const trial = subscribes && chance(rng, 0.3);
    if (subscribes) {
      const plan = priced(rng);
      let at = begin + (trial ? 14 * DAY : 0);
      for (let renewal = 0, renewals = between(rng, 0, 4); renewal <= renewals; renewal++, at += 30 * DAY) {
        payments.push({ ...plan, at, kind: 'invoice', proration: false, refunds: [], dispute: null });
        if (renewal === 1 && chance(rng, 0.2)) {
          const upgrade = priced(rng);
          payments.push({ ...upgrade, at: at + 3 * DAY, kind: 'invoice', proration: true, refunds: [], dispute: null });
        }
      }
    } else {
      const first = priced(rng);
      payments.push({ ...first, at: begin, kind: 'checkout', proration: false, ...aftermath(rng, first.price + first.tax, begin) });
      // An add-on bought minutes later: its events race the first purchase's.
      if (chance(rng, 0.25)) {
        const addOn = priced(rng);
        const at = begin + between(rng, 30, 600);
        payments.push({ ...addOn, at, kind: 'checkout', proration: false, ...aftermath(rng, addOn.price + addOn.tax, at) });
      }
    }
    const guest = !subscribes && via !== 'promotion_code' && chance(rng, 0.15);
    const lead = !guest && via === 'click' && chance(rng, 0.5);
    const legacy = chance(rng, 0.3);
    return { index, partner, via, lead, guest, payments, trial, legacy, late: payments.length > 1 && chance(rng, 0.35) };
  });
}

/**
 * Every other journey through Ben's promotion code has it on a line item: the session shows only
 * that there was a discount, and the code is found by listing the line items through the Stripe API.
 */
const codeOnLineItems = (journey: Journey) => journey.via === 'promotion_code' && journey.index % 2 === 0;
const DISCOUNT = 500;

/**
 * What the Stripe API answers about the journeys (the stand-in's canned answers, by "METHOD /path"):
 * the line items of sessions whose code is on a line, and every charge.
 */
export function stripeApi(journeys: readonly Journey[]): Map<string, unknown> {
  const answers = new Map<string, unknown>();
  for (const journey of journeys) {
    journey.payments.forEach((payment, n) => {
      const total = payment.price + payment.tax;
      const id = `${journey.index}_${n}`;
      answers.set(`GET /v1/charges/ch_chaos_${id}`, charge({ id: `ch_chaos_${id}`, payment_intent: `pi_chaos_${id}`, customer: journey.guest ? null : `cus_chaos_${journey.index}`, amount: total, created: payment.at }));
      if (payment.kind !== 'checkout' || !codeOnLineItems(journey)) return;
      const item = { ...lineItem(`li_chaos_${id}`, 'prod_chaos', total, payment.tax), amount_discount: DISCOUNT };
      const applied = discount({ id: `di_chaos_${id}`, customer: `cus_chaos_${journey.index}`, promotion_code: PROMOTION_CODE, source: { coupon: 'co_chaos', type: 'coupon' } });
      const items: Stripe.LineItem[] = [{ ...item, discounts: [{ amount: DISCOUNT, discount: applied }] }];
      const path = `/v1/checkout/sessions/cs_chaos_${id}/line_items`;
      answers.set(`GET ${path}`, { object: 'list', data: items, has_more: false, url: path });
    });
  }
  return answers;
}

const BASIL = '2026-10-28.endive';
const LEGACY = '2024-06-20';

function at<T extends { object: string }>(type: string, object: T, created: number, apiVersion = BASIL): Stripe.Event {
  return { ...event(type, object, apiVersion), created };
}

const LATE = 'evt_late_';
/** Keeps Stripe's times (a retried event is the same event) and only marks it for the late delivery. */
const deliveredLate = (sent: Stripe.Event): Stripe.Event => ({ ...sent, id: `${LATE}${sent.id}` });
/** Whether an event is one of a journey's late deliveries (see `Journey.late`). */
export const isLate = (sent: Stripe.Event) => sent.id.startsWith(LATE);

export interface JourneyIds {
  /** The live click of the journey's partner (journeys via a click), captured before the replay. */
  clickId: string | null;
}

/** Every event Stripe would send for a journey, each with Stripe's time. */
export function journeyEvents(journey: Journey, ids: JourneyIds): Stripe.Event[] {
  const j = journey.index;
  const customerId = journey.guest ? null : `cus_chaos_${j}`;
  const email = `buyer${j}@chaos.example`;
  const clickId = journey.via === 'click' ? ids.clickId : journey.via === 'forged_click' ? `clk_forged${j}xxxxxxxxxxxxxxxxxxxx` : null;
  const metadata: Record<string, string> = { ...(clickId ? { sa_click_id: clickId } : {}), ...(customerId ? { sa_customer_key: `user_${j}` } : {}) };
  const first = journey.payments[0]!;
  const events: Stripe.Event[] = [];

  if (customerId) {
    const created = first.at - 120;
    events.push(at('customer.created', customer({ id: customerId, email, created, metadata: journey.lead ? metadata : {} }), created));
  }

  const subscriptionId = `sub_chaos_${j}`;
  const isSubscription = first.kind === 'invoice';
  if (isSubscription) {
    const subscribed = first.at - 60;
    const sub = (overrides: Partial<Stripe.Subscription>) => subscription({ id: subscriptionId, customer: customerId!, metadata, created: subscribed, start_date: subscribed, ...overrides });
    events.push(
      at('checkout.session.completed', checkoutSession({ id: `cs_chaos_${j}_sub`, mode: 'subscription', customer: customerId, customer_details: null, customer_email: email, payment_intent: null, invoice: journey.trial ? `in_chaos_${j}_trial` : `in_chaos_${j}_0`, subscription: subscriptionId, amount_total: first.price + first.tax, total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: first.tax }, metadata, created: subscribed }), subscribed + 1),
      at('customer.subscription.created', sub({ status: journey.trial ? 'trialing' : 'active' }), subscribed + 2),
    );
    if (journey.trial) {
      const free = invoice({ id: `in_chaos_${j}_trial`, customer: customerId, customer_email: email, billing_reason: 'subscription_create', created: subscribed, total: 0, subtotal: 0, subtotal_excluding_tax: 0, total_excluding_tax: 0, amount_due: 0, amount_paid: 0, lines: { object: 'list', data: [invoiceLine({ id: `il_chaos_${j}_trial`, amount: 0, subscription: subscriptionId })], has_more: false, url: '' }, parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata, subscription: subscriptionId } } });
      events.push(at('invoice.paid', free, subscribed + 3));
    }
    const last = journey.payments[journey.payments.length - 1]!;
    if (j % 3 === 0) {
      const ended = last.at + 10 * DAY;
      events.push(at('customer.subscription.deleted', sub({ status: 'canceled', canceled_at: ended, ended_at: ended }), ended));
    }
  }

  journey.payments.forEach((payment, n) => {
    const total = payment.price + payment.tax;
    const paymentIntentId = `pi_chaos_${j}_${n}`;
    const chargeId = `ch_chaos_${j}_${n}`;
    const sale: Stripe.Event[] = [];
    if (payment.kind === 'checkout') {
      const session = checkoutSession({
        id: `cs_chaos_${j}_${n}`,
        customer: customerId,
        customer_details: { address: null, business_name: null, email, individual_name: null, name: null, phone: null, tax_exempt: 'none', tax_ids: [] },
        payment_intent: paymentIntentId,
        amount_total: total,
        amount_subtotal: payment.price,
        total_details: { amount_discount: codeOnLineItems(journey) ? DISCOUNT : 0, amount_shipping: 0, amount_tax: payment.tax },
        discounts: journey.via === 'promotion_code' && !codeOnLineItems(journey) ? [{ coupon: 'co_chaos', promotion_code: PROMOTION_CODE }] : [],
        metadata,
        created: payment.at,
      });
      sale.push(
        at('checkout.session.completed', session, payment.at + 2),
        // The wrapped client marks the session's payment intent: it is the session's sale, never a second one.
        at('payment_intent.succeeded', paymentIntent({ id: paymentIntentId, customer: customerId, amount: total, amount_received: total, metadata: { ...metadata, sa_via: 'checkout' }, created: payment.at }), payment.at + 1),
        at('charge.succeeded', charge({ id: chargeId, payment_intent: paymentIntentId, customer: customerId, amount: total, created: payment.at }), payment.at + 1),
      );
    } else {
      sale.push(...invoiceEvents(journey, payment, n, { customerId: customerId!, email, metadata, subscriptionId, paymentIntentId }));
    }
    events.push(...(journey.late && n === 0 ? sale.map(deliveredLate) : sale));
    for (const refund of payment.refunds) {
      const refunded = charge({ id: chargeId, payment_intent: paymentIntentId, customer: customerId, amount: total, amount_refunded: refund.cumulative, refunded: refund.cumulative === total, created: payment.at });
      events.push(at('charge.refunded', refunded, refund.at));
    }
    const disputed = payment.dispute;
    if (disputed) {
      const base = { id: `dp_chaos_${j}_${n}`, charge: chargeId, payment_intent: paymentIntentId, amount: disputed.amount, created: disputed.openedAt };
      events.push(at('charge.dispute.created', dispute({ ...base, status: 'needs_response' }), disputed.openedAt));
      if (disputed.outcome !== 'open') events.push(at('charge.dispute.closed', dispute({ ...base, status: disputed.outcome }), disputed.closedAt));
    }
  });
  return events;
}

function invoiceEvents(
  journey: Journey,
  payment: Payment,
  n: number,
  ids: { customerId: string; email: string; metadata: Record<string, string>; subscriptionId: string; paymentIntentId: string },
): Stripe.Event[] {
  const total = payment.price + payment.tax;
  const id = `in_chaos_${journey.index}_${n}`;
  const paidAt = payment.at;
  const basil = invoice({
    id,
    customer: ids.customerId,
    customer_email: ids.email,
    billing_reason: payment.proration ? 'subscription_update' : n === 0 && !journey.trial ? 'subscription_create' : 'subscription_cycle',
    created: paidAt - 3600,
    total,
    subtotal: payment.price,
    subtotal_excluding_tax: payment.price,
    total_excluding_tax: payment.price,
    amount_due: total,
    amount_paid: total,
    lines: { object: 'list', data: [invoiceLine({ id: `il_${id}`, invoice: id, amount: payment.price, subscription: ids.subscriptionId })], has_more: false, url: `/v1/invoices/${id}/lines` },
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: ids.metadata, subscription: ids.subscriptionId } },
    status_transitions: { finalized_at: paidAt - 3600, marked_uncollectible_at: null, paid_at: paidAt, voided_at: null },
  });
  const object = journey.legacy ? legacyInvoice(basil, ids.paymentIntentId) : basil;
  const version = journey.legacy ? LEGACY : BASIL;
  // Stripe sends both for every paid invoice.
  return [at('invoice.paid', object, paidAt + 1, version), at('invoice.payment_succeeded', object, paidAt + 1, version)];
}

/** The same invoice as an endpoint pinned to 2024-06-20 receives it: the legacy fields, no `parent`. */
function legacyInvoice(basil: Stripe.Invoice, paymentIntentId: string): Stripe.Invoice {
  const { parent, ...rest } = basil;
  return {
    ...rest,
    subscription: parent?.subscription_details?.subscription ?? null,
    subscription_details: { metadata: parent?.subscription_details?.metadata ?? {} },
    payment_intent: paymentIntentId,
    tax: basil.total - (basil.total_excluding_tax ?? basil.total),
    lines: {
      ...basil.lines,
      data: basil.lines.data.map(({ pricing, ...line }) => ({
        ...line,
        price: { id: pricing?.price_details?.price, object: 'price', product: pricing?.price_details?.product },
      })),
    },
  } as unknown as Stripe.Invoice;
}
