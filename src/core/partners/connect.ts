import type Stripe from 'stripe';
import { AttributionError, ConfigurationError } from '../kernel/errors.js';
import type { ResolvedOptions } from '../options/options.js';
import type { PayoutAccount, Storage, StorageOperations } from '../storage/types.js';
import { emit } from '../transaction/hooks.js';
import { countryCode, serviceAgreement } from './cross-border.js';

/** How a partner is paid: by Stripe transfer once their account can receive them, else by CSV export. */
export interface PayoutMethod extends PayoutAccount {
  method: 'stripe' | 'export';
  /** `enabled`: transfers active; `onboarding`: account made, transfers not (yet) active; `none`: no account. */
  state: 'enabled' | 'onboarding' | 'none';
}

export interface OnboardRequest {
  /** Where Stripe sends the partner once they finished (or left) onboarding. */
  returnUrl: string;
  /** Where Stripe sends the partner when the link expired or was used: make a new link there. */
  refreshUrl: string;
  /** The partner's country (ISO code), needed the first time only: Stripe fixes it on the account. */
  country?: string;
}

/** Paying partners through Stripe Connect: their connected accounts. */
export interface Connect {
  /**
   * Creates the partner's connected account (Express, `transfers` capability) through your Stripe
   * client unless they have one, and returns a Stripe-hosted onboarding link for it. Concurrent
   * calls for one partner create one account. Throws `CrossBorderError` when the partner's
   * country cannot receive transfers from yours, before anything is created.
   */
  onboard(partnerId: string, request: OnboardRequest): Promise<{ url: string; stripeAccountId: string }>;
  /** The partner's payout method and its state; undefined for an unknown partner. */
  payoutMethod(partnerId: string): Promise<PayoutMethod | undefined>;
  /** Every partner's payout method, by name. */
  payoutMethods(): Promise<PayoutMethod[]>;
}

export function createConnect(storage: () => Promise<Storage>, options: ResolvedOptions): Connect {
  let platformCountry: Promise<string> | undefined;
  const ourCountry = (stripe: Stripe): Promise<string> => {
    if (options.connect.country) return Promise.resolve(options.connect.country);
    platformCountry ??= stripe.accounts.retrieve(null as unknown as string, {}, { timeout: options.stripeTimeoutMs }).then(
      (account) => {
        if (!account.country) throw new ConfigurationError('Your Stripe account has no country: set connect.country');
        return account.country;
      },
      (error: unknown) => {
        platformCountry = undefined;
        throw error;
      },
    );
    return platformCountry;
  };

  return {
    async onboard(partnerId, request) {
      const stripe = options.stripe;
      if (!stripe) throw new ConfigurationError('connect.onboard needs the stripe option: your Stripe client creates the connected accounts');
      const returnUrl = absoluteUrl(request.returnUrl, 'returnUrl');
      const refreshUrl = absoluteUrl(request.refreshUrl, 'refreshUrl');
      const db = await storage();
      const account = await db.getPayoutAccount(partnerId);
      if (!account) throw new AttributionError(`No partner ${partnerId}`);
      let stripeAccountId = account.stripeAccountId;
      if (!stripeAccountId) {
        if (!request.country) throw new AttributionError(`Partner ${partnerId} has no Stripe account yet: onboarding needs their country (e.g. country: 'US')`);
        const country = countryCode(request.country, 'country');
        const agreement = serviceAgreement(await ourCountry(stripe), country);
        const partner = await db.getPartner(partnerId);
        // The key names the partner and country: concurrent or repeated calls get one account (the
        // database keeps the first stored; Stripe answers a repeat within 24 h with the same one).
        const created = await stripe.accounts.create(
          {
            type: 'express',
            country,
            ...(partner?.email ? { email: partner.email } : {}),
            capabilities: { transfers: { requested: true } },
            ...(agreement === 'recipient' ? { tos_acceptance: { service_agreement: 'recipient' } } : {}),
            metadata: { sa_partner_id: partnerId },
          },
          { idempotencyKey: `sa-partner-account-${partnerId}-${country}`, timeout: options.stripeTimeoutMs },
        );
        stripeAccountId = (await db.linkStripeAccount(partnerId, created.id, country)) ?? created.id;
      }
      const link = await stripe.accountLinks.create(
        { account: stripeAccountId, type: 'account_onboarding', return_url: returnUrl, refresh_url: refreshUrl },
        { timeout: options.stripeTimeoutMs },
      );
      return { url: link.url, stripeAccountId };
    },
    async payoutMethod(partnerId) {
      const account = await (await storage()).getPayoutAccount(partnerId);
      return account && payoutMethod(account);
    },
    async payoutMethods() {
      return (await (await storage()).listPayoutAccounts()).map(payoutMethod);
    },
  };
}

function payoutMethod(account: PayoutAccount): PayoutMethod {
  const state = !account.stripeAccountId ? 'none' : account.transfersStatus === 'active' ? 'enabled' : 'onboarding';
  return { ...account, method: state === 'enabled' ? 'stripe' : 'export', state };
}

function absoluteUrl(value: string, name: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.href;
  } catch {
    // fall through to the error below
  }
  throw new AttributionError(`${name} must be an absolute http(s) URL, not "${value}"`);
}

/**
 * `account.updated`: records whether the partner's account can receive transfers; raises
 * `partner.payouts_enabled` when it just became able to. An account no partner has is ignored
 * (the merchant's other connected accounts).
 */
export async function recordAccountTransfers(tx: StorageOperations, stripeAccountId: string, status: string): Promise<void> {
  const recorded = await tx.recordTransfersStatus(stripeAccountId, status);
  if (recorded && status === 'active' && recorded.before !== 'active') emit('partner.payouts_enabled', { partnerId: recorded.partnerId, stripeAccountId });
}
