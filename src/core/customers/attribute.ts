import { isClickId } from '../clicks/click-id.js';
import type { ResolvedOptions } from '../options/options.js';
import { commissionLead } from '../commissions/engine.js';
import { emit, enqueue } from '../transaction/hooks.js';
import { CUSTOMER_KEY_WRITE_BACK, type CustomerKeyWriteBack } from '../stripe/customer-key-write-back.js';
import { FORGOTTEN_PREFIX } from '../storage/redaction.js';
import { firstCustomer, programOf } from '../programs/programs.js';
import type { AttributionEvidence, AttributionSource, Customer, Partner, PartnerTerms, SaleKeys, StorageOperations } from '../storage/types.js';

/** What a Stripe object tells about who bought. */
export interface BuyerEvidence {
  livemode: boolean;
  /** When the Stripe object was created: a click counts only if it was still live then. */
  at: Date;
  stripeCustomerId: string | null;
  /** `metadata.sa_customer_key`: the merchant's user id. */
  customerKey: string | null;
  email: string | null;
  name?: string | null;
  /** Click ids in order of precedence; each counts only if it is a known, live click of the purchase's program. */
  clickIds: Array<string | null | undefined>;
  /** Other tools' click ids (`legacyKeys`), tried after ours, as they are: only imported clicks match. */
  legacyClickIds?: readonly string[];
  /** `metadata.sa_program_id` values in order of precedence: the program the purchase belongs to, when configured. */
  programIds?: Array<string | null | undefined>;
  /**
   * Where the Stripe promotion code ids used are found, asked only if neither customer nor click
   * decided, in order: the next source (typically one that costs a Stripe look-up, such as line
   * items) only when the ones before named no active partner's code.
   */
  promotionCodes?: Array<() => Promise<string[]>>;
  /** The purchase being attributed, so its own earlier record does not count as a prior purchase. */
  purchase?: SaleKeys;
  /** The purchase's subscription: its end is read with the evidence. */
  stripeSubscriptionId?: string | null;
  /** Whether the Stripe customer's own metadata has `sa_customer_key`, when the event shows it (customer events). */
  stripeCustomerHasKey?: boolean;
}

export interface Attributed {
  customer: Customer;
  partnerId: string | null;
  clickId: string | null;
  attributedBy: AttributionSource | null;
  /**
   * The partner and their terms in the customer's program, when the attribution's evidence held them
   * (a stored customer's partner, the partner of the click that credited it), so the commission is
   * decided without reading them again; absent otherwise.
   */
  partner?: { partner: Partner; terms: PartnerTerms };
  /** When the purchase's subscription ended (null: it has not, or there is none), read with the evidence. */
  subscriptionEndedAt: Date | null;
  /**
   * True when this attribution credited a stored customer who has unattributed sales recorded at or
   * after the purchase's time (delivered before it): `creditLaterSales` (sales/record-sale.ts)
   * credits them, once the purchase's own sale has its commission, so the ledger equals in-order
   * delivery (DESIGN §5).
   */
  laterSales: boolean;
}

const DAY_MS = 86_400_000;

/**
 * DESIGN.md §3 within the purchase's program (`programOf`), first match wins: the customer if
 * already attributed (by Stripe customer id, then `sa_customer_key`, then email); else a live
 * known click of that program (metadata, then `client_reference_id`, then subscription metadata,
 * as the caller orders them); else a partner's promotion code of that program. A customer who
 * already bought unattributed before the purchase, by Stripe time, is not claimed; one whose
 * unattributed purchases all come later is, and those are the caller's to credit (`laterSales`).
 * The customer record (one per program) is created or linked to the Stripe customer on the way,
 * and credited once, by a conditional update.
 */
export async function attributeBuyer(tx: StorageOperations, options: ResolvedOptions, evidence: BuyerEvidence): Promise<Attributed> {
  const attributed = await matchAndCredit(tx, options, evidence);
  await backfillCustomerKey(tx, options, evidence, attributed);
  return attributed;
}

/**
 * `backfillCustomerMetadata`: an attributed Stripe customer gets the merchant's user id in its
 * metadata, so later subscriptions and invoices made directly on it are found by key. Claimed once
 * per customer in this transaction; the API call goes through the outbox, after commit and outside
 * the webhook's answer (`stripe/customer-key-write-back.ts`).
 */
