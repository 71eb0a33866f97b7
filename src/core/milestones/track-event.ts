import { currentContext } from '../clicks/context.js';
import { AttributionError } from '../kernel/errors.js';
import { assertAmount } from '../kernel/money.js';
import type { ResolvedOptions } from '../options/options.js';
import { attributeBuyer } from '../customers/attribute.js';
import { commissionEvent } from '../commissions/engine.js';
import { configuredProgram } from '../programs/programs.js';
import { creditLaterSales } from '../sales/record-sale.js';
import { transactionWithLookups } from '../transaction/lookups.js';
import type { TransactionRunner } from '../transaction/run.js';
import type { Commission, Milestone, Storage } from '../storage/types.js';

export interface TrackEventInput {
  /** Your id for the user (as given to `trackLead`): whose milestone it is. */
  customerExternalId: string;
  /** What it is worth (a deal value), in minor units of `currency`: the base of a percent reward. */
  value?: number;
  /** Lower- or upper-case ISO code of `value`. Default: the program's currency. */
  currency?: string;
  /** Your key for this occurrence (e.g. the demo's booking id): a repeat with the same key changes nothing. */
  idempotencyKey: string;
  /** When it happened. Default: now (the clock). */
  at?: Date;
  /** Default: the current request's click (from the middleware's context); none in a job. */
  clickId?: string | null;
  /** Default: the instance's `livemode`. */
  livemode?: boolean;
  /**
   * The program it belongs to. Default: the click's program, else the customer's (the one they
   * were attributed in first), else the default program.
   */
  programId?: string;
}

export interface TrackEventResult {
  event: Milestone;
  /** False when the idempotency key was already recorded: the stored event is returned, nothing else happens. */
  created: boolean;
  /** The commission this call created, if the program rewards the event and the customer has a partner. */
  commission: Commission | null;
}

/**
 * Records a custom milestone of a customer, attributed as a sale would be (DESIGN.md §3): to the
 * customer's partner in its program, else to a live click (the request's), and rewarded by that
 * program's `eventRewards` in the same transaction. Idempotent on the key: the milestone row is unique on it, so of two
 * concurrent calls one records and rewards it and the other gets it back.
 */
export async function trackEvent(options: ResolvedOptions, transactions: TransactionRunner, storage: Storage, name: string, input: TrackEventInput): Promise<TrackEventResult> {
  if (!name) throw new AttributionError('trackEvent needs the event name, e.g. "demo_booked"');
  if (!input.customerExternalId) throw new AttributionError('trackEvent needs customerExternalId (your id for the user)');
  if (!input.idempotencyKey) throw new AttributionError('trackEvent needs idempotencyKey: it makes a repeated call harmless');
  const value = input.value ?? null;
  if (value !== null) {
    assertAmount(value);
    if (value < 0) throw new AttributionError('trackEvent value must not be negative');
  }
  if (input.programId !== undefined) configuredProgram(options, input.programId);
  const livemode = input.livemode ?? options.livemode;
  const at = input.at ?? options.clock();
  const clickId = input.clickId === undefined ? (currentContext()?.clickId ?? null) : input.clickId;

  return transactionWithLookups(storage, transactions, async (tx, lookup) => {
    // A repeat returns before attributing anything; a concurrent duplicate meets the first on the unique key.
    const known = await tx.findMilestone({ livemode, idempotencyKey: input.idempotencyKey });
    if (known) return { event: known, created: false, commission: null };
    const buyer = await attributeBuyer(tx, options, {
      livemode,
      at,
      stripeCustomerId: null,
      customerKey: input.customerExternalId,
      email: null,
      clickIds: [clickId],
      programIds: [input.programId],
    });
    // Checked once the program is known; throwing here rolls back the customer just created.
    const program = options.programs.get(buyer.customer.programId);
    const currency = (input.currency ?? (program?.currency || null))?.toLowerCase() ?? null;
    if (value !== null && !currency) throw new AttributionError('trackEvent value needs a currency (or program.currency)');
    const reward = program?.eventRewards[name];
    if (reward && 'bp' in reward.rate && value === null) {
      throw new AttributionError(`program.eventRewards.${name} is a percent of the value: trackEvent("${name}") needs value`);
    }
    const { record, created } = await tx.insertMilestone({
      livemode,
      name,
      idempotencyKey: input.idempotencyKey,
      customerId: buyer.customer.id,
      partnerId: buyer.partnerId,
      clickId: buyer.clickId,
      value,
      currency: value === null ? null : currency,
      occurredAt: at,
    });
    await creditLaterSales(tx, options, lookup, buyer);
    if (!created) return { event: record, created, commission: null };
    return { event: record, created, commission: await commissionEvent(tx, options, record, buyer.customer) };
  });
}
