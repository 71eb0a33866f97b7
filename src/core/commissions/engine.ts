import type { ResolvedOptions, ResolvedProgram } from '../options/options.js';
import type Stripe from 'stripe';
import type { Commission, CommissionStatus, Customer, Milestone, NewSaleLine, Partner, PartnerTerms, Sale, StorageOperations } from '../storage/types.js';
import { splitProRata } from '../kernel/money.js';
import { checkoutLineItems } from '../stripe/checkout-line-items.js';
import { idOf } from '../stripe/expandable.js';
import { emit } from '../transaction/hooks.js';
import { fraudFlags } from '../fraud/rules.js';
import { ConfigurationError } from '../kernel/errors.js';
import type { Lookup } from '../transaction/lookups.js';
import { commissionNumerator, commissionOnRemaining, convertedCommissionOnRemaining, inRewardWindow, rewardTerms, type RewardTerms, type SaleReward } from './rewards.js';

const DAY_MS = 86_400_000;

/**
 * What the caller of `commissionSale` already read or wrote in this transaction (the attribution's
 * evidence, the sale it just inserted), so none of it is read again. Each part is optional: what is
 * absent is read.
 */
export interface KnownOfSale {
  /** The sale's customer, as attributed. */
  customer?: Customer;
  /** The sale's partner and their terms in the sale's program (used only with `customer`). */
  partner?: { partner: Partner; terms: PartnerTerms };
  /** When the sale's subscription ended (null: it has not, or the sale has none). */
  subscriptionEndedAt?: Date | null;
  /** Set when the sale was inserted in this transaction, with these lines: nothing is recorded against it yet. */
  inserted?: { lines: readonly NewSaleLine[] };
}

/**
 * The commission a newly recorded (or newly attributed) sale earns its partner, in the same
 * transaction, on the terms of the sale's program: pending until the hold period after the sale
 * ends. Nothing when the sale has no partner, its program no reward for the partner, falls outside
 * the customer's reward window, or belongs to a churned subscription; a voided row with its reason
 * for a self-referral or a blocked customer, so the partner sees why; held for review with its
 * flags when a fraud rule flags it.
 */
export async function commissionSale(tx: StorageOperations, options: ResolvedOptions, lookup: Lookup, sale: Sale, known: KnownOfSale = {}): Promise<void> {
  const program = options.programs.get(sale.programId);
  if (!sale.partnerId || !sale.customerId || !program) return;
  const given = known.partner?.partner.id === sale.partnerId && known.customer?.id === sale.customerId ? known.partner : undefined;
  // The partner's own reward, else their group's, else the program's.
  const terms = given?.terms ?? (await tx.getPartnerTerms(sale.partnerId, program.id));
  const configured = ((terms.reward ?? terms.groupReward) as SaleReward | null) ?? program.reward;
  if (!configured) return;
  const [customer, partner] = given ? [known.customer, given.partner] : await Promise.all([tx.findCustomer({ id: sale.customerId }), tx.getPartner(sale.partnerId)]);
  if (!customer || !partner) return;
  const base = { livemode: sale.livemode, partnerId: partner.id, customerId: customer.id, saleId: sale.id, kind: 'sale' as const, currency: sale.currency };

  const selfReferral = (partner.email !== null && customer.email === partner.email) || (options.isSelfReferral?.({ partner, customer }) ?? false);
  if (selfReferral) await tx.blockCustomer(customer.id, 'self_referral');
  const blocked = selfReferral ? 'self_referral' : customer.blockedReason;
  if (blocked) {
    const { record, created } = await tx.insertCommission({ ...base, status: 'voided', amount: 0, reason: blocked, earnedAt: sale.occurredAt });
    if (created) emit('commission.voided', { commission: record });
    return;
  }

  const locked = await tx.lockRewardTerms<RewardTerms>(customer.id, { terms: rewardTerms(configured), saleId: sale.id, at: sale.occurredAt });
  if (locked.replaced) await rederiveRewardWindow(tx, customer.id, locked);
  if (!inRewardWindow(locked.terms, locked, sale)) return;
  const endedAt = known.subscriptionEndedAt !== undefined ? known.subscriptionEndedAt : await subscriptionEnd(tx, sale);
  if (endedAt && sale.occurredAt.getTime() > endedAt.getTime()) return;

  const stored = known.inserted ? known.inserted.lines : await tx.getSaleLines(sale.id);
  const fetched = stored.length === 0 && Object.keys(locked.terms.products).length > 0 ? await checkoutLines(tx, options, lookup, sale) : [];
  const lines = stored.length ? stored : fetched.length ? fetched : [{ stripeProductId: null, amount: sale.amount }];
  const numerator = commissionNumerator(locked.terms, lines, { proration: sale.billingReason === 'subscription_update' });
  if (numerator === 0n) return;
  const full = commissionOnRemaining(numerator, sale.amount, sale.amount);
  const converted = await convertCommission(options, program, lookup, full, sale);
  // A flagged commission is held for the merchant's review, and pending once cleared.
  const flags = await fraudFlags(tx, options.fraud, sale, partner, customer);
  const { record, created } = await tx.insertCommission({
    ...base,
    ...(converted ? { currency: program.currency, conversion: { sourceAmount: full, convertedAmount: converted.amount } } : {}),
    ...(flags.length ? { status: 'held', flags, statusBeforeHold: 'pending' } : { status: 'pending' }),
    amount: converted ? converted.amount : full,
    holdUntil: new Date(sale.occurredAt.getTime() + program.holdDays * DAY_MS),
    exactNumerator: numerator,
    basisAmount: sale.amount,
    earnedAt: sale.occurredAt,
  });
  if (!created) return;
  emit('commission.created', { commission: record });
  if (flags.length) emit('commission.flagged', { commission: record, flags });
  // A refund or dispute recorded before the commission existed applies now (none can be, against
  // a sale inserted in this transaction: events waiting for it are applied after its commission).
  if (!known.inserted) await reconcileCommission(tx, sale.id, record);
}