async function backfillCustomerKey(tx: StorageOperations, options: ResolvedOptions, evidence: BuyerEvidence, { customer, partnerId }: Attributed): Promise<void> {
  const stripe = options.stripe;
  const stripeCustomerId = evidence.stripeCustomerId;
  const key = customer.externalId;
  if (!options.backfillCustomerMetadata || !stripe || !stripeCustomerId || !partnerId) return;
  if (customer.stripeCustomerId !== stripeCustomerId || !key || key.startsWith(FORGOTTEN_PREFIX)) return;
  // A Stripe customer seen with the key already (its customer.created event) is claimed as written,
  // so its sale later does not write it again.
  if (evidence.stripeCustomerHasKey) {
    await tx.claimStripeMetadataWrite(customer.id, options.clock());
    return;
  }
  if (!(await tx.claimStripeMetadataWrite(customer.id, options.clock()))) return;
  // Unordered: a Stripe outage must not hold the customer's hooks behind it.
  enqueue(CUSTOMER_KEY_WRITE_BACK, { stripeCustomerId, customerKey: key } satisfies CustomerKeyWriteBack, null);
}

async function matchAndCredit(tx: StorageOperations, options: ResolvedOptions, given: BuyerEvidence): Promise<Attributed> {
  const evidence = { ...given, promotionCodes: given.promotionCodes?.map(once) };
  const clickIds = [...evidence.clickIds.filter(isClickId), ...(evidence.legacyClickIds ?? [])];
  // Read once: the clicks and every customer the identifiers name, in any program; decided below.
  const stored = await tx.readAttributionEvidence({
    livemode: evidence.livemode,
    clickIds,
    stripeCustomerId: evidence.stripeCustomerId,
    customerKey: evidence.customerKey,
    email: evidence.email,
    stripeSubscriptionId: evidence.stripeSubscriptionId ?? null,
    at: evidence.at,
    ...(evidence.purchase ? { purchase: evidence.purchase } : {}),
  });
  const attributed = await decide(tx, options, evidence, stored, clickIds);
  const partner = partnerInEvidence(stored, attributed);
  return { ...attributed, ...(partner ? { partner } : {}), subscriptionEndedAt: stored.subscriptionEndedAt };
}

/** The attributed partner and their terms in the customer's program, if the evidence read them. */
function partnerInEvidence(stored: AttributionEvidence, { customer, partnerId, clickId }: Decided): Attributed['partner'] {
  if (!partnerId) return undefined;
  const asStored = stored.customers.find((found) => found.customer.id === customer.id && found.partner?.id === partnerId && found.customer.programId === customer.programId);
  if (asStored) return { partner: asStored.partner!, terms: asStored.terms };
  const byClick = stored.clicks.find((found) => found.click.id === clickId && found.partner.id === partnerId && found.click.programId === customer.programId);
  return byClick && { partner: byClick.partner, terms: byClick.terms };
}

type Decided = Omit<Attributed, 'partner' | 'subscriptionEndedAt'>;

/** A stored customer's other sales, by the purchase's Stripe time. */
interface OtherSales {
  earlier: boolean;
  laterUnattributed: boolean;
}

async function decide(tx: StorageOperations, options: ResolvedOptions, evidence: BuyerEvidence, stored: AttributionEvidence, clickIds: readonly string[]): Promise<Decided> {
  const { livemode } = evidence;
  const programId = await programOf(tx, options, evidence, stored);
  const byStripeId = firstCustomer(stored, 'stripeCustomerId', programId);
  const byKey = firstCustomer(stored, 'customerKey', programId);
  const byEmail = firstCustomer(stored, 'email', programId);
  const known = [byStripeId, byKey, byEmail].filter((customer): customer is Customer => customer !== undefined);

  // The first attributed match speaks for the buyer; else the first match at all; else a new one.
  const match = known.find((candidate) => candidate.partnerId) ?? known[0];
  if (!match) {
    // A new customer has no earlier purchase: the credit is decided first and written with it.
    const credit = (await liveClick(options, evidence, stored, clickIds, programId)) ?? (await promotionCodePartner(tx, evidence, programId));
    const { record, created } = await tx.insertCustomer({
      livemode,
      programId,
      stripeCustomerId: evidence.stripeCustomerId,
      externalId: evidence.customerKey,
      email: evidence.email,
      name: evidence.name ?? null,
      ...(credit ? { attribution: { ...credit, at: evidence.at } } : {}),
    });
    if (created) return credit ? credited(tx, options, record, evidence.at) : { customer: record, partnerId: null, clickId: null, attributedBy: null, laterSales: false };
    // A concurrent delivery created it first: what it decided stands, as for any stored customer.
    // Its sales were not in the evidence: whether any is later is left to `creditLaterSales` to find.
    const earlier = await tx.customerHasSales(record.id, evidence.purchase, evidence.at);
    return creditStored(tx, options, evidence, stored, clickIds, record, { earlier, laterUnattributed: true });
  }
  // Fill in identifiers no other customer holds (two records may exist until Stripe links them).
  const ids = {
    ...(evidence.stripeCustomerId && (!byStripeId || byStripeId.id === match.id) ? { stripeCustomerId: evidence.stripeCustomerId } : {}),
    ...(evidence.customerKey && (!byKey || byKey.id === match.id) ? { externalId: evidence.customerKey } : {}),
    ...(evidence.email ? { email: evidence.email } : {}),
  };
  const customer = fillsGap(match, ids) ? await tx.linkCustomer(match.id, ids) : match;
  const found = stored.customers.find((candidate) => candidate.customer.id === match.id)!;
  return creditStored(tx, options, evidence, stored, clickIds, customer, { earlier: found.hasEarlierSales, laterUnattributed: found.hasLaterUnattributedSales });
}

