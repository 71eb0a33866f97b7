import type Stripe from 'stripe';
import type { Attribution, PartnerWithCodes } from 'stripe-attribution';
import { addMonth } from './stripe-stand-in.js';

/**
 * A realistic partner program, for `npm run demo -- --serve` and the README's screenshots: a few
 * partners of different sizes, and `days` of visits through their links, signups, subscriptions
 * that renew or churn, and refunds. Every step goes through the store's HTTP routes (the
 * middleware, `trackLead`, the wrapped Stripe client) and the stand-in's signed webhooks, so each
 * number on the dashboard is one the library computed. A seeded PRNG makes it the same every run.
 */
export interface SeedOptions {
  attribution: Attribution;
  /** The store's base URL. */
  store: string;
  /** The Stripe stand-in's base URL (for `/demo/renew`). */
  standIn: string;
  /** The Stripe client pointed at the stand-in (for refunds). */
  stripe: Stripe;
  /** Sets the clock the attribution instance and the stand-in read: the history happens "then". */
  setClock(at: Date | undefined): void;
  /** Days of history, ending now. Default 90. */
  days?: number;
  /** PRNG seed. Default 24. */
  seed?: number;
}

interface Profile {
  name: string;
  email: string;
  code: string;
  /** Visits a day at the start of the period, before the weekly rhythm and noise. */
  visits: number;
  /** Growth of `visits` over the whole period (1.5 = half as many again by the end). */
  growth: number;
  /** Share of visitors who sign up, and of those who subscribe. */
  signup: number;
  subscribe: number;
  /** Days before the end when the partner joined (default: the whole period). */
  joinedDaysAgo?: number;
  /** A newsletter issue or a launch post: this many times the visits, on the day this many days ago. */
  spike?: { daysAgo: number; factor: number };
}

const PROFILES: Profile[] = [
  { name: 'Maya Chen', email: 'maya@chen.example', code: 'maya', visits: 6, growth: 1.6, signup: 0.16, subscribe: 0.4 },
  { name: 'DevTools Weekly', email: 'ads@devtools-weekly.example', code: 'devtools', visits: 3, growth: 1.1, signup: 0.1, subscribe: 0.35, spike: { daysAgo: 34, factor: 6 } },
  { name: 'Jonas Weber', email: 'jonas@weber.example', code: 'jonas', visits: 2, growth: 1.3, signup: 0.22, subscribe: 0.5 },
  { name: 'Priya Patel', email: 'priya@patel.example', code: 'priya', visits: 2.5, growth: 2.5, signup: 0.14, subscribe: 0.35, joinedDaysAgo: 55 },
  { name: 'Lucas Martins', email: 'lucas@martins.example', code: 'lucas', visits: 1.2, growth: 1, signup: 0.2, subscribe: 0.45 },
];

