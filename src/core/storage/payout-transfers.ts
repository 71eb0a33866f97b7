import { PayoutReversedError } from '../kernel/errors.js';
import { assertPayoutUnchanged, payoutQuery, toPayout, type PaidPayout, type Payout } from './payouts.js';
import type { Db } from './rows.js';

/** A pending payout taken to be paid by transfer, with where the money goes. */
export interface PayoutTransferClaim {
  payout: Payout;
  /** The partner's connected account and its `transfers` capability; null without one. */
  stripeAccountId: string | null;
  transfersStatus: string | null;
  /** Part of the idempotency key of this transfer. */
  version: number;
}

/**
 * Payouts paid through Stripe Connect transfers. The transfer itself is made between
 * transactions; these calls record, each inside a transaction, what comes before and after it.
 */
export interface PayoutTransferStore {
  /**
   * Locks a pending payout and claims it for a transfer: `claimed` with what to transfer; `paid`
   * (or `reversed`, which throws) for one done before; `busy` when another run claimed it after
   * `claimedBefore` (its transfer may be in flight). Throws `PayoutChangedError`, claiming nothing,
   * when its commissions changed since it was made. With `claim: false` it only reads (and locks).
   */
  claimPayoutTransfer(
    id: string,
    request: { now: Date; claimedBefore: Date; claim: boolean },
  ): Promise<{ kind: 'claimed'; claim: PayoutTransferClaim } | { kind: 'paid'; payout: Payout } | { kind: 'busy' } | undefined>;
  /**
   * Records the transfer that paid a payout: the payout and its commissions paid. A payout already
   * paid by this transfer comes back with `alreadyPaid: true`.
   */
  recordPayoutTransfer(id: string, transferId: string, paidAt: Date): Promise<PaidPayout>;
  /** Stores why the transfer did not go through and releases the claim; `refused` moves the idempotency key on. */
  recordPayoutTransferFailure(id: string, error: string, refused: boolean): Promise<Payout>;
  /**
   * A transfer reversed in full: its payout becomes `reversed` and its commissions approved again,
   * outside any payout, for the next one. Undefined for a transfer of no payout; a payout reversed
   * before comes back unchanged with `first: false`.
   */
  reversePayoutTransfer(transferId: string, at: Date): Promise<{ payout: Payout; first: boolean } | undefined>;
  /** Pending payouts of partners whose account can receive transfers, oldest first. */
  listTransferablePayouts(livemode: boolean): Promise<Payout[]>;
}

export function payoutTransferStore(db: Db): PayoutTransferStore {
  const payout = async (id: string) => toPayout(await payoutQuery(db).where('payouts.id', '=', id).executeTakeFirstOrThrow());
  return {
    async claimPayoutTransfer(id, { now, claimedBefore, claim }) {
      const row = await db
        .selectFrom('payouts')
        .select(['status', 'amount', 'commission_count', 'transfer_version', 'transfer_claimed_at', 'partner_id'])
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (!row) return undefined;
      if (row.status === 'reversed') throw new PayoutReversedError(id);
      if (row.status === 'paid') return { kind: 'paid', payout: await payout(id) };
      if (row.transfer_claimed_at && row.transfer_claimed_at > claimedBefore) return { kind: 'busy' };
      await assertPayoutUnchanged(db, id, row);
      if (claim) await db.updateTable('payouts').set({ transfer_claimed_at: now }).where('id', '=', id).execute();
      const partner = await db.selectFrom('partners').select(['stripe_account_id', 'transfers_status']).where('id', '=', row.partner_id).executeTakeFirstOrThrow();
      return {
        kind: 'claimed',
        claim: { payout: await payout(id), stripeAccountId: partner.stripe_account_id, transfersStatus: partner.transfers_status, version: row.transfer_version },
      };
    },

    async recordPayoutTransfer(id, transferId, paidAt) {
      const row = await db.selectFrom('payouts').select(['status', 'transfer_id']).where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
      if (row.status === 'pending') {
        // The money has moved: the payout is paid whatever changed meanwhile (a later refund of one
        // of its commissions is a clawback in the next payout, as after any payment).
        await db.updateTable('payouts').set({ status: 'paid', paid_at: paidAt, transfer_id: transferId, transfer_claimed_at: null, transfer_error: null }).where('id', '=', id).execute();
        await db.updateTable('commissions').set({ status: 'paid', paid_at: paidAt, updated_at: paidAt }).where('payout_id', '=', id).where('status', '=', 'approved').execute();
      }
      return { ...(await payout(id)), alreadyPaid: row.status !== 'pending' };
    },

    async recordPayoutTransferFailure(id, error, refused) {
      await db
        .updateTable('payouts')
        .set((eb) => ({ transfer_error: error, transfer_claimed_at: null, transfer_version: refused ? eb('transfer_version', '+', 1) : eb.ref('transfer_version') }))
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .execute();
      return payout(id);
    },

    async reversePayoutTransfer(transferId, at) {
      const row = await db.selectFrom('payouts').select(['id', 'status']).where('transfer_id', '=', transferId).forUpdate().executeTakeFirst();
      if (!row) return undefined;
      if (row.status === 'paid') {
        await db.updateTable('payouts').set({ status: 'reversed', reversed_at: at }).where('id', '=', row.id).execute();
        await db
          .updateTable('commissions')
          .set({ status: 'approved', paid_at: null, payout_id: null, updated_at: at })
          .where('payout_id', '=', row.id)
          .where('status', '=', 'paid')
          .execute();
      }
      return { payout: await payout(row.id), first: row.status === 'paid' };
    },

    async listTransferablePayouts(livemode) {
      const rows = await payoutQuery(db)
        .where('payouts.status', '=', 'pending')
        .where('payouts.livemode', '=', livemode)
        .where('partners.transfers_status', '=', 'active')
        .where('partners.stripe_account_id', 'is not', null)
        .execute();
      return rows.map(toPayout);
    },
  };
}
