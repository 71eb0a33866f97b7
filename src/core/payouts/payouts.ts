import { assertAmount } from '../kernel/money.js';
import type { ResolvedOptions } from '../options/options.js';
import type { PaidPayout, Payout, Storage } from '../storage/types.js';
import { emit } from '../transaction/hooks.js';
import type { TransactionRunner } from '../transaction/run.js';
import { payByTransfer, runPayouts, type PayoutRunResult } from './transfers.js';

export interface Payouts {
  /**
   * Groups approved commissions (and clawbacks, netted) into one payout per partner, program and
   * currency, live data only unless `livemode: false`, for totals of at least `minimumAmount`;
   * only one program's with `programId`.
   */
  create(request?: { minimumAmount?: number; currency?: string; programId?: string; livemode?: boolean }): Promise<Payout[]>;
  list(filter?: { status?: Payout['status']; livemode?: boolean; partnerId?: string; programId?: string }): Promise<Payout[]>;
  /**
   * Pays a pending payout by one Stripe transfer to the partner's connected account (`connect`),
   * made outside any database transaction with an idempotency key derived from the payout, so a
   * crash or a retry never pays twice. A payout paid before comes back with `alreadyPaid: true`.
   * Throws `PayoutTransferError` when the transfer did not go through (the payout stays payable,
   * its `transferError` stored), `PayoutChangedError` as `markPaid` does. `undefined` for an unknown id.
   */
  pay(id: string): Promise<PaidPayout | undefined>;
  /**
   * For a cron job: makes the payouts of partners whose connected account can receive transfers
   * (totals of at least `minimum`, live data unless `livemode: false`) and pays every such pending
   * payout by transfer. Safe when several instances run it at once; failures are reported in the
   * result (and `payout.failed`), never thrown, and retried by the next run.
   */
  run(request?: { minimum?: number; livemode?: boolean }): Promise<PayoutRunResult>;
  /**
   * Marks the payout and its commissions paid, once you have sent the money. Of concurrent calls one
   * pays it; a payout paid before comes back unchanged with `alreadyPaid: true` (and its `paidAt`).
   * Throws `PayoutChangedError`, marking nothing, when its commissions changed since it was created
   * (a refund, dispute or void): cancel it and create payouts again. `undefined` for an unknown id.
   */
  markPaid(id: string, paidAt?: Date): Promise<PaidPayout | undefined>;
  /**
   * Cancels a pending payout: its commissions go back to the next `create`, where they can also be
   * voided or adjusted again. `false` for an unknown id; a paid payout throws (it never changes).
   */
  cancel(id: string): Promise<boolean>;
  /** The payouts as CSV for your bank or payout provider (pending live payouts by default). */
  csv(filter?: { status?: 'pending' | 'paid'; livemode?: boolean; programId?: string }): Promise<string>;
}

export function createPayouts(storage: () => Promise<Storage>, options: ResolvedOptions, transactions: TransactionRunner): Payouts {
  const list: Payouts['list'] = async (filter = {}) => (await storage()).listPayouts(filter);
  const create = async (request: Parameters<Storage['createPayouts']>[0]) =>
    transactions.run(await storage(), async (tx) => {
      const created = await tx.createPayouts(request);
      for (const payout of created) emit('payout.created', { payout });
      return created;
    });
  return {
    create: async (request = {}) => {
      const minimumAmount = assertAmount(request.minimumAmount ?? 0, 'minimumAmount');
      const livemode = request.livemode ?? true;
      return create({ minimumAmount, livemode, ...(request.currency ? { currency: request.currency } : {}), ...(request.programId ? { programId: request.programId } : {}) });
    },
    list,
    markPaid: async (id, paidAt = options.clock()) =>
      transactions.run(await storage(), async (tx) => {
        const paid = await tx.markPayoutPaid(id, paidAt);
        if (paid && !paid.alreadyPaid) {
          const { alreadyPaid: _, ...payout } = paid;
          emit('payout.paid', { payout });
        }
        return paid;
      }),
    pay: async (id) => payByTransfer(await storage(), options, transactions, id),
    run: async (request = {}) => {
      const minimum = assertAmount(request.minimum ?? 0, 'minimum');
      return runPayouts(await storage(), options, transactions, create, { ...request, minimum });
    },
    cancel: async (id) => transactions.run(await storage(), (tx) => tx.cancelPayout(id)),
    csv: async (filter = {}) => payoutsCsv(await list({ status: 'pending', livemode: true, ...filter })),
  };
}

/** Currencies Stripe counts in whole units (no minor unit). */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);

function decimal(amount: number, currency: string): string {
  if (ZERO_DECIMAL.has(currency)) return String(amount);
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

function field(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function payoutsCsv(payouts: readonly Payout[]): string {
  const header = ['payout_id', 'partner_id', 'partner_name', 'partner_email', 'program_id', 'currency', 'amount_minor', 'amount', 'livemode', 'created_at'];
  const rows = payouts.map((payout) =>
    [payout.id, payout.partnerId, payout.partnerName, payout.partnerEmail ?? '', payout.programId, payout.currency, String(payout.amount), decimal(payout.amount, payout.currency), String(payout.livemode), payout.createdAt.toISOString()]
      .map(field)
      .join(','),
  );
  return [header.join(','), ...rows].join('\n') + '\n';
}