/** Why a sale's commission went when an earlier first sale of the customer arrived late. */
export const EARLIER_FIRST_SALE = 'earlier_first_sale';

/**
 * The customer's first sale moved to an earlier one delivered late (DESIGN §5): every other sale
 * of theirs now outside the reward window (`'once'`: every one; months: those paid after the
 * window that now ends sooner) loses its commission through the ledger, as a refund would —
 * voided while unpaid, clawed back once paid — so the ledger equals in-order delivery. No sale can
 * enter the window: it only starts, and so ends, earlier. The new first sale is credited by its caller.
 */
async function rederiveRewardWindow(tx: StorageOperations, customerId: string, anchor: { terms: RewardTerms; saleId: string; at: Date }): Promise<void> {
  for (const { commission, saleOccurredAt } of await tx.listCustomerSaleCommissions(customerId)) {
    const saleId = commission.saleId!;
    if (commission.exactNumerator === 0n || inRewardWindow(anchor.terms, anchor, { id: saleId, occurredAt: saleOccurredAt })) continue;
    // The sale's row before its commission's, the order a refund of that sale takes them in.
    const sale = await tx.lockSale(saleId);
    if (sale) await reconcileLockedSale(tx, sale, await tx.endCommissionReward(commission.id), EARLIER_FIRST_SALE);
  }
}

/**
 * Checkout line items never come in webhooks: fetched through the merchant's Stripe client, only
 * when a product-specific rate needs them, and kept as the sale's lines (shares pro rata to each
 * line's untaxed amount, summing to the sale).
 */
async function checkoutLines(tx: StorageOperations, options: ResolvedOptions, lookup: Lookup, sale: Sale): Promise<NewSaleLine[]> {
  const sessionId = sale.stripeCheckoutSessionId;
  if (!sessionId) return [];
  const items = await checkoutLineItems(options, lookup, sessionId);
  const shares = splitProRata(sale.amount, items.map((item) => item.amount_total - item.amount_tax));
  const lines = items.map((item, index) => ({
    stripeProductId: idOf(item.price?.product ?? null),
    stripePriceId: item.price?.id ?? null,
    description: item.description ?? null,
    quantity: item.quantity,
    amount: shares[index]!,
  }));
  await tx.addSaleLines(sale.id, lines);
  return lines;
}

