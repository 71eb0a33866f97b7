import type { Db } from './rows.js';

/** A partner's Stripe connected account, as the ledger knows it. */
export interface PayoutAccount {
  partnerId: string;
  partnerName: string;
  /** Null until the partner starts onboarding. */
  stripeAccountId: string | null;
  country: string | null;
  /** The account's `transfers` capability (`active`, `pending`, `inactive`), null before `account.updated` said. */
  transfersStatus: string | null;
}

/** Partners' connected accounts: one account per partner, one partner per account (unique keys). */
export interface PayoutAccountStore {
  getPayoutAccount(partnerId: string): Promise<PayoutAccount | undefined>;
  listPayoutAccounts(): Promise<PayoutAccount[]>;
  /**
   * Gives the partner its account unless it has one: the account it ends up with (the one a
   * concurrent onboarding stored first, if any). One statement.
   */
  linkStripeAccount(partnerId: string, stripeAccountId: string, country: string): Promise<string | undefined>;
  /**
   * Records the `transfers` capability of an account; the partner and the status it had before,
   * or undefined for an account no partner has. Locks the partner's row so concurrent deliveries
   * of `account.updated` take turns.
   */
  recordTransfersStatus(stripeAccountId: string, status: string): Promise<{ partnerId: string; before: string | null } | undefined>;
}

export function payoutAccountStore(db: Db): PayoutAccountStore {
  const query = () =>
    db.selectFrom('partners').select(['id as partnerId', 'name as partnerName', 'stripe_account_id as stripeAccountId', 'stripe_account_country as country', 'transfers_status as transfersStatus']);
  return {
    getPayoutAccount: (partnerId) => query().where('id', '=', partnerId).executeTakeFirst(),
    listPayoutAccounts: () => query().orderBy('name').orderBy('id').execute(),

    async linkStripeAccount(partnerId, stripeAccountId, country) {
      await db
        .updateTable('partners')
        .set({ stripe_account_id: stripeAccountId, stripe_account_country: country })
        .where('id', '=', partnerId)
        .where('stripe_account_id', 'is', null)
        .execute();
      return (await db.selectFrom('partners').select('stripe_account_id').where('id', '=', partnerId).executeTakeFirst())?.stripe_account_id ?? undefined;
    },

    async recordTransfersStatus(stripeAccountId, status) {
      const row = await db.selectFrom('partners').select(['id', 'transfers_status']).where('stripe_account_id', '=', stripeAccountId).forUpdate().executeTakeFirst();
      if (!row) return undefined;
      await db.updateTable('partners').set({ transfers_status: status }).where('id', '=', row.id).execute();
      return { partnerId: row.id, before: row.transfers_status };
    },
  };
}
