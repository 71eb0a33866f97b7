import type Stripe from 'stripe';
import { AttributionError, ConfigurationError, PayoutTransferError } from '../kernel/errors.js';
import type { ResolvedOptions } from '../options/options.js';
import type { PaidPayout, Payout, PayoutTransferClaim, Storage } from '../storage/types.js';
import { emit } from '../transaction/hooks.js';
import type { TransactionRunner } from '../transaction/run.js';

/**
 * A claim older than this is taken to be a run that died mid-transfer and is taken over (with the
 * same idempotency key, so Stripe answers with the transfer it made, if any). Far longer than a
 * transfer call may take (`stripeTimeoutMs`), far shorter than Stripe keeps idempotency keys (24 h).
 */
const CLAIM_MS = 5 * 60_000;

/** What `payouts.run` did: the payouts it paid, and those whose transfer did not go through (with why). */
export interface PayoutRunResult {
  created: Payout[];
  paid: Payout[];
  failed: Array<{ payout: Payout; error: string }>;
}

/** The idempotency key of a payout's transfer: the same for every try of one version, so a retry never pays twice. */
export function transferIdempotencyKey(payoutId: string, version: number): string {
  return `sa-payout-${payoutId}-v${version}`;
}

/**
 * Pays a pending payout by one Stripe transfer to the partner's connected account:
 *
 * 1. one transaction claims it (committed before any money moves): it is still pending, unchanged,
 *    not being paid by another run, and its partner's account can receive transfers;
 * 2. `transfers.create`, with no transaction open, keyed by the payout and its version;
 * 3. one transaction records the transfer and marks the payout and its commissions paid.
 *
 * A crash or failed response between 2 and 3 leaves the claim (or an error): the next try sends the
 * same idempotency key and Stripe answers with the transfer it already made. A refusal moves the
 * version on, so the next try (more balance, an enabled account) is a new request.
 */
export async function payByTransfer(storage: Storage, options: ResolvedOptions, transactions: TransactionRunner, id: string): Promise<PaidPayout | undefined> {
  const stripe = connectClient(options);
  const now = options.clock();
  const claimed = await transactions.run(storage, async (tx) => {
    const found = await tx.claimPayoutTransfer(id, { now, claimedBefore: new Date(now.getTime() - CLAIM_MS), claim: true });
    if (found?.kind !== 'claimed') return found;
    const refusal = notTransferable(found.claim);
    if (!refusal) return found;
    // Refused before asking Stripe: stored (and raised) like Stripe's own refusal, nothing sent.
    const payout = await tx.recordPayoutTransferFailure(id, refusal, false);
    emit('payout.failed', { payout, error: refusal, refused: true });
    return { kind: 'refused' as const, error: refusal };
  });
  if (!claimed) return undefined;
  if (claimed.kind === 'paid') return { ...claimed.payout, alreadyPaid: true };
  if (claimed.kind === 'busy') throw new PayoutTransferError(id, false, 'another run is transferring it now; try again in a few minutes');
  if (claimed.kind === 'refused') throw new PayoutTransferError(id, true, claimed.error);

  const { payout, stripeAccountId, version } = claimed.claim;
  let transfer: Stripe.Transfer;
  try {
    transfer = await stripe.transfers.create(
      {
        amount: payout.amount,
        currency: payout.currency,
        destination: stripeAccountId!,
        transfer_group: payout.id,
        description: `Partner payout ${payout.id}`,
        metadata: { sa_payout_id: payout.id, sa_partner_id: payout.partnerId, sa_program_id: payout.programId },
      },
      { idempotencyKey: transferIdempotencyKey(payout.id, version), timeout: options.stripeTimeoutMs },
    );
  } catch (error) {
    const refused = isRefusal(error);
    const message = error instanceof Error ? error.message : String(error);
    await transactions.run(storage, async (tx) => {
      const failed = await tx.recordPayoutTransferFailure(id, message, refused);
      emit('payout.failed', { payout: failed, error: message, refused });
    });
    throw new PayoutTransferError(id, refused, message, { cause: error });
  }
  return transactions.run(storage, async (tx) => {
    const paid = await tx.recordPayoutTransfer(id, transfer.id, options.clock());
    if (!paid.alreadyPaid) emit('payout.paid', { payout: paid });
    return paid;
  });
}

/**
 * Makes the payouts due (`minimum` and above) of partners whose account can receive transfers,
 * then pays every such pending payout by transfer. Several instances may run it at once: payouts
 * are made with row claims, and each transfer is claimed in the database before it is sent.
 */
export async function runPayouts(
  storage: Storage,
  options: ResolvedOptions,
  transactions: TransactionRunner,
  create: (request: { minimumAmount: number; livemode: boolean; transfersOnly: true }) => Promise<Payout[]>,
  request: { minimum?: number; livemode?: boolean },
): Promise<PayoutRunResult> {
  connectClient(options);
  const livemode = request.livemode ?? options.livemode;
  const created = await create({ minimumAmount: request.minimum ?? 0, livemode, transfersOnly: true });
  const result: PayoutRunResult = { created, paid: [], failed: [] };
  for (const payout of await storage.listTransferablePayouts(livemode)) {
    try {
      const paid = await payByTransfer(storage, options, transactions, payout.id);
      if (paid && !paid.alreadyPaid) result.paid.push(paid);
    } catch (error) {
      if (!(error instanceof AttributionError)) throw error;
      // Refused, unknown, changed or being paid by another run: the payout stays for the next run.
      result.failed.push({ payout, error: error.message });
    }
  }
  return result;
}

function connectClient(options: ResolvedOptions): Stripe {
  if (!options.stripe) throw new ConfigurationError('Paying partners through Stripe Connect needs the stripe option: your Stripe client makes the transfers');
  return options.stripe;
}

function notTransferable(claim: PayoutTransferClaim): string | null {
  if (!claim.stripeAccountId) return 'the partner has no connected Stripe account: send them through onboarding (connect.onboard), or pay by CSV export';
  if (claim.transfersStatus !== 'active') return `the partner's Stripe account ${claim.stripeAccountId} cannot receive transfers yet (transfers ${claim.transfersStatus ?? 'not enabled'}): they must finish onboarding`;
  return null;
}

/**
 * Whether Stripe answered no for good: a 4xx it keeps under the idempotency key (so a retry needs
 * a new one) and nothing was made. A conflict (409: the same key in flight), a rate limit, a 5xx or
 * a cut connection leave the outcome unknown.
 */
function isRefusal(error: unknown): boolean {
  const status = (error as { statusCode?: number } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 409 && status !== 429;
}
