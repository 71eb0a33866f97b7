import { expect } from 'vitest';
import type { AttributionEventName, AttributionEvents } from '../../src/core/index.js';
import type { Backend } from '../support/backends.js';
import { T0, account, checkoutSession, event } from '../support/stripe-fixtures.js';
import { stripeServer, world, type World } from '../support/world.js';

const DAY = 86_400;
export const afterHold = new Date((T0 + 31 * DAY) * 1000);

export interface ConnectWorld extends World {
  /** Hook events raised, in order, by name. */
  raised: Array<{ name: AttributionEventName; payload: unknown }>;
  /** Alice's connected account, once `connectAlice` ran. */
  aliceAccount: string;
  /** A sale of 100.00 through Alice's click, approved: a commission of 30.00. */
  sale(id: string, overrides?: Record<string, unknown>): Promise<void>;
}

const NAMES: AttributionEventName[] = ['payout.created', 'payout.paid', 'payout.failed', 'partner.payouts_enabled'];

/** A world whose merchant (in the US) pays partners through Connect; Alice onboarded, her transfers active. */
export async function connectWorld(backend: Backend, options: { connectAlice?: boolean } = {}): Promise<ConnectWorld> {
  const w = await world(backend, undefined, { program: { holdDays: 30, reward: { type: 'percent', percent: 30 } }, connect: { country: 'US' } });
  const raised: ConnectWorld['raised'] = [];
  for (const name of NAMES) w.attribution.on(name, (payload: AttributionEvents[typeof name]) => void raised.push({ name, payload }));
  let aliceAccount = '';
  if (options.connectAlice ?? true) {
    const onboarded = await w.attribution.connect.onboard(w.alice, { country: 'US', returnUrl: 'https://shop.example/partners/done', refreshUrl: 'https://shop.example/partners/again' });
    aliceAccount = onboarded.stripeAccountId;
    expect(await w.deliver(event('account.updated', account({ id: aliceAccount, capabilities: { transfers: 'active' } }), { account: aliceAccount }))).toMatchObject({ status: 200 });
  }
  return {
    ...w,
    raised,
    aliceAccount,
    async sale(id, overrides = {}) {
      const delivered = await w.deliver(
        event('checkout.session.completed', checkoutSession({ id, payment_intent: `pi_${id}`, customer: `cus_${id}`, customer_details: null, customer_email: `${id}@example.com`, metadata: { sa_click_id: w.aliceClick }, ...overrides })),
      );
      expect(delivered.status).toBe(200);
      await w.attribution.commissions.approveDue(afterHold);
    },
  };
}

/** The transfers the stand-in Stripe made to `destination` (once per idempotency key). */
export function transfersMade(destination: string) {
  return stripeServer.created.filter((object) => object.object === 'transfer' && object.destination === destination);
}

/** The transfer requests Stripe received for `destination`. */
export function transferRequests(destination: string) {
  return stripeServer.requests.filter((request) => request.method === 'POST' && request.path === '/v1/transfers' && request.form.destination === destination);
}
