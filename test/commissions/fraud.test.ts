import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/core/kernel/errors.js';
import { normaliseEmail } from '../../src/core/fraud/emails.js';
import type { FraudOptions } from '../../src/core/options/fraud-options.js';
import type { Commission, FraudFlag } from '../../src/core/storage/types.js';
import { backends, type Backend } from '../support/backends.js';
import { T0, charge, checkoutSession, dispute, event, paymentIntent } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

const DAY = 86_400;
const SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
/** A driven browser the click capture records (it is no crawler), which the quick-purchase rule knows. */
const ELECTRON = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Electron/28.1.0 Safari/537.36';

interface FraudWorld extends World {
  /** Moves "now" (click times), in Stripe seconds. */
  at(seconds: number): void;
  visit(options?: { ua?: string; ip?: string; code?: string }): Promise<string>;
  /** A paid checkout by `email` through `click`, created at `created` (Stripe seconds). */
  buy(id: string, options: { email: string; click: string; created?: number; amount?: number }): Promise<Commission>;
  flagged: Array<{ commission: Commission; flags: FraudFlag[] }>;
}

async function fraudWorld(backend: Backend, fraud: FraudOptions = {}): Promise<FraudWorld> {
  let now = T0 - 3600;
  const w = await world(backend, undefined, {
    fraud,
    clock: () => new Date(now * 1000),
    program: { currency: 'usd', holdDays: 30, reward: { type: 'percent', percent: 30 } },
  });
  const flagged: FraudWorld['flagged'] = [];
  w.attribution.on('commission.flagged', (payload) => {
    flagged.push(payload);
  });
  return {
    ...w,
    flagged,
    at: (seconds) => {
      now = seconds;
    },
    async visit({ ua = SAFARI, ip, code = 'alice' } = {}) {
      const { clickId } = await w.attribution.captureClick({ method: 'GET', url: `https://shop.example/?via=${code}`, headers: { 'user-agent': ua }, remoteAddress: ip });
      expect(clickId, `a click from ${ua}`).toBeTruthy();
      return clickId!;
    },
    async buy(id, { email, click, created = T0, amount = 10000 }) {
      const session = checkoutSession({
        id,
        created,
        amount_total: amount,
        amount_subtotal: amount,
        payment_intent: `pi_${id}`,
        customer: `cus_${id}`,
        customer_details: null,
        customer_email: email,
        metadata: { sa_click_id: click },
      });
      expect((await w.deliver(event('checkout.session.completed', session))).status).toBe(200);
      const [commission] = await w.attribution.commissions.list({ saleId: (await w.attribution.sales.list({ livemode: false })).concat(await w.attribution.sales.list({ livemode: true })).find((s) => s.stripeCheckoutSessionId === id)!.id });
      return commission!;
    },
  };
}

const rules = (flags: FraudFlag[]) => flags.map((flag) => flag.rule);

describe('normalised emails', () => {
  it('drops dots and +tags only where the provider ignores them', () => {
    expect(normaliseEmail(' Gina.Smith+Deals@GoogleMail.com')).toBe('ginasmith@gmail.com');
    expect(normaliseEmail('gina.smith+x@outlook.com')).toBe('gina.smith@outlook.com');
    expect(normaliseEmail('gina.smith+x@company.example')).toBe('gina.smith+x@company.example');
  });
});

