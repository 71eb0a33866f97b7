import type { Attribution } from '../core/attribution.js';
import { money } from './output.js';

/**
 * Why `payouts create` made none, from the commissions it looked at: none approved and unpaid, or
 * totals below the minimum (the largest named), and what is still in its hold period.
 */
export async function whyNoPayouts(
  attribution: Attribution,
  request: { minimumAmount: number; livemode: boolean; currency?: string; programId?: string },
): Promise<string> {
  const [commissions, partners] = await Promise.all([
    attribution.commissions.list(request.programId ? { programId: request.programId } : {}),
    attribution.partners.list(),
  ]);
  const matching = commissions.filter((c) => c.livemode === request.livemode && (!request.currency || c.currency === request.currency));
  const totals = new Map<string, { partnerId: string; currency: string; amount: number }>();
  for (const commission of matching) {
    if (commission.status !== 'approved' || commission.payoutId !== null) continue;
    const key = `${commission.partnerId} ${commission.programId} ${commission.currency}`;
    const total = totals.get(key) ?? { partnerId: commission.partnerId, currency: commission.currency, amount: 0 };
    total.amount += commission.amount;
    totals.set(key, total);
  }
  const pending = matching.filter((c) => c.status === 'pending' && c.holdUntil !== null).sort((a, b) => a.holdUntil!.getTime() - b.holdUntil!.getTime());
  const inHold = pending.length === 0 ? '' : ` ${pending.length} commission${pending.length === 1 ? ' is' : 's are'} still in the hold period (the first is due ${pending[0]!.holdUntil!.toISOString().slice(0, 10)}).`;
  const mode = request.livemode ? '' : ' test-mode';
  if (totals.size === 0) return `No payouts: no approved${mode} commissions are waiting to be paid.${inHold}`;
  const largest = [...totals.values()].sort((a, b) => b.amount - a.amount)[0]!;
  const name = partners.find((p) => p.id === largest.partnerId)?.name ?? largest.partnerId;
  const positive = largest.amount > 0;
  return (
    `No payouts: ${totals.size} partner total${totals.size === 1 ? ' is' : 's are'} below the minimum of ${money(Math.max(request.minimumAmount, 1), largest.currency)} ` +
    `(the largest: ${name}, ${money(largest.amount, largest.currency)}${positive ? '' : ', clawbacks exceed what is owed'}); ` +
    `they are paid once they reach it, or lower --minimum.${inHold}`
  );
}