async function convertCommission(options: ResolvedOptions, program: ResolvedProgram, lookup: Lookup, amount: number, sale: Sale): Promise<{ amount: number } | undefined> {
  const to = program.currency;
  const convert = options.convert;
  if (!convert || !to || to === sale.currency) return undefined;
  // The merchant's converter may ask an FX service: like a Stripe look-up, never inside the transaction.
  const at = sale.occurredAt;
  const converted = await lookup(`convert:${amount}:${sale.currency}:${to}:${at.toISOString()}`, async () => convert({ amount, from: sale.currency, to, at }));
  if (!Number.isSafeInteger(converted) || converted < 0) {
    throw new ConfigurationError(`convert must return a non-negative integer of minor units, got ${converted} for ${amount} ${sale.currency} → ${to}`);
  }
  return { amount: converted };
}

/** When the sale's subscription ended, if it has: a sale paid after a churn earns nothing. */
async function subscriptionEnd(tx: StorageOperations, sale: Sale): Promise<Date | null> {
  if (!sale.stripeSubscriptionId) return null;
  return (await tx.getSubscription(sale.stripeSubscriptionId))?.endedAt ?? null;
}

/**
 * Brings a sale's commission in line with what remains of the sale after refunds, credit notes
 * and lost disputes: the target is the exact commission on what remains, rounded once, plus the
 * merchant's own changes while anything remains (`manualAmount`), and the change is that target
 * minus what is already recorded — so any number of partial refunds adds up to the cent. Before
 * payout the commission itself is adjusted (voided when nothing remains); after payout the
 * difference is a clawback, approved at once and netted in the next payout. An open dispute holds
 * the commission; winning it releases it to where it was.
 */
export async function reconcileCommission(tx: StorageOperations, saleId: string, known?: Commission): Promise<void> {
  const sale = await tx.lockSale(saleId);
  if (sale) await reconcileLockedSale(tx, sale, known);
}

/**
 * `reconcileCommission` once the caller holds the sale's row lock. `because` names the cause when
 * it is not the sale's own refunds or disputes (a moved reward window).
 */
async function reconcileLockedSale(tx: StorageOperations, sale: Sale, known?: Commission, because?: string): Promise<void> {
  if (!sale.partnerId) return;
  const commission = known ?? (await tx.findSaleCommission(sale.id, sale.partnerId));
  if (!commission || (commission.status === 'voided' && commission.exactNumerator === 0n)) return;

  const disputes = await tx.disputeTotals(sale.id);
  const remaining = sale.amount - sale.amountRefunded - sale.amountCredited - disputes.lost;
  // Converted commissions keep the rate of their creation.
  const exact = commission.conversion
    ? convertedCommissionOnRemaining(commission.exactNumerator, remaining, commission.basisAmount, commission.conversion)
    : commissionOnRemaining(commission.exactNumerator, remaining, commission.basisAmount);
  // The merchant's own changes stay while the sale earns anything: a partial refund takes its share
  // of the sale, not the bonus or the goodwill deduction made by hand. A sale refunded in full, or
  // outside its reward window, earns nothing, a bonus on it included; never below nothing.
  const earns = remaining > 0 && commission.exactNumerator !== 0n;
  const target = earns ? Math.max(0, exact + commission.manualAmount) : 0;
  const delta = target - (await tx.recordedForSale(sale.id));
  const reason = because ?? (disputes.lost > 0 ? 'dispute_lost' : sale.amountCredited > 0 && sale.amountRefunded === 0 ? 'credited' : 'refunded');

  if (commission.status === 'paid') {
    if (delta !== 0) {
      const { record } = await tx.insertCommission({
        livemode: sale.livemode,
        partnerId: commission.partnerId,
        customerId: commission.customerId,
        saleId: sale.id,
        kind: 'clawback',
        status: 'approved',
        amount: delta,
        currency: commission.currency,
        reason,
        approvedAt: new Date(),
      });
      emit('commission.created', { commission: record });
      if (delta < 0) emit('commission.clawed_back', { commission: record });
    }
    return;
  }

  const status: CommissionStatus | undefined =
    target === 0 ? (commission.status === 'voided' ? undefined : 'voided')
    : disputes.open > 0 && commission.status !== 'held' ? 'held'
    // A commission held for fraud review stays held until the merchant decides, whatever its disputes do.
    : disputes.open === 0 && commission.status === 'held' && commission.review !== 'pending' ? (commission.statusBeforeHold ?? 'pending')
    : commission.status === 'voided' ? 'pending'
    : undefined;
  if (delta === 0 && status === undefined) return;
  const adjusted = await tx.adjustCommission(commission.id, {
    delta,
    reason,
    ...(status ? { status } : {}),
    ...(status === 'held' ? { statusBeforeHold: commission.status } : status ? { statusBeforeHold: null } : {}),
  });
  if (status === 'voided') emit('commission.voided', { commission: adjusted });
}

