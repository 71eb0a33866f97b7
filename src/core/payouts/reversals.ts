import type { ResolvedOptions } from '../options/options.js';
import type { StorageOperations } from '../storage/types.js';
import { AttributionError } from '../kernel/errors.js';

/**
 * A payout's transfer reversed. In full: the payout becomes `reversed` and its commissions approved
 * again, outside any payout, so the next payout pays them (the merchant took the money back; the
 * partner is still owed it until the merchant voids them). In part: nothing is guessed about which
 * commissions the money was for; the payout stays paid and `onError` tells the merchant, who
 * voids or adjusts commissions by hand. A transfer the library did not make changes nothing.
 */
export async function reverseTransfer(
  tx: StorageOperations,
  options: ResolvedOptions,
  reversal: { transferId: string; payoutId: string | undefined; amount: number; amountReversed: number; at: Date },
): Promise<void> {
  if (reversal.amountReversed >= reversal.amount) {
    await tx.reversePayoutTransfer(reversal.transferId, reversal.at);
    return;
  }
  if (reversal.payoutId) {
    options.onError(
      new AttributionError(`Transfer ${reversal.transferId} of payout ${reversal.payoutId} was reversed in part (${reversal.amountReversed} of ${reversal.amount}): settle its commissions by hand`),
      'recording a partial transfer reversal',
    );
  }
}
