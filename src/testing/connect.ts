import type Stripe from 'stripe';
import { T0 } from './objects.js';

/**
 * A partner's connected account (Express) as `account.updated` carries it: transfers active
 * unless `capabilities` says otherwise. Deliver it with `event('account.updated', account(...),
 * { account: account.id })`, as Stripe sends a connected account's events.
 */
export function account(overrides: Partial<Stripe.Account> = {}): Stripe.Account {
  return {
    id: 'acct_partner',
    object: 'account',
    business_type: 'individual',
    capabilities: { transfers: 'active' },
    charges_enabled: false,
    country: 'US',
    created: T0,
    default_currency: 'usd',
    details_submitted: true,
    email: 'partner@example.com',
    metadata: {},
    payouts_enabled: true,
    tos_acceptance: { service_agreement: 'full' },
    type: 'express',
    ...overrides,
  };
}

/** A transfer of a payout to a partner's account, as `transfer.*` events carry it. */
export function transfer(overrides: Partial<Stripe.Transfer> = {}): Stripe.Transfer {
  return {
    id: 'tr_payout',
    object: 'transfer',
    amount: 1000,
    amount_reversed: 0,
    balance_transaction: 'txn_transfer',
    created: T0,
    currency: 'usd',
    description: null,
    destination: 'acct_partner',
    livemode: false,
    metadata: {},
    reversals: { object: 'list', data: [], has_more: false, url: '/v1/transfers/tr_payout/reversals' },
    reversed: false,
    source_transaction: null,
    transfer_group: null,
    ...overrides,
  };
}