const DAY_MS = 86_400_000;
/** Fewer visits at the weekend (Sunday first). */
const WEEKDAY = [0.55, 1.05, 1.15, 1.1, 1.05, 0.95, 0.6];
const BROWSER = { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15' };

export async function seedProgram({ attribution, store, standIn, stripe, setClock, days = 90, seed = 24 }: SeedOptions): Promise<PartnerWithCodes[]> {
  const random = mulberry32(seed);
  const end = Date.now();
  const start = end - days * DAY_MS;
  const partners = new Map<Profile, PartnerWithCodes>();
  for (const profile of PROFILES) partners.set(profile, await attribution.partners.create({ name: profile.name, email: profile.email, code: profile.code }));

  // A small discrete-event simulation: what happens next, in time order, each at its own clock.
  const agenda: Array<{ at: number; run: () => Promise<void> }> = [];
  const schedule = (at: number, run: () => Promise<void>) => {
    if (at >= end) return;
    const index = agenda.findIndex((item) => item.at > at);
    agenda.splice(index === -1 ? agenda.length : index, 0, { at, run });
  };
  let users = 0;

  const visitor = (profile: Profile) => async () => {
    const visit = await fetch(`${store}/?via=${profile.code}`, { headers: BROWSER });
    if (random() >= profile.signup) return;
    const cookie = visit.headers.getSetCookie()[0]!.split(';')[0]!;
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${store}${path}`, { method: 'POST', headers: { ...BROWSER, cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
      return response.json() as Promise<any>;
    };
    const { userId } = await post('/signup', { email: `customer${++users}@example.com` });
    if (random() >= profile.subscribe) return;
    // Some subscribe at once, others after a few days of looking around.
    const decidedAt = clockNow() + (random() < 0.6 ? 10 * 60_000 : Math.floor(random() * 6 * DAY_MS));
    schedule(decidedAt, async () => {
      const checkout = await post('/checkout', { userId });
      const paid = await fetch(checkout.url);
      if (!paid.ok) throw new Error(`Paying ${checkout.sessionId} answered ${paid.status}`);
      const [sale] = (await attribution.sales.list({ livemode: false, customerId: (await attribution.customers.get({ externalId: userId, livemode: false }))!.id })).slice(-1);
      afterPayment(sale!.stripeSubscriptionId!, sale!.stripePaymentIntentId!, clockNow());
    });
  };

  /** A payment may be refunded within days; the subscription renews a month later, or churns. */
  const afterPayment = (subscription: string, paymentIntent: string, paidAt: number) => {
    if (random() < 0.08) {
      const amount = random() < 0.5 ? 4900 : 1960;
      schedule(paidAt + (1 + Math.floor(random() * 9)) * DAY_MS, async () => void (await stripe.refunds.create({ payment_intent: paymentIntent, amount })));
    }
    if (random() < 0.12) return;
    const renewsAt = addMonth(Math.floor(paidAt / 1000)) * 1000;
    schedule(renewsAt, async () => {
      const renewed = await fetch(`${standIn}/demo/renew`, { method: 'POST', body: new URLSearchParams({ subscription }) });
      if (!renewed.ok) throw new Error(`Renewing ${subscription} answered ${renewed.status}`);
      const sales = await attribution.sales.list({ livemode: false });
      const renewal = sales.filter((sale) => sale.stripeSubscriptionId === subscription).at(-1)!;
      afterPayment(subscription, renewal.stripePaymentIntentId!, renewsAt);
    });
  };

  let now = start;
  const clockNow = () => now;
  for (let day = 0; day < days; day++) {
    const dayStart = start + day * DAY_MS;
    const daysAgo = days - day;
    for (const profile of PROFILES) {
      if (daysAgo > (profile.joinedDaysAgo ?? days)) continue;
      const trend = 1 + ((profile.growth - 1) * day) / days;
      const spike = profile.spike?.daysAgo === daysAgo ? profile.spike.factor : 1;
      const count = Math.round(profile.visits * trend * WEEKDAY[new Date(dayStart).getUTCDay()]! * spike * (0.6 + 0.8 * random()));
      for (let i = 0; i < count; i++) schedule(dayStart + Math.floor(random() * DAY_MS), visitor(profile));
    }
    // The agenda's head is always the earliest: it may schedule more within the day.
    while (agenda[0] && agenda[0].at < dayStart + DAY_MS) {
      const { at, run } = agenda.shift()!;
      now = at;
      setClock(new Date(at));
      await run();
    }
  }
  // Commissions past the 30-day hold were approved and paid out two weeks ago; later ones approved today.
  await attribution.commissions.approveDue(new Date(end - 14 * DAY_MS));
  setClock(new Date(end - 14 * DAY_MS));
  for (const payout of await attribution.payouts.create({ livemode: false })) await attribution.payouts.markPaid(payout.id, new Date(end - 12 * DAY_MS));
  setClock(undefined);
  await attribution.commissions.approveDue();
  return [...partners.values()];
}

/** A small seeded PRNG (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