describe.each(backends())('fraud review on $name', (backend) => {
  it('selfReferral: the partner\'s own gmail address written differently is held; another address is not; the rule can be turned off', async () => {
    const w = await fraudWorld(backend);
    await w.attribution.partners.create({ name: 'Gina', email: 'gina.smith@gmail.com', code: 'gina' });
    const click = await w.visit({ code: 'gina' });
    const own = await w.buy('cs_own', { email: 'Gina.Smith+deals@googlemail.com', click });
    expect(own).toMatchObject({ status: 'held', review: 'pending', amount: 3000 });
    expect(rules(own.flags)).toEqual(['selfReferral']);
    expect(await w.buy('cs_other', { email: 'gina.smith2@gmail.com', click })).toMatchObject({ status: 'pending', review: null, flags: [] });

    const off = await fraudWorld(backend, { rules: { selfReferral: false } });
    await off.attribution.partners.create({ name: 'Gina', email: 'gina.smith@gmail.com', code: 'gina' });
    expect(await off.buy('cs_own', { email: 'Gina.Smith+deals@googlemail.com', click: await off.visit({ code: 'gina' }) })).toMatchObject({ status: 'pending', flags: [] });
  });

  it('disposableEmail: a throwaway domain from the registry list is held; allow and block adjust the list', async () => {
    const w = await fraudWorld(backend, { rules: { disposableEmail: { allow: ['yopmail.com'], block: ['burner.example'] } } });
    const flagged = await w.buy('cs_temp', { email: 'buyer@mailinator.com', click: w.aliceClick });
    expect(flagged.flags).toEqual([{ rule: 'disposableEmail', reason: "The buyer's email is at a throwaway domain (mailinator.com)" }]);
    expect(rules((await w.buy('cs_blocked', { email: 'buyer@burner.example', click: w.aliceClick })).flags)).toEqual(['disposableEmail']);
    expect(await w.buy('cs_allowed', { email: 'buyer@yopmail.com', click: w.aliceClick })).toMatchObject({ status: 'pending', flags: [] });
    expect(await w.buy('cs_real', { email: 'buyer@example.com', click: w.aliceClick })).toMatchObject({ status: 'pending', flags: [] });
  });

  it('clickFlood: more clicks per hour from one IP hash than the threshold hold the sale; a quiet IP does not', async () => {
    const w = await fraudWorld(backend, { rules: { clickFlood: { perHour: 3 } } });
    const flood: string[] = [];
    for (let i = 0; i < 4; i++) {
      w.at(T0 - 3000 + i * 60);
      flood.push(await w.visit({ ip: '203.0.113.9' }));
    }
    // Another IP's clicks and an earlier hour's do not count.
    w.at(T0 - 3000);
    const quiet = await w.visit({ ip: '198.51.100.7' });
    w.at(T0 - 3 * 3600);
    await w.visit({ ip: '198.51.100.7' });
    await w.visit({ ip: '198.51.100.7' });
    await w.visit({ ip: '198.51.100.7' });
    const held = await w.buy('cs_flood', { email: 'a@example.com', click: flood[3]! });
    expect(held.flags).toEqual([{ rule: 'clickFlood', reason: "4 clicks on the partner's links from the buyer's IP address within an hour of their click (more than 3)" }]);
    expect(await w.buy('cs_quiet', { email: 'b@example.com', click: quiet })).toMatchObject({ status: 'pending', flags: [] });
  });

  it('quickPurchase: paid seconds after the click by an automated client is held; a person, or a slower purchase, is not', async () => {
    const w = await fraudWorld(backend);
    w.at(T0 - 3);
    const bot = await w.visit({ ua: ELECTRON });
    const person = await w.visit({ ua: SAFARI });
    w.at(T0 - 60);
    const slowBot = await w.visit({ ua: ELECTRON });
    expect(rules((await w.buy('cs_bot', { email: 'a@example.com', click: bot })).flags)).toEqual(['quickPurchase']);
    expect((await w.buy('cs_person', { email: 'b@example.com', click: person })).flags).toEqual([]);
    expect((await w.buy('cs_slow', { email: 'c@example.com', click: slowBot })).flags).toEqual([]);
  });

  it('refundRate: a partner whose recent sales were mostly refunded has the next one held; half refunded is not over 50 %', async () => {
    const w = await fraudWorld(backend, { rules: { refundRate: { rate: 0.5, days: 30, minSales: 2 } } });
    await w.buy('cs_r1', { email: 'r1@example.com', click: w.aliceClick, created: T0 - 2 * DAY });
    await w.buy('cs_r2', { email: 'r2@example.com', click: w.aliceClick, created: T0 - DAY });
    await w.deliver(event('charge.refunded', charge({ id: 'ch_r1', payment_intent: 'pi_cs_r1', amount: 10000, amount_refunded: 10000, refunded: true })));
    expect((await w.buy('cs_r3', { email: 'r3@example.com', click: w.aliceClick })).flags).toEqual([]);
    await w.deliver(event('charge.refunded', charge({ id: 'ch_r2', payment_intent: 'pi_cs_r2', amount: 10000, amount_refunded: 5000 })));
    // r1 and r2 of the three earlier sales refunded: 67 %.
    const held = await w.buy('cs_r4', { email: 'r4@example.com', click: w.aliceClick, created: T0 + 60 });
    expect(held.flags).toEqual([{ rule: 'refundRate', reason: "67 % of the partner's 3 sales in the last 30 days were refunded (more than 50 %)" }]);
    // Outside the window they no longer count.
    expect((await w.buy('cs_r5', { email: 'r5@example.com', click: w.aliceClick, created: T0 + 40 * DAY })).flags).toEqual([]);
  });

  it('sharedIdentity: customers of one partner paying with one card (stored from the payment) are held; another card is not', async () => {
    const w = await fraudWorld(backend, { rules: { sharedIdentity: { cards: 2, ips: 100 } } });
    const pay = (id: string, key: string, fingerprint: string) => {
      const card = { type: 'card', card: { fingerprint, brand: 'visa', last4: '4242' } } as unknown as Stripe.Charge.PaymentMethodDetails;
      return w.deliver(
        event(
          'payment_intent.succeeded',
          paymentIntent({ id, customer: `cus_${key}`, metadata: { sa_click_id: w.aliceClick, sa_customer_key: key }, latest_charge: charge({ id: `ch_${id}`, payment_intent: id, payment_method_details: card }) }),
        ),
      );
    };
    await pay('pi_1', 'user_1', 'fp_shared');
    await pay('pi_2', 'user_2', 'fp_shared');
    await pay('pi_3', 'user_3', 'fp_other');
    const sales = await w.attribution.sales.list({ livemode: false });
    expect(sales.map((s) => [s.stripePaymentIntentId, s.cardFingerprint])).toEqual([['pi_1', 'fp_shared'], ['pi_2', 'fp_shared'], ['pi_3', 'fp_other']]);
    const byIntent = Object.fromEntries(await Promise.all(sales.map(async (s) => [s.stripePaymentIntentId, (await w.attribution.commissions.list({ saleId: s.id }))[0]!] as const)));
    expect(byIntent.pi_1!.flags).toEqual([]);
    expect(byIntent.pi_2!.flags).toEqual([{ rule: 'sharedIdentity', reason: "2 of the partner's customers paid with the same card" }]);
    expect(byIntent.pi_3!.flags).toEqual([]);
  });

  it('sharedIdentity: customers of one partner through clicks from one IP hash are held from the threshold on', async () => {
    const w = await fraudWorld(backend, { rules: { sharedIdentity: { cards: 100, ips: 2 } } });
    const first = await w.buy('cs_ip1', { email: 'ip1@example.com', click: await w.visit({ ip: '203.0.113.20' }) });
    const second = await w.buy('cs_ip2', { email: 'ip2@example.com', click: await w.visit({ ip: '203.0.113.20' }) });
    const elsewhere = await w.buy('cs_ip3', { email: 'ip3@example.com', click: await w.visit({ ip: '203.0.113.21' }) });
    expect([first.flags, second.flags.map((f) => f.reason), elsewhere.flags]).toEqual([[], ["2 of the partner's customers came from the same IP address"], []]);
  });

  it('custom rules see the sale and its evidence', async () => {
    const w = await fraudWorld(backend, { custom: [({ sale, evidence }) => (sale.amount > 50000 && evidence ? { rule: 'bigTicket', reason: `over 500 with ${evidence.partnerSales} earlier sales` } : undefined)] });
    expect((await w.buy('cs_big', { email: 'big@example.com', click: w.aliceClick, amount: 60000 })).flags).toEqual([{ rule: 'bigTicket', reason: 'over 500 with 0 earlier sales' }]);
    expect((await w.buy('cs_small', { email: 'small@example.com', click: w.aliceClick })).flags).toEqual([]);
  });

  it('held → cleared → approved: never approved while held, the decision kept, the hook raised, the customer not flagged again', async () => {
    const w = await fraudWorld(backend);
    const held = await w.buy('cs_temp', { email: 'buyer@mailinator.com', click: w.aliceClick });
    await w.attribution.outbox.drain();
    expect(w.flagged.map((f) => [f.commission.id, rules(f.flags)])).toEqual([[held.id, ['disposableEmail']]]);
    const later = new Date((T0 + 60 * DAY) * 1000);
    expect(await w.attribution.commissions.approveDue(later)).toEqual({ approved: 0 });
    expect(await w.attribution.commissions.approve([held.id], later)).toEqual({ approved: 0 });
    expect((await w.attribution.commissions.review.list()).map((c) => c.id)).toEqual([held.id]);

    const cleared = await w.attribution.commissions.review.clear(held.id, { note: 'known customer', by: 'merchant@shop.example' });
    expect(cleared).toMatchObject({ status: 'pending', review: 'cleared', amount: 3000, flags: held.flags });
    expect(await w.attribution.commissions.review.decision(held.id)).toMatchObject({ decision: 'cleared', note: 'known customer', decidedBy: 'merchant@shop.example' });
    expect(await w.attribution.commissions.review.list()).toEqual([]);
    await expect(w.attribution.commissions.review.clear(held.id)).rejects.toThrow(ConflictError);
    expect(await w.attribution.commissions.approveDue(later)).toEqual({ approved: 1 });
    expect((await w.attribution.commissions.list({ saleId: held.saleId! }))[0]).toMatchObject({ status: 'approved', flags: held.flags });

    // The same customer's next purchase: cleared once, not held again for the same address.
    const session = checkoutSession({ id: 'cs_again', payment_intent: 'pi_again', customer: 'cus_cs_temp', customer_details: null, customer_email: 'buyer@mailinator.com', metadata: { sa_click_id: w.aliceClick } });
    await w.deliver(event('checkout.session.completed', session));
    expect((await w.attribution.commissions.list({ partnerId: w.alice })).map((c) => c.status)).toEqual(['approved', 'pending']);
  });

  it('held → voided: voided with its reason in the ledger, the customer blocked, a later refund changes nothing', async () => {
    const w = await fraudWorld(backend);
    const held = await w.buy('cs_temp', { email: 'buyer@mailinator.com', click: w.aliceClick });
    await expect(w.attribution.commissions.review.void(held.id, { reason: '' })).rejects.toThrow(/reason/);
    const voided = await w.attribution.commissions.review.void(held.id, { reason: 'fake account', by: 'cli' });
    expect(voided).toMatchObject({ status: 'voided', review: 'voided', amount: 0, reason: 'fake account' });
    expect(await w.count('sa_commission_adjustments')).toBe(1);
    expect(await w.attribution.commissions.review.decision(held.id)).toMatchObject({ decision: 'voided', note: 'fake account', decidedBy: 'cli' });
    await w.deliver(event('charge.refunded', charge({ payment_intent: 'pi_cs_temp', amount: 10000, amount_refunded: 4000 })));
    expect((await w.attribution.commissions.list({ saleId: held.saleId! }))[0]).toMatchObject({ status: 'voided', amount: 0 });
    const again = checkoutSession({ id: 'cs_again', payment_intent: 'pi_again', customer: 'cus_cs_temp', customer_details: null, customer_email: 'buyer@mailinator.com', metadata: { sa_click_id: w.aliceClick } });
    await w.deliver(event('checkout.session.completed', again));
    expect((await w.attribution.commissions.list({ partnerId: w.alice })).map((c) => [c.status, c.reason])).toEqual([['voided', 'fake account'], ['voided', 'fraud']]);
  });

  it('a dispute won does not release a commission held for review; clearing it while a dispute is open keeps it held until won', async () => {
    const w = await fraudWorld(backend);
    const held = await w.buy('cs_temp', { email: 'buyer@mailinator.com', click: w.aliceClick });
    const theCharge = charge({ payment_intent: 'pi_cs_temp', amount: 10000 });
    await w.deliver(event('charge.dispute.created', dispute({ amount: 10000, payment_intent: 'pi_cs_temp', charge: theCharge })));
    await w.deliver(event('charge.dispute.closed', dispute({ amount: 10000, payment_intent: 'pi_cs_temp', charge: theCharge, status: 'won' })));
    expect((await w.attribution.commissions.list({ saleId: held.saleId! }))[0]).toMatchObject({ status: 'held', review: 'pending' });
    expect(await w.attribution.commissions.review.clear(held.id)).toMatchObject({ status: 'pending', review: 'cleared' });

    const other = await w.buy('cs_temp2', { email: 'other@mailinator.com', click: w.aliceClick });
    const otherCharge = charge({ id: 'ch_2', payment_intent: 'pi_cs_temp2', amount: 10000 });
    await w.deliver(event('charge.dispute.created', dispute({ id: 'dp_2', amount: 10000, payment_intent: 'pi_cs_temp2', charge: otherCharge })));
    expect(await w.attribution.commissions.review.clear(other.id)).toMatchObject({ status: 'held', review: 'cleared' });
    await w.deliver(event('charge.dispute.closed', dispute({ id: 'dp_2', amount: 10000, payment_intent: 'pi_cs_temp2', charge: otherCharge, status: 'won' })));
    expect((await w.attribution.commissions.list({ saleId: other.saleId! }))[0]).toMatchObject({ status: 'pending', review: 'cleared' });
  });

  it('concurrent decisions: exactly one applies and one is recorded', async () => {
    const w = await fraudWorld(backend);
    const held = await w.buy('cs_temp', { email: 'buyer@mailinator.com', click: w.aliceClick });
    const review = w.attribution.commissions.review;
    const outcomes = await Promise.allSettled([review.clear(held.id, { by: 'a' }), review.clear(held.id, { by: 'b' }), review.void(held.id, { reason: 'fraud', by: 'c' })]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const failed of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) expect(failed.reason).toBeInstanceOf(ConflictError);
    expect(await w.count('sa_commission_reviews')).toBe(1);
    const decision = await review.decision(held.id);
    const [after] = await w.attribution.commissions.list({ saleId: held.saleId! });
    expect(after!.review).toBe(decision!.decision);
  });
});