/** Whether `linkCustomer` would change anything: it fills empty identifiers only (a forgotten customer's email stays empty). */
function fillsGap(customer: Customer, ids: { stripeCustomerId?: string; externalId?: string; email?: string }): boolean {
  const forgotten = customer.externalId?.startsWith(FORGOTTEN_PREFIX) ?? false;
  return (ids.stripeCustomerId !== undefined && customer.stripeCustomerId === null) ||
    (ids.externalId !== undefined && customer.externalId === null) ||
    (ids.email !== undefined && customer.email === null && !forgotten);
}

/**
 * A stored customer keeps its partner; an unattributed one without purchases earlier by Stripe time
 * is credited now, once (a conditional update). Its later purchases, delivered first, do not stop
 * it: in Stripe's order they came after this credit.
 */
async function creditStored(
  tx: StorageOperations,
  options: ResolvedOptions,
  evidence: BuyerEvidence,
  stored: AttributionEvidence,
  clickIds: readonly string[],
  customer: Customer,
  sales: OtherSales,
): Promise<Decided> {
  if (customer.partnerId) return { customer, partnerId: customer.partnerId, clickId: customer.clickId, attributedBy: customer.attributedBy, laterSales: false };
  const unattributed: Decided = { customer, partnerId: null, clickId: null, attributedBy: null, laterSales: false };
  if (sales.earlier) return unattributed;
  const credit = (await liveClick(options, evidence, stored, clickIds, customer.programId)) ?? (await promotionCodePartner(tx, evidence, customer.programId));
  if (!credit) return unattributed;
  if (!(await tx.attributeCustomer(customer.id, { ...credit, at: evidence.at }))) {
    // Credited concurrently by another delivery: its partner stands.
    const winner = (await tx.findCustomer({ id: customer.id }))!;
    return { customer: winner, partnerId: winner.partnerId, clickId: winner.clickId, attributedBy: winner.attributedBy, laterSales: false };
  }
  // What attributeCustomer wrote, without reading the row back.
  const attributed = { ...customer, partnerId: credit.partnerId, clickId: credit.clickId, attributedBy: credit.attributedBy, attributedAt: evidence.at };
  return { ...(await credited(tx, options, attributed, evidence.at)), laterSales: sales.laterUnattributed };
}

/** A customer this transaction credited: its lead, and the lead reward. */
async function credited(tx: StorageOperations, options: ResolvedOptions, customer: Customer, at: Date): Promise<Decided> {
  emit('lead.created', { customer });
  await commissionLead(tx, options, customer, at);
  return { customer, partnerId: customer.partnerId, clickId: customer.clickId, attributedBy: customer.attributedBy, laterSales: false };
}

/** The first of the purchase's clicks that is known, of its program, live at the purchase and of an active partner. */
async function liveClick(options: ResolvedOptions, evidence: BuyerEvidence, stored: AttributionEvidence, clickIds: readonly string[], programId: string) {
  const lifetimeMs = options.clicks.lifetimeDays * DAY_MS;
  for (const clickId of clickIds) {
    const found = stored.clicks.find(({ click }) => click.id === clickId);
    if (!found || found.click.programId !== programId) continue;
    if (evidence.at.getTime() - found.click.createdAt.getTime() > lifetimeMs) continue;
    if (found.partner.status !== 'active') continue;
    return { partnerId: found.click.partnerId, clickId: found.click.id, attributedBy: 'click' as const };
  }
  return undefined;
}

async function promotionCodePartner(tx: StorageOperations, evidence: BuyerEvidence, programId: string) {
  for (const source of evidence.promotionCodes ?? []) {
    const ids = await source();
    const codes = (await tx.findPromotionCodes(ids)).sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
    for (const code of codes) {
      if (code.programId !== programId) continue;
      const partner = await tx.getPartner(code.partnerId);
      if (partner?.status === 'active') return { partnerId: code.partnerId, clickId: null, attributedBy: 'promotion_code' as const };
    }
  }
  return undefined;
}

/** The promotion codes are asked for by the program choice and the attribution: fetched once. */
function once<T>(fetch: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => (pending ??= fetch());
}
