import { isClickId } from '../clicks/click-id.js';
import { currentContext } from '../clicks/context.js';
import type { ResolvedOptions } from '../options/options.js';
import type { Customer, Storage } from '../storage/types.js';
import { AttributionError } from '../kernel/errors.js';
import { commissionLead } from '../commissions/engine.js';
import { emit } from '../transaction/hooks.js';
import type { TransactionRunner } from '../transaction/run.js';
import { configuredProgram, programOf } from '../programs/programs.js';

export interface TrackLeadInput {
  /** Your own id for the user (it becomes `sa_customer_key` in Stripe metadata). */
  customerExternalId: string;
  email?: string | null;
  name?: string | null;
  /** Default: the current request's click (from the middleware's context). */
  clickId?: string | null;
  /**
   * The program the signup belongs to. Default: the click's program, else the program the user is
   * already a customer in (the one attributed first), else the default program.
   */
  programId?: string;
}

export interface LeadResult {
  customer: Customer;
  /** True when this call created the customer; a repeat returns the stored one. */
  created: boolean;
  /** True when this call gave the customer to a partner. Attribution never moves afterwards. */
  attributed: boolean;
}

const DAY_MS = 86_400_000;

/**
 * Records a signup in its program (`programOf`). The customer is credited to the click's partner
 * once: only while the click is within its lifetime, only for a click of that program, only if the
 * partner is active, never if the customer already belongs to a partner in that program or already
 * bought unattributed there. An unknown or expired click records the lead without a partner rather
 * than failing.
 */
export async function trackLead(options: ResolvedOptions, transactions: TransactionRunner, storage: Storage, input: TrackLeadInput): Promise<LeadResult> {
  if (!input.customerExternalId) throw new AttributionError('trackLead needs customerExternalId (your id for the user)');
  if (input.programId !== undefined) configuredProgram(options, input.programId);
  const context = currentContext();
  const clickId = input.clickId === undefined ? (context?.clickId ?? null) : input.clickId;
  // Checkouts later in this request (through the wrapped Stripe client) carry the customer key.
  if (context) context.customerKey = input.customerExternalId;
  const now = options.clock();

  const result = await transactions.run(storage, async (tx) => {
    const programId = await programOf(tx, options, {
      livemode: options.livemode,
      programIds: [input.programId],
      clickIds: [clickId],
      stripeCustomerId: null,
      customerKey: input.customerExternalId,
      email: input.email ?? null,
    });
    const { record, created } = await tx.insertCustomer({
      livemode: options.livemode,
      programId,
      externalId: input.customerExternalId,
      email: input.email ?? null,
      name: input.name ?? null,
    });
    const customer = created || !input.email ? record : await tx.linkCustomer(record.id, { email: input.email });
    if (customer.partnerId || !isClickId(clickId)) return { customer, created, attributed: false };

    const click = await tx.getClick(clickId);
    const live = click !== undefined && click.programId === programId && now.getTime() - click.createdAt.getTime() < options.clicks.lifetimeDays * DAY_MS;
    if (!live) return { customer, created, attributed: false };
    const partner = await tx.getPartner(click.partnerId);
    if (partner?.status !== 'active' || (await tx.customerHasSales(customer.id))) {
      return { customer, created, attributed: false };
    }
    const attributed = await tx.attributeCustomer(customer.id, {
      partnerId: click.partnerId,
      clickId: click.id,
      attributedBy: 'click',
      at: now,
    });
    const stored = attributed ? await tx.findCustomer({ id: customer.id }) : customer;
    if (attributed && stored) {
      emit('lead.created', { customer: stored });
      await commissionLead(tx, options, stored, now);
    }
    return { customer: stored ?? customer, created, attributed };
  });
  // Checkouts later in this request belong to the lead's program.
  if (context) context.programId = result.customer.programId;
  return result;
}
