import { commissionSale, type KnownOfSale } from '../commissions/engine.js';
import { attributeBuyer, type Attributed, type BuyerEvidence } from '../customers/attribute.js';
import { emit } from '../transaction/hooks.js';
import type { ResolvedOptions } from '../options/options.js';
import type { NewSale, Sale, SaleKeys, StorageOperations } from '../storage/types.js';
import type { Lookup } from '../transaction/lookups.js';

/** A sale as its payment reports it; who it belongs to is decided here, from the buyer's evidence. */
export type SaleFacts = Omit<NewSale, 'customerId' | 'partnerId' | 'clickId'>;

/**
 * Records a paid purchase once (its keys are unique): the buyer attributed by DESIGN §3, the sale
 * credited to the buyer's partner with its commission. The same payment seen again under another
 * of its keys (an invoice recorded before its checkout session's attribution) is credited now if
 * it had no partner yet, unless `claim` is false. Returns the keys the sale is now known under, so
 * events waiting for this sale can be applied; null when nothing new became known (a repeat) or
 * when the insert found no event waiting for the new sale.
 */
export async function recordSale(
  tx: StorageOperations,
  options: ResolvedOptions,
  lookup: Lookup,
  evidence: BuyerEvidence,
  facts: SaleFacts,
  { claim = true }: { claim?: boolean } = {},
): Promise<SaleKeys | null> {
  const buyer = await attributeBuyer(tx, options, { ...evidence, stripeSubscriptionId: facts.stripeSubscriptionId ?? null });
  const { record, created, eventsWaiting } = await tx.insertSale({ ...facts, customerId: buyer.customer.id, partnerId: buyer.partnerId, clickId: buyer.clickId });
  if (!created) {
    const claimed = claim ? await claimSale(tx, options, lookup, record, buyer) : null;
    // Unclaimed, the payment stays its own object's sale, even as one of the customer's later ones.
    await creditLaterSales(tx, options, lookup, buyer, claim ? null : record.id);
    return claimed;
  }
  emit('sale.created', { sale: record });
  await commissionSale(tx, options, lookup, record, { ...knownOf(buyer), subscriptionEndedAt: buyer.subscriptionEndedAt, inserted: { lines: facts.lines ?? [] } });
  await creditLaterSales(tx, options, lookup, buyer);
  // The insert said whether any event waits for this sale: when none does, none is looked for.
  return eventsWaiting ? saleKeys(record) : null;
}

/**
 * A subscription signup (a subscription-mode checkout): the buyer is attributed, and the first
 * invoice's sale, when it was recorded before this attribution arrived, is credited to the
 * buyer's partner. The invoice itself is the sale; the signup never makes one.
 */
export async function attributeSubscriptionSignup(
  tx: StorageOperations,
  options: ResolvedOptions,
  lookup: Lookup,
  evidence: BuyerEvidence,
  firstInvoiceId: string | null,
): Promise<SaleKeys | null> {
  const buyer = await attributeBuyer(tx, options, evidence);
  const sale = firstInvoiceId ? await tx.findSale({ stripeInvoiceId: firstInvoiceId }) : undefined;
  const claimed = sale ? await claimSale(tx, options, lookup, sale, buyer) : null;
  await creditLaterSales(tx, options, lookup, buyer);
  return claimed;
}

/**
 * DESIGN §5, when a customer is credited by a purchase delivered after their later ones: in
 * Stripe's order those came after the credit, so each becomes the partner's sale with the
 * commission in-order delivery gives it — the reward window anchored by the earlier sales already
 * commissioned (listed by Stripe time), net of the refunds and disputes recorded on it meanwhile.
 * Only when the attribution found such sales (`buyer.laterSales`): otherwise no statement. The
 * customer's row is locked by its credit, then each sale's by its claim, in the engine's order.
 */
export async function creditLaterSales(tx: StorageOperations, options: ResolvedOptions, lookup: Lookup, buyer: Attributed, exceptSaleId: string | null = null): Promise<void> {
  if (!buyer.laterSales) return;
  for (const sale of await tx.listSales({ customerId: buyer.customer.id })) {
    if (sale.id !== exceptSaleId) await claimSale(tx, options, lookup, sale, buyer);
  }
}

/**
 * Credits an unattributed sale to the buyer's partner, once (a conditional update), with its
 * commission; a refund or dispute already recorded on it is netted by `commissionSale`.
 */
async function claimSale(tx: StorageOperations, options: ResolvedOptions, lookup: Lookup, sale: Sale, buyer: Attributed): Promise<SaleKeys | null> {
  if (sale.partnerId || !buyer.partnerId) return null;
  const attribution = { partnerId: buyer.partnerId, clickId: buyer.clickId, customerId: buyer.customer.id };
  if (!(await tx.attributeSale(sale.id, attribution))) return null;
  // What attributeSale wrote, without reading the row back: the sale moves to its customer's program.
  const claimed: Sale = { ...sale, ...attribution, programId: buyer.customer.programId };
  await commissionSale(tx, options, lookup, claimed, knownOf(buyer));
  return saleKeys(claimed);
}

/** What the attribution read that the commission needs too. (Its subscription end is the purchase's, which may not be this sale's.) */
function knownOf(buyer: Attributed): KnownOfSale {
  return { customer: buyer.customer, ...(buyer.partner ? { partner: buyer.partner } : {}) };
}

/** The keys under which other events (refunds, disputes, credit notes) name this sale. */
function saleKeys(sale: Sale): SaleKeys {
  return { stripePaymentIntentId: sale.stripePaymentIntentId, stripeInvoiceId: sale.stripeInvoiceId };
}