/** The flat lead reward of the customer's program, once per customer and partner, when the customer is first attributed. */
export async function commissionLead(tx: StorageOperations, options: ResolvedOptions, customer: Customer, at: Date): Promise<void> {
  await commissionLeadSeats(tx, options, customer, at, 1);
}

/**
 * `leadReward.perTrialSeat`: a trial of `seats` seats pays the lead reward for each. The first seat
 * is the customer's own lead commission; seat k > 1 is one of its own, keyed by customer and seat
 * number, so a repeated or concurrent event (or a second, smaller trial) pays no seat twice.
 */
export async function commissionTrialSeats(tx: StorageOperations, options: ResolvedOptions, customer: Customer, at: Date, seats: number): Promise<void> {
  if (options.programs.get(customer.programId)?.leadRewardPerTrialSeat) await commissionLeadSeats(tx, options, customer, at, seats);
}

async function commissionLeadSeats(tx: StorageOperations, options: ResolvedOptions, customer: Customer, at: Date, seats: number): Promise<void> {
  const program = options.programs.get(customer.programId);
  const amount = program?.leadReward;
  if (!program || !amount || !customer.partnerId || customer.blockedReason) return;
  for (let seat = 1; seat <= seats; seat++) {
    const { record, created } = await tx.insertCommission({
      livemode: customer.livemode,
      partnerId: customer.partnerId,
      customerId: customer.id,
      kind: 'lead',
      ...(seat > 1 ? { onceKey: `trial_seat:${customer.id}:${seat}` } : {}),
      status: 'pending',
      amount,
      currency: program.currency,
      holdUntil: new Date(at.getTime() + program.holdDays * DAY_MS),
      earnedAt: at,
    });
    if (created) emit('commission.created', { commission: record });
  }
}

/**
 * The reward for a milestone of an attributed customer, by the customer's program, in the same
 * transaction and through the same lifecycle as a sale's (pending for the hold period, then approved, paid or voided): flat in
 * the program's currency, or a percent of the event's value in its currency, rounded half up. A
 * reward paid `once` meets the customer's earlier one on a unique key, so only the first event of
 * that name pays, even when two arrive at once. A blocked customer's event earns a voided row.
 */
export async function commissionEvent(tx: StorageOperations, options: ResolvedOptions, milestone: Milestone, customer: Customer): Promise<Commission | null> {
  const program = options.programs.get(milestone.programId);
  const reward = program?.eventRewards[milestone.name];
  if (!program || !reward || !milestone.partnerId) return null;
  const base = {
    livemode: milestone.livemode,
    partnerId: milestone.partnerId,
    customerId: customer.id,
    eventId: milestone.id,
    kind: 'event' as const,
    earnedAt: milestone.occurredAt,
    ...(reward.once ? { onceKey: `${customer.id}:${milestone.name}` } : {}),
  };
  if (customer.blockedReason) {
    const { record, created } = await tx.insertCommission({ ...base, status: 'voided', amount: 0, currency: program.currency || milestone.currency!, reason: customer.blockedReason });
    if (created) emit('commission.voided', { commission: record });
    return created ? record : null;
  }
  const rate = reward.rate;
  const percent = 'bp' in rate;
  const value = milestone.value ?? 0;
  const numerator = percent ? BigInt(value) * BigInt(rate.bp) : BigInt(rate.flat) * 10_000n;
  const amount = percent ? commissionOnRemaining(numerator, value, value) : rate.flat;
  if (amount === 0) return null;
  const { record, created } = await tx.insertCommission({
    ...base,
    status: 'pending',
    amount,
    currency: percent ? milestone.currency! : program.currency,
    holdUntil: new Date(milestone.occurredAt.getTime() + program.holdDays * DAY_MS),
    exactNumerator: numerator,
    basisAmount: percent ? value : 0,
  });
  if (!created) return null;
  emit('commission.created', { commission: record });
  return record;
}
