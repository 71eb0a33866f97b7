import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { ConflictError } from '../errors.js';
import { FORGOTTEN_PREFIX, redactPayload } from '../forget.js';
import { newId } from '../ids.js';
import { assertAmount, toAmount } from '../money.js';
import { resolveLayout, scopeDatabase, type TableLayout } from './layout.js';
import { migrateToLatest } from './migrations/index.js';
import type { Database } from './schema.js';
import {
  DEFAULT_PROGRAM_ID,
  type AttributionSource,
  type Click,
  type Commission,
  type CommissionKind,
  type CommissionStatus,
  type Customer,
  type CustomerAttribution,
  type CustomerLookup,
  type Inserted,
  type Link,
  type MigrationReport,
  type Milestone,
  type NewMilestone,
  type NewClick,
  type NewCommission,
  type NewCustomer,
  type NewPartner,
  type NewSale,
  type NewSaleLine,
  type ParkedEvent,
  type PartnerGroupRecord,
  type PartnerProgram,
  type PartnerCodes,
  type Partner,
  type PartnerStatus,
  type Payout,
  type ReportRequest,
  type ReportRow,
  type PromotionCode,
  type Sale,
  type SaleKeys,
  type SaleLine,
  type Storage,
  type StorageOperations,
  type SubscriptionState,
  type WebhookEventRecord,
} from './types.js';

export interface KyselyStorageOptions {
  /** The merchant's Kysely instance for Postgres (node-postgres or PGlite). */
  db: Kysely<any>;
  /** Table name prefix. Default `sa_`. */
  tablePrefix?: string;
  /** Postgres schema for the tables. Default: the connection's search path (usually `public`). */
  schema?: string;
  /** Called by `close()`: set when the storage opened the connection itself. */
  onClose?: () => Promise<void>;
}

class KyselyOperationsBase implements StorageOperations {
  constructor(protected readonly db: Kysely<Database> | Transaction<Database>) {}

  /**
   * A sale's, milestone's or commission's program: its customer's, read in the same statement, so
   * the rule lives in one place and a row can never disagree with its customer.
   */
  protected programOfCustomer(customerId: string | null | undefined) {
    if (!customerId) return DEFAULT_PROGRAM_ID;
    const program = this.db.selectFrom('customers').select('program_id').where('id', '=', customerId);
    return sql<string>`coalesce((${program}), ${DEFAULT_PROGRAM_ID})`;
  }

  async insertPartner(partner: NewPartner): Promise<Partner> {
    const row = await this.db
      .insertInto('partners')
      .values({
        id: newId('ptn'),
        name: partner.name,
        email: partner.email?.toLowerCase() ?? null,
        status: 'active',
        metadata: JSON.stringify(partner.metadata ?? {}),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toPartner(row);
  }

  async getPartner(id: string): Promise<Partner | undefined> {
    const row = await this.db.selectFrom('partners').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toPartner(row);
  }

  async listPartners(): Promise<Partner[]> {
    return (await this.db.selectFrom('partners').selectAll().orderBy('name').orderBy('id').execute()).map(toPartner);
  }

  async listLeads(filter: { partnerId?: string; programId?: string; livemode?: boolean; limit: number }): Promise<Customer[]> {
    let query = this.db.selectFrom('customers').selectAll().where('partner_id', 'is not', null).where('attributed_at', 'is not', null);
    if (filter.partnerId) query = query.where('partner_id', '=', filter.partnerId);
    if (filter.programId) query = query.where('program_id', '=', filter.programId);
    if (filter.livemode !== undefined) query = query.where('livemode', '=', filter.livemode);
    return (await query.orderBy('attributed_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute()).map(toCustomer);
  }

  async setPartnerStatus(id: string, status: PartnerStatus): Promise<void> {
    await this.db.updateTable('partners').set({ status }).where('id', '=', id).execute();
  }

  async insertLink(link: { partnerId: string; code: string; programId?: string }): Promise<Link> {
    const code = link.code.toLowerCase();
    const programId = link.programId ?? DEFAULT_PROGRAM_ID;
    const inserted = await this.db
      .insertInto('links')
      .values({ code, partner_id: link.partnerId, program_id: programId })
      .onConflict((oc) => oc.column('code').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return toLink(inserted);
    const existing = await this.db.selectFrom('links').selectAll().where('code', '=', code).executeTakeFirstOrThrow();
    if (existing.partner_id !== link.partnerId) {
      throw new ConflictError(`The referral code "${code}" already belongs to another partner`);
    }
    if (existing.program_id !== programId) {
      throw new ConflictError(`The referral code "${code}" is already this partner's in program "${existing.program_id}"`);
    }
    return toLink(existing);
  }

  async findActiveLink(code: string): Promise<{ link: Link; partner: Partner } | undefined> {
    const row = await this.db
      .selectFrom('links')
      .innerJoin('partners', 'partners.id', 'links.partner_id')
      .selectAll('partners')
      .select(['links.code', 'links.program_id', 'links.created_at as link_created_at', 'links.disabled_at'])
      .where('links.code', '=', code.toLowerCase())
      .where('links.disabled_at', 'is', null)
      .where('partners.status', '=', 'active')
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      link: { code: row.code, partnerId: row.id, programId: row.program_id, createdAt: row.link_created_at, disabledAt: row.disabled_at },
      partner: toPartner(row),
    };
  }

  async insertPromotionCode(code: { id: string; partnerId: string; programId?: string }): Promise<PromotionCode> {
    const programId = code.programId ?? DEFAULT_PROGRAM_ID;
    const inserted = await this.db
      .insertInto('promotion_codes')
      .values({ id: code.id, partner_id: code.partnerId, program_id: programId })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
    const row =
      inserted ?? (await this.db.selectFrom('promotion_codes').selectAll().where('id', '=', code.id).executeTakeFirstOrThrow());
    if (row.partner_id !== code.partnerId) {
      throw new ConflictError(`The promotion code ${code.id} already belongs to another partner`);
    }
    if (row.program_id !== programId) {
      throw new ConflictError(`The promotion code ${code.id} is already this partner's in program "${row.program_id}"`);
    }
    return toPromotionCode(row);
  }

  async listPartnerCodes(partnerId: string): Promise<PartnerCodes> {
    const [links, promotionCodes] = await Promise.all([
      this.db.selectFrom('links').select(['code', 'program_id']).where('partner_id', '=', partnerId).orderBy('created_at').orderBy('code').execute(),
      this.db.selectFrom('promotion_codes').select(['id', 'program_id']).where('partner_id', '=', partnerId).orderBy('created_at').orderBy('id').execute(),
    ]);
    const programs: PartnerCodes['programs'] = {};
    const program = (id: string) => (programs[id] ??= { codes: [], promotionCodes: [] });
    for (const link of links) program(link.program_id).codes.push(link.code);
    for (const promo of promotionCodes) program(promo.program_id).promotionCodes.push(promo.id);
    return { codes: links.map((link) => link.code), promotionCodes: promotionCodes.map((promo) => promo.id), programs };
  }

  async findPromotionCodes(ids: readonly string[]): Promise<PromotionCode[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('promotion_codes').selectAll().where('id', 'in', [...ids]).execute();
    return rows.map(toPromotionCode);
  }

  async insertClick(click: NewClick): Promise<Click> {
    return toClick(await this.db.insertInto('clicks').values(clickRow(click)).returningAll().executeTakeFirstOrThrow());
  }

  async insertClicks(clicks: readonly NewClick[]): Promise<void> {
    if (clicks.length === 0) return;
    await this.db
      .insertInto('clicks')
      .values(clicks.map(clickRow))
      // A batch retried after a failure that had in fact committed meets its own rows.
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async getClick(id: string): Promise<Click | undefined> {
    const row = await this.db.selectFrom('clicks').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toClick(row);
  }

  async insertCustomer(customer: NewCustomer): Promise<Inserted<Customer>> {
    const programId = customer.programId ?? DEFAULT_PROGRAM_ID;
    const inserted = await this.db
      .insertInto('customers')
      .values({
        id: newId('sac'),
        program_id: programId,
        livemode: customer.livemode,
        external_id: customer.externalId ?? null,
        stripe_customer_id: customer.stripeCustomerId ?? null,
        email: customer.email?.toLowerCase() ?? null,
        name: customer.name ?? null,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { record: toCustomer(inserted), created: true };
    const existing = await this.db
      .selectFrom('customers')
      .selectAll()
      .where('program_id', '=', programId)
      .where((eb) =>
        eb.or([
          ...(customer.externalId ? [eb.and([eb('external_id', '=', customer.externalId), eb('livemode', '=', customer.livemode)])] : []),
          ...(customer.stripeCustomerId ? [eb('stripe_customer_id', '=', customer.stripeCustomerId)] : []),
          // A guest, known by email alone, met another guest with that email (the partial unique index).
          ...(!customer.externalId && !customer.stripeCustomerId && customer.email
            ? [eb.and([eb('email', '=', customer.email.toLowerCase()), eb('livemode', '=', customer.livemode), eb('external_id', 'is', null), eb('stripe_customer_id', 'is', null)])]
            : []),
        ]),
      )
      .orderBy('created_at')
      .executeTakeFirstOrThrow();
    return { record: toCustomer(existing), created: false };
  }

  async findCustomer(by: CustomerLookup): Promise<Customer | undefined> {
    let query = this.db.selectFrom('customers').selectAll();
    if ('id' in by) query = query.where('id', '=', by.id);
    else {
      if ('stripeCustomerId' in by) query = query.where('stripe_customer_id', '=', by.stripeCustomerId);
      else if ('externalId' in by) query = query.where('external_id', '=', by.externalId);
      else query = query.where('email', '=', by.email.toLowerCase());
      if ('livemode' in by && by.livemode !== undefined) query = query.where('livemode', '=', by.livemode);
      if (by.programId !== undefined) query = query.where('program_id', '=', by.programId);
      // Several customers may share an email, or one person be a customer in several programs:
      // the attributed, oldest one speaks for them (nulls sort last).
      query = query.orderBy('attributed_at', 'asc').orderBy('created_at').orderBy('id');
    }
    const row = await query.executeTakeFirst();
    return row && toCustomer(row);
  }

  async linkCustomer(
    id: string,
    ids: { externalId?: string; stripeCustomerId?: string; email?: string },
  ): Promise<Customer> {
    const row = await this.db
      .updateTable('customers')
      .set((eb) => ({
        external_id: eb.fn.coalesce('external_id', eb.val(ids.externalId ?? null)),
        stripe_customer_id: eb.fn.coalesce('stripe_customer_id', eb.val(ids.stripeCustomerId ?? null)),
        // A forgotten customer's email stays erased, whatever a later Stripe event still carries.
        email: sql<string | null>`case when ${sql.ref('external_id')} like ${FORGOTTEN_PREFIX + '%'} then null else coalesce(${sql.ref('email')}, ${ids.email?.toLowerCase() ?? null}) end`,
      }))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toCustomer(row);
  }

  async attributeCustomer(id: string, attribution: CustomerAttribution): Promise<boolean> {
    const result = await this.db
      .updateTable('customers')
      .set({
        partner_id: attribution.partnerId,
        click_id: attribution.clickId,
        attributed_by: attribution.attributedBy,
        attributed_at: attribution.at,
      })
      .where('id', '=', id)
      .where('partner_id', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async customerHasSales(customerId: string, except: SaleKeys = {}): Promise<boolean> {
    let query = this.db.selectFrom('sales').select('id').where('customer_id', '=', customerId);
    // `is distinct from`: a sale with no value in a key column is a different sale, not an unknown one.
    for (const [column, value] of saleKeyConditions(except)) query = query.where(column, 'is distinct from', value);
    return (await query.limit(1).executeTakeFirst()) !== undefined;
  }

  async listSales(filter: { partnerId?: string; customerId?: string; programId?: string; livemode?: boolean }): Promise<Sale[]> {
    let query = this.db.selectFrom('sales').selectAll().orderBy('occurred_at').orderBy('created_at').orderBy('id');
    if (filter.partnerId) query = query.where('partner_id', '=', filter.partnerId);
    if (filter.programId) query = query.where('program_id', '=', filter.programId);
    if (filter.customerId) query = query.where('customer_id', '=', filter.customerId);
    if (filter.livemode !== undefined) query = query.where('livemode', '=', filter.livemode);
    return (await query.execute()).map(toSale);
  }

  async attributeSale(saleId: string, attribution: { partnerId: string; clickId: string | null; customerId: string }): Promise<boolean> {
    const result = await this.db
      .updateTable('sales')
      .set({
        partner_id: attribution.partnerId,
        click_id: attribution.clickId,
        customer_id: attribution.customerId,
        program_id: this.programOfCustomer(attribution.customerId),
      })
      .where('id', '=', saleId)
      .where('partner_id', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setSalePaymentIntent(saleId: string, paymentIntentId: string): Promise<void> {
    await this.db
      .updateTable('sales')
      .set({ stripe_payment_intent_id: paymentIntentId })
      .where('id', '=', saleId)
      .where('stripe_payment_intent_id', 'is', null)
      // Another sale holding it is the same payment seen first under its payment intent: leave both keys as they are.
      .where((eb) => eb.not(eb.exists(eb.selectFrom('sales as holder').select('holder.id').where('holder.stripe_payment_intent_id', '=', paymentIntentId))))
      .execute();
  }

  async raiseSaleRefunded(saleId: string, amount: number): Promise<Sale> {
    const row = await this.db
      .updateTable('sales')
      .set((eb) => ({ amount_refunded: eb.fn('greatest', ['amount_refunded', eb.val(assertAmount(amount))]) as never }))
      .where('id', '=', saleId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSale(row);
  }

  async recordChargeRefund(refund: { saleId: string; chargeId: string; amountRefunded: number }): Promise<number> {
    await this.lockSale(refund.saleId);
    await this.db
      .insertInto('charge_refunds')
      .values({ sale_id: refund.saleId, charge_id: refund.chargeId, amount_refunded: assertAmount(refund.amountRefunded) })
      .onConflict((oc) =>
        oc.columns(['sale_id', 'charge_id']).doUpdateSet((eb) => ({
          amount_refunded: eb.fn('greatest', ['charge_refunds.amount_refunded', 'excluded.amount_refunded']) as never,
        })),
      )
      .execute();
    const { total } = await this.db
      .selectFrom('charge_refunds')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<string | number>('amount_refunded'), eb.val(0)).as('total'))
      .where('sale_id', '=', refund.saleId)
      .executeTakeFirstOrThrow();
    return toAmount(total);
  }

  async recordSaleCredit(credit: { creditNoteId: string; saleId: string; amount: number }): Promise<Sale> {
    // Concurrent credits to one sale take turns on its row, so each total sees the others.
    await this.lockSale(credit.saleId);
    await this.db
      .insertInto('sale_credits')
      .values({ credit_note_id: credit.creditNoteId, sale_id: credit.saleId, amount: assertAmount(credit.amount) })
      .onConflict((oc) => oc.column('credit_note_id').doNothing())
      .execute();
    return toSale(await this.refreshCredited(credit.saleId));
  }

  async removeSaleCredit(creditNoteId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('sale_credits').select('sale_id').where('credit_note_id', '=', creditNoteId).executeTakeFirst();
    if (!row) return undefined;
    await this.lockSale(row.sale_id);
    await this.db.deleteFrom('sale_credits').where('credit_note_id', '=', creditNoteId).execute();
    await this.refreshCredited(row.sale_id);
    return row.sale_id;
  }

  private async refreshCredited(saleId: string) {
    return this.db
      .updateTable('sales')
      .set((eb) => ({
        amount_credited: eb
          .selectFrom('sale_credits')
          .select((inner) => inner.fn.coalesce(inner.fn.sum<number>('amount'), eb.val(0)).as('total'))
          .where('sale_credits.sale_id', '=', saleId) as never,
      }))
      .where('id', '=', saleId)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async recordDispute(dispute: { id: string; saleId: string; amount: number; status: string; at: Date }): Promise<Sale> {
    await this.lockSale(dispute.saleId);
    await this.db
      .insertInto('sale_disputes')
      .values({ id: dispute.id, sale_id: dispute.saleId, amount: assertAmount(dispute.amount), status: dispute.status, stripe_updated_at: dispute.at })
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet((eb) => ({ status: eb.ref('excluded.status'), amount: eb.ref('excluded.amount'), stripe_updated_at: eb.ref('excluded.stripe_updated_at') }))
          .whereRef('sale_disputes.stripe_updated_at', '<=', 'excluded.stripe_updated_at'),
      )
      .execute();
    const row = await this.db
      .updateTable('sales')
      .set((eb) => ({
        // Disputes of several charges, each rounded on its own, may add up to a cent over the sale.
        amount_disputed: eb.fn('least', [
          eb
            .selectFrom('sale_disputes')
            .select((inner) => inner.fn.coalesce(inner.fn.sum<number>('amount'), eb.val(0)).as('total'))
            .where('sale_disputes.sale_id', '=', dispute.saleId)
            .where('sale_disputes.status', 'in', [...OPEN_DISPUTE, 'lost']),
          eb.ref('amount'),
        ]) as never,
      }))
      .where('id', '=', dispute.saleId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSale(row);
  }

  async upsertSubscription(subscription: SubscriptionState): Promise<void> {
    const values = {
      id: subscription.id,
      livemode: subscription.livemode,
      customer_id: subscription.customerId,
      status: subscription.status,
      quantity: subscription.quantity,
      stripe_price_id: subscription.stripePriceId,
      canceled_at: subscription.canceledAt,
      ended_at: subscription.endedAt,
      stripe_updated_at: subscription.at,
    };
    await this.db
      .insertInto('subscriptions')
      .values(values)
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            quantity: eb.ref('excluded.quantity'),
            stripe_price_id: eb.ref('excluded.stripe_price_id'),
            canceled_at: eb.ref('excluded.canceled_at'),
            ended_at: eb.ref('excluded.ended_at'),
            customer_id: eb.fn.coalesce('subscriptions.customer_id', eb.ref('excluded.customer_id')),
            stripe_updated_at: eb.ref('excluded.stripe_updated_at'),
          }))
          .whereRef('subscriptions.stripe_updated_at', '<=', 'excluded.stripe_updated_at'),
      )
      .execute();
  }

  async getSubscription(id: string): Promise<SubscriptionState | undefined> {
    const row = await this.db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    return (
      row && {
        id: row.id,
        livemode: row.livemode,
        customerId: row.customer_id,
        status: row.status,
        quantity: row.quantity,
        stripePriceId: row.stripe_price_id,
        canceledAt: row.canceled_at,
        endedAt: row.ended_at,
        at: row.stripe_updated_at,
      }
    );
  }

  async recordInvoicePayment(link: { paymentIntentId: string; invoiceId: string }): Promise<void> {
    await this.db
      .insertInto('invoice_payments')
      .values({ payment_intent_id: link.paymentIntentId, invoice_id: link.invoiceId })
      .onConflict((oc) => oc.column('payment_intent_id').doNothing())
      .execute();
  }

  async findInvoiceForPaymentIntent(paymentIntentId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('invoice_payments').select('invoice_id').where('payment_intent_id', '=', paymentIntentId).executeTakeFirst();
    return row?.invoice_id;
  }

  async findPaymentIntentForInvoice(invoiceId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('invoice_payments').select('payment_intent_id').where('invoice_id', '=', invoiceId).orderBy('created_at').executeTakeFirst();
    return row?.payment_intent_id;
  }

  async insertSale(sale: NewSale): Promise<Inserted<Sale>> {
    const id = newId('sale');
    const inserted = await this.db
      .insertInto('sales')
      .values({
        id,
        program_id: this.programOfCustomer(sale.customerId),
        livemode: sale.livemode,
        customer_id: sale.customerId ?? null,
        partner_id: sale.partnerId ?? null,
        click_id: sale.clickId ?? null,
        stripe_payment_intent_id: sale.stripePaymentIntentId ?? null,
        stripe_invoice_id: sale.stripeInvoiceId ?? null,
        stripe_checkout_session_id: sale.stripeCheckoutSessionId ?? null,
        stripe_subscription_id: sale.stripeSubscriptionId ?? null,
        external_invoice_id: sale.externalInvoiceId ?? null,
        amount: assertAmount(sale.amount),
        currency: sale.currency.toLowerCase(),
        charge_amount: sale.chargeAmount == null ? null : assertAmount(sale.chargeAmount),
        billing_reason: sale.billingReason ?? null,
        occurred_at: sale.occurredAt,
      })
      // No conflict target: a clash on any of the sale's keys means the sale is already known.
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted) {
      const existing = await this.findSale(sale);
      if (!existing) throw new Error('A sale conflicted on a key but could not be read back');
      return { record: existing, created: false };
    }
    if (sale.lines?.length) {
      await this.db
        .insertInto('sale_lines')
        .values(
          sale.lines.map((line, position) => ({
            sale_id: id,
            position,
            stripe_product_id: line.stripeProductId,
            stripe_price_id: line.stripePriceId,
            description: line.description,
            quantity: line.quantity,
            amount: assertAmount(line.amount, 'line amount'),
          })),
        )
        .execute();
    }
    return { record: toSale(inserted), created: true };
  }

  async findSale(keys: SaleKeys): Promise<Sale | undefined> {
    const present = saleKeyConditions(keys);
    if (present.length === 0) return undefined;
    const row = await this.db
      .selectFrom('sales')
      .selectAll()
      .where((eb) => eb.or(present.map(([column, value]) => eb(column, '=', value))))
      .orderBy('created_at')
      .executeTakeFirst();
    return row && toSale(row);
  }

  async addSaleLines(saleId: string, lines: readonly NewSaleLine[]): Promise<void> {
    if (lines.length === 0) return;
    await this.db
      .insertInto('sale_lines')
      .values(
        lines.map((line, position) => ({
          sale_id: saleId,
          position,
          stripe_product_id: line.stripeProductId,
          stripe_price_id: line.stripePriceId,
          description: line.description,
          quantity: line.quantity,
          amount: assertAmount(line.amount, 'line amount'),
        })),
      )
      .onConflict((oc) => oc.columns(['sale_id', 'position']).doNothing())
      .execute();
  }

  async getSaleLines(saleId: string): Promise<SaleLine[]> {
    const rows = await this.db.selectFrom('sale_lines').selectAll().where('sale_id', '=', saleId).orderBy('position').execute();
    return rows.map((row) => ({
      position: row.position,
      stripeProductId: row.stripe_product_id,
      stripePriceId: row.stripe_price_id,
      description: row.description,
      quantity: row.quantity,
      amount: toAmount(row.amount),
    }));
  }

  async insertCommission(commission: NewCommission): Promise<Inserted<Commission>> {
    const inserted = await this.db
      .insertInto('commissions')
      .values({
        id: newId('com'),
        program_id: this.programOfCustomer(commission.customerId),
        livemode: commission.livemode,
        partner_id: commission.partnerId,
        customer_id: commission.customerId ?? null,
        sale_id: commission.saleId ?? null,
        event_id: commission.eventId ?? null,
        once_key: commission.onceKey ?? null,
        kind: commission.kind,
        status: commission.status,
        amount: assertAmount(commission.amount),
        currency: commission.currency.toLowerCase(),
        reason: commission.reason ?? null,
        hold_until: commission.holdUntil ?? null,
        exact_numerator: (commission.exactNumerator ?? 0n).toString(),
        basis_amount: commission.basisAmount ?? 0,
        approved_at: commission.approvedAt ?? null,
        ...(commission.earnedAt ? { earned_at: commission.earnedAt } : {}),
        ...(commission.conversion
          ? { source_amount: assertAmount(commission.conversion.sourceAmount), converted_amount: assertAmount(commission.conversion.convertedAmount) }
          : {}),
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { record: toCommission(inserted), created: true };
    const onceKey = commission.onceKey;
    let existing = this.db.selectFrom('commissions').selectAll();
    existing = onceKey
      ? existing.where('once_key', '=', onceKey)
      : existing
          .where('partner_id', '=', commission.partnerId)
          .where('kind', '=', commission.kind)
          // Not a trial seat's lead commission, which has a key of its own.
          .where('once_key', 'is', null)
          .where(
            commission.kind === 'lead' ? 'customer_id' : commission.kind === 'event' ? 'event_id' : 'sale_id',
            '=',
            (commission.kind === 'lead' ? commission.customerId : commission.kind === 'event' ? commission.eventId : commission.saleId) ?? null,
          );
    // With a once key, the conflict may be on the milestone instead (a repeat of the same one).
    const found = (await existing.executeTakeFirst()) ?? (onceKey ? await this.eventCommission(commission) : undefined);
    if (!found) throw new Error(`insertCommission: conflicting ${commission.kind} commission not found`);
    return { record: toCommission(found), created: false };
  }

  private eventCommission(commission: NewCommission) {
    return this.db
      .selectFrom('commissions')
      .selectAll()
      .where('kind', '=', 'event')
      .where('event_id', '=', commission.eventId ?? null)
      .where('partner_id', '=', commission.partnerId)
      .executeTakeFirst();
  }

  async insertMilestone(milestone: NewMilestone): Promise<Inserted<Milestone>> {
    const inserted = await this.db
      .insertInto('milestones')
      .values({
        id: newId('mls'),
        program_id: this.programOfCustomer(milestone.customerId),
        livemode: milestone.livemode,
        name: milestone.name,
        idempotency_key: milestone.idempotencyKey,
        customer_id: milestone.customerId,
        partner_id: milestone.partnerId,
        click_id: milestone.clickId,
        value: milestone.value === null ? null : assertAmount(milestone.value),
        currency: milestone.currency?.toLowerCase() ?? null,
        occurred_at: milestone.occurredAt,
      })
      .onConflict((oc) => oc.columns(['livemode', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { record: toMilestone(inserted), created: true };
    return { record: (await this.findMilestone(milestone))!, created: false };
  }

  async findMilestone(by: { livemode: boolean; idempotencyKey: string }): Promise<Milestone | undefined> {
    const row = await this.db
      .selectFrom('milestones')
      .selectAll()
      .where('livemode', '=', by.livemode)
      .where('idempotency_key', '=', by.idempotencyKey)
      .executeTakeFirst();
    return row && toMilestone(row);
  }

  async listMilestones(filter: { partnerId?: string; customerId?: string; programId?: string; name?: string; livemode?: boolean }): Promise<Milestone[]> {
    let query = this.db.selectFrom('milestones').selectAll().orderBy('occurred_at').orderBy('created_at').orderBy('id');
    if (filter.partnerId) query = query.where('partner_id', '=', filter.partnerId);
    if (filter.programId) query = query.where('program_id', '=', filter.programId);
    if (filter.customerId) query = query.where('customer_id', '=', filter.customerId);
    if (filter.name) query = query.where('name', '=', filter.name);
    if (filter.livemode !== undefined) query = query.where('livemode', '=', filter.livemode);
    return (await query.execute()).map(toMilestone);
  }

  async lockRewardTerms<T>(
    customerId: string,
    first: { terms: T; saleId: string; at: Date },
  ): Promise<{ terms: T; saleId: string; at: Date; replaced: { saleId: string; at: Date } | null }> {
    // One statement: the CTE takes the row lock and reads the anchor as of this turn (the latest
    // committed one under READ COMMITTED), the update moves it only to an earlier (at, id), and the
    // loser's coalesce keeps the winner's terms. Both SET expressions read the row before the update.
    const earlier = sql<boolean>`(first_sale_at is null or (${first.at}::timestamptz, ${first.saleId}::text) < (first_sale_at, first_sale_id))`;
    const row = await this.db
      .with('previous', (db) =>
        db.selectFrom('customers').select(['first_sale_id as previous_sale_id', 'first_sale_at as previous_sale_at']).where('id', '=', customerId).forUpdate(),
      )
      .updateTable('customers')
      .from('previous')
      .set({
        reward_terms: sql<string>`coalesce(reward_terms, ${JSON.stringify(first.terms)}::jsonb)`,
        first_sale_id: sql<string>`case when ${earlier} then ${first.saleId} else first_sale_id end`,
        first_sale_at: sql<Date>`case when ${earlier} then ${first.at}::timestamptz else first_sale_at end`,
      })
      .where('customers.id', '=', customerId)
      .returning(['reward_terms', 'first_sale_id', 'first_sale_at', 'previous.previous_sale_id', 'previous.previous_sale_at'])
      .executeTakeFirstOrThrow();
    const moved = row.previous_sale_id !== null && row.previous_sale_id !== row.first_sale_id;
    return {
      terms: row.reward_terms as T,
      saleId: row.first_sale_id!,
      at: row.first_sale_at!,
      replaced: moved ? { saleId: row.previous_sale_id!, at: row.previous_sale_at! } : null,
    };
  }

  async listCustomerSaleCommissions(customerId: string): Promise<Array<{ commission: Commission; saleOccurredAt: Date }>> {
    const rows = await this.db
      .selectFrom('commissions')
      .innerJoin('sales', 'sales.id', 'commissions.sale_id')
      .selectAll('commissions')
      .select('sales.occurred_at as sale_occurred_at')
      .where('commissions.customer_id', '=', customerId)
      .where('commissions.kind', '=', 'sale')
      .orderBy('sales.occurred_at')
      .orderBy('commissions.id')
      .execute();
    return rows.map(({ sale_occurred_at, ...row }) => ({ commission: toCommission(row), saleOccurredAt: sale_occurred_at }));
  }

  async endCommissionReward(id: string): Promise<Commission> {
    const row = await this.db.updateTable('commissions').set({ exact_numerator: '0', updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
    return toCommission(row);
  }

  async claimStripeMetadataWrite(customerId: string, at: Date): Promise<boolean> {
    const claimed = await this.db
      .updateTable('customers')
      .set({ stripe_metadata_written_at: at })
      .where('id', '=', customerId)
      .where('stripe_metadata_written_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    return claimed !== undefined;
  }

  async blockCustomer(customerId: string, reason: string): Promise<void> {
    await this.db.updateTable('customers').set({ blocked_reason: reason }).where('id', '=', customerId).where('blocked_reason', 'is', null).execute();
  }

  async setPartnerReward(partnerId: string, reward: unknown, programId = DEFAULT_PROGRAM_ID): Promise<void> {
    const value = reward === null ? null : JSON.stringify(reward);
    await this.db
      .insertInto('partner_programs')
      .values({ partner_id: partnerId, program_id: programId, reward: value })
      .onConflict((oc) => oc.columns(['partner_id', 'program_id']).doUpdateSet({ reward: value }))
      .execute();
  }

  async getPartnerReward(partnerId: string, programId = DEFAULT_PROGRAM_ID): Promise<unknown> {
    const row = await this.db.selectFrom('partner_programs').select('reward').where('partner_id', '=', partnerId).where('program_id', '=', programId).executeTakeFirst();
    return row?.reward ?? null;
  }

  async listPartnerPrograms(partnerId: string): Promise<PartnerProgram[]> {
    const rows = await this.db.selectFrom('partner_programs').select(['program_id', 'reward', 'group_id']).where('partner_id', '=', partnerId).orderBy('created_at').orderBy('program_id').execute();
    return rows.map((row) => ({ programId: row.program_id, reward: row.reward ?? null, groupId: row.group_id }));
  }

  async getPartnerTerms(partnerId: string, programId: string): Promise<{ reward: unknown; groupReward: unknown }> {
    const row = await this.db
      .selectFrom('partner_programs')
      .leftJoin('partner_groups', 'partner_groups.id', 'partner_programs.group_id')
      .select(['partner_programs.reward', 'partner_groups.reward as group_reward'])
      .where('partner_programs.partner_id', '=', partnerId)
      .where('partner_programs.program_id', '=', programId)
      .executeTakeFirst();
    return { reward: row?.reward ?? null, groupReward: row?.group_reward ?? null };
  }

  async insertPartnerGroup(group: { programId: string; name: string; reward: unknown }): Promise<PartnerGroupRecord> {
    const row = await this.db
      .insertInto('partner_groups')
      .values({ id: newId('grp'), program_id: group.programId, name: group.name, reward: group.reward === null ? null : JSON.stringify(group.reward) })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toPartnerGroup(row);
  }

  async getPartnerGroup(id: string): Promise<PartnerGroupRecord | undefined> {
    const row = await this.db.selectFrom('partner_groups').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toPartnerGroup(row);
  }

  async listPartnerGroups(filter: { programId?: string }): Promise<PartnerGroupRecord[]> {
    let query = this.db.selectFrom('partner_groups').selectAll().orderBy('program_id').orderBy('name').orderBy('id');
    if (filter.programId) query = query.where('program_id', '=', filter.programId);
    return (await query.execute()).map(toPartnerGroup);
  }

  async setPartnerGroupReward(id: string, reward: unknown): Promise<void> {
    await this.db.updateTable('partner_groups').set({ reward: reward === null ? null : JSON.stringify(reward) }).where('id', '=', id).execute();
  }

  async assignPartnerGroup(partnerId: string, groupId: string): Promise<boolean> {
    const row = await this.db
      .insertInto('partner_programs')
      .columns(['partner_id', 'program_id', 'group_id'])
      .expression((eb) => eb.selectFrom('partner_groups').select([eb.val(partnerId).as('partner_id'), 'program_id', 'id']).where('id', '=', groupId))
      .onConflict((oc) => oc.columns(['partner_id', 'program_id']).doUpdateSet((eb) => ({ group_id: eb.ref('excluded.group_id') })))
      .returning('program_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async removePartnerGroup(partnerId: string, programId: string): Promise<void> {
    await this.db.updateTable('partner_programs').set({ group_id: null }).where('partner_id', '=', partnerId).where('program_id', '=', programId).execute();
  }

  async findSaleCommission(saleId: string, partnerId: string): Promise<Commission | undefined> {
    const row = await this.db
      .selectFrom('commissions')
      .selectAll()
      .where('sale_id', '=', saleId)
      .where('partner_id', '=', partnerId)
      .where('kind', '=', 'sale')
      .executeTakeFirst();
    return row && toCommission(row);
  }

  async getCommission(id: string): Promise<Commission | undefined> {
    const row = await this.db.selectFrom('commissions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toCommission(row);
  }

  async recordedForSale(saleId: string): Promise<number> {
    const { total } = await this.db
      .selectFrom('commissions')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<string | number>('amount'), eb.val(0)).as('total'))
      .where('sale_id', '=', saleId)
      .where('kind', 'in', ['sale', 'clawback'])
      .executeTakeFirstOrThrow();
    return toAmount(total as string | number);
  }

  async adjustCommission(
    id: string,
    change: { delta: number; reason: string; status?: CommissionStatus; statusBeforeHold?: CommissionStatus | null },
  ): Promise<Commission> {
    if (change.delta !== 0) {
      await this.db
        .insertInto('commission_adjustments')
        .values({ id: newId('adj'), commission_id: id, amount: assertAmount(change.delta), reason: change.reason })
        .execute();
    }
    const row = await this.db
      .updateTable('commissions')
      .set((eb) => ({
        amount: eb('amount', '+', change.delta) as never,
        updated_at: new Date(),
        ...(change.status ? { status: change.status } : {}),
        ...(change.statusBeforeHold !== undefined ? { status_before_hold: change.statusBeforeHold } : {}),
        ...(change.status === 'voided' ? { reason: change.reason } : {}),
      }))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toCommission(row);
  }

  async disputeTotals(saleId: string): Promise<{ open: number; lost: number }> {
    const rows = await this.db.selectFrom('sale_disputes').select(['amount', 'status']).where('sale_id', '=', saleId).execute();
    let open = 0;
    let lost = 0;
    for (const row of rows) {
      if (row.status === 'lost') lost += toAmount(row.amount);
      else if (OPEN_DISPUTE.includes(row.status)) open += toAmount(row.amount);
    }
    return { open, lost };
  }

  async lockSale(saleId: string): Promise<Sale | undefined> {
    const row = await this.db.selectFrom('sales').selectAll().where('id', '=', saleId).forUpdate().executeTakeFirst();
    return row && toSale(row);
  }

  async approveDueCommissions(now: Date): Promise<number> {
    const result = await this.db
      .updateTable('commissions')
      .set({ status: 'approved', approved_at: now, updated_at: now })
      .where('status', '=', 'pending')
      .where('hold_until', '<=', now)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async approveCommissions(ids: readonly string[], now: Date): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.db
      .updateTable('commissions')
      .set({ status: 'approved', approved_at: now, updated_at: now })
      .where('status', '=', 'pending')
      .where('id', 'in', [...ids])
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async markCommissionsPaid(ids: readonly string[], paidAt: Date, payoutId: string | null): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.db
      .updateTable('commissions')
      .set({ status: 'paid', paid_at: paidAt, payout_id: payoutId, updated_at: paidAt })
      .where('id', 'in', [...ids])
      .where('status', '=', 'approved')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async createPayouts(request: { minimumAmount: number; currency?: string; programId?: string; livemode: boolean }): Promise<Payout[]> {
    let candidates = this.db
      .selectFrom('commissions')
      .select(['partner_id', 'program_id', 'currency'])
      .select((eb) => eb.fn.sum<string | number>('amount').as('total'))
      .where('status', '=', 'approved')
      .where('payout_id', 'is', null)
      .where('livemode', '=', request.livemode)
      .groupBy(['partner_id', 'program_id', 'currency']);
    if (request.currency) candidates = candidates.where('currency', '=', request.currency.toLowerCase());
    if (request.programId) candidates = candidates.where('program_id', '=', request.programId);
    const created: string[] = [];
    for (const group of await candidates.execute()) {
      if (toAmount(group.total) < Math.max(request.minimumAmount, 1)) continue;
      const id = newId('po');
      await this.db
        .insertInto('payouts')
        .values({ id, partner_id: group.partner_id, program_id: group.program_id, livemode: request.livemode, currency: group.currency, amount: 0, status: 'pending' })
        .execute();
      const claimed = await this.db
        .updateTable('commissions')
        .set({ payout_id: id })
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('commissions')
            .select('id')
            .where('partner_id', '=', group.partner_id)
            .where('program_id', '=', group.program_id)
            .where('currency', '=', group.currency)
            .where('livemode', '=', request.livemode)
            .where('status', '=', 'approved')
            .where('payout_id', 'is', null)
            .forUpdate()
            .skipLocked(),
        )
        .returning('amount')
        .execute();
      const amount = claimed.reduce((sum, row) => sum + toAmount(row.amount), 0);
      if (amount < Math.max(request.minimumAmount, 1)) {
        // Another payout run took part of it meanwhile: give the rest back for the next run.
        await this.db.updateTable('commissions').set({ payout_id: null }).where('payout_id', '=', id).execute();
        await this.db.deleteFrom('payouts').where('id', '=', id).execute();
        continue;
      }
      await this.db.updateTable('payouts').set({ amount }).where('id', '=', id).execute();
      created.push(id);
    }
    if (created.length === 0) return [];
    return (await this.payoutQuery().where('payouts.id', 'in', created).execute()).map(toPayout);
  }

  async listPayouts(filter: { status?: 'pending' | 'paid'; livemode?: boolean; partnerId?: string; programId?: string }): Promise<Payout[]> {
    let query = this.payoutQuery();
    if (filter.programId) query = query.where('payouts.program_id', '=', filter.programId);
    if (filter.status) query = query.where('payouts.status', '=', filter.status);
    if (filter.livemode !== undefined) query = query.where('payouts.livemode', '=', filter.livemode);
    if (filter.partnerId) query = query.where('payouts.partner_id', '=', filter.partnerId);
    return (await query.execute()).map(toPayout);
  }

  async markPayoutPaid(id: string, paidAt: Date): Promise<Payout | undefined> {
    const updated = await this.db.updateTable('payouts').set({ status: 'paid', paid_at: paidAt }).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
    if (updated.numUpdatedRows > 0n) {
      await this.db.updateTable('commissions').set({ status: 'paid', paid_at: paidAt, updated_at: paidAt }).where('payout_id', '=', id).where('status', '=', 'approved').execute();
    }
    const row = await this.payoutQuery().where('payouts.id', '=', id).executeTakeFirst();
    return row && toPayout(row);
  }

  private payoutQuery() {
    return this.db
      .selectFrom('payouts')
      .innerJoin('partners', 'partners.id', 'payouts.partner_id')
      .selectAll('payouts')
      .select(['partners.name as partner_name', 'partners.email as partner_email'])
      .orderBy('payouts.created_at')
      .orderBy('payouts.id');
  }

  async report(request: ReportRequest): Promise<ReportRow[]> {
    const period = (column: string) =>
      request.interval === 'all' ? sql<Date>`${request.from}::timestamptz` : sql<Date>`date_trunc(${request.interval}, ${sql.ref(column)}, 'UTC')`;
    const partner = request.partnerId;
    const program = request.programId;
    // Clicks (either mode: a visit has none) and leads (customers credited in the period), per partner and period.
    const counted = (table: 'clicks' | 'customers', column: 'created_at' | 'attributed_at') =>
      this.db
        .selectFrom(table as 'clicks')
        .select(['partner_id', period(column).as('period'), (eb) => eb.fn.countAll<string | number>().as('n')])
        .where('partner_id', 'is not', null)
        .where(sql.ref(column), '>=', request.from)
        .where(sql.ref(column), '<', request.to)
        .$if(table === 'customers', (q) => q.where(sql.ref('livemode'), '=', request.livemode))
        .$if(partner !== undefined, (q) => q.where('partner_id', '=', partner!))
        .$if(program !== undefined, (q) => q.where('program_id', '=', program!))
        .groupBy(['partner_id', sql`2`])
        .execute();
    // Independent reads: on a pool they run at once, so the report costs one round trip, not five.
    const [clicks, leads, milestones, sales, commissions] = await Promise.all([
      counted('clicks', 'created_at'),
      counted('customers', 'attributed_at'),
      this.db
        .selectFrom('milestones')
        .select((eb) => ['partner_id', 'name', period('occurred_at').as('period'), eb.fn.countAll<string | number>().as('n')])
        .where('partner_id', 'is not', null)
        .where('livemode', '=', request.livemode)
        .where('occurred_at', '>=', request.from)
        .where('occurred_at', '<', request.to)
        .$if(partner !== undefined, (q) => q.where('partner_id', '=', partner!))
        .$if(program !== undefined, (q) => q.where('program_id', '=', program!))
        .groupBy(['partner_id', 'name', sql`3`])
        .execute(),
      this.db
        .selectFrom('sales')
        .select((eb) => [
          'partner_id',
          'currency',
          period('occurred_at').as('period'),
          eb.fn.countAll<string | number>().as('n'),
          eb.fn.sum<string | number>('amount').as('revenue'),
          eb.fn.sum<string | number>(sql`amount_refunded + amount_credited`).as('refunded'),
        ])
        .where('partner_id', 'is not', null)
        .where('livemode', '=', request.livemode)
        .where('occurred_at', '>=', request.from)
        .where('occurred_at', '<', request.to)
        .$if(partner !== undefined, (q) => q.where('partner_id', '=', partner!))
        .$if(program !== undefined, (q) => q.where('program_id', '=', program!))
        .groupBy(['partner_id', 'currency', sql`3`])
        .execute(),
      this.db
        .selectFrom('commissions')
        .select((eb) => ['partner_id', 'currency', 'status', period('earned_at').as('period'), eb.fn.sum<string | number>('amount').as('total')])
        .where('livemode', '=', request.livemode)
        .where('earned_at', '>=', request.from)
        .where('earned_at', '<', request.to)
        .$if(partner !== undefined, (q) => q.where('partner_id', '=', partner!))
        .$if(program !== undefined, (q) => q.where('program_id', '=', program!))
        .groupBy(['partner_id', 'currency', 'status', sql`4`])
        .execute(),
    ]);

    const rows = new Map<string, ReportRow>();
    const row = (partnerId: string, at: Date) => {
      const key = `${partnerId}|${new Date(at).toISOString()}`;
      let found = rows.get(key);
      if (!found) rows.set(key, (found = { partnerId, period: new Date(at), clicks: 0, leads: 0, events: {}, currencies: {} }));
      return found;
    };
    const totals = (target: ReportRow, currency: string) =>
      (target.currencies[currency] ??= { sales: 0, revenue: 0, refunded: 0, commissions: { pending: 0, approved: 0, held: 0, paid: 0, voided: 0 } });
    for (const c of clicks) row(c.partner_id, c.period).clicks = Number(c.n);
    for (const l of leads) row(l.partner_id, l.period).leads = Number(l.n);
    for (const m of milestones) row(m.partner_id!, m.period).events[m.name] = Number(m.n);
    for (const s of sales) {
      const t = totals(row(s.partner_id!, s.period), s.currency);
      t.sales = Number(s.n);
      t.revenue = toAmount(s.revenue);
      t.refunded = toAmount(s.refunded);
    }
    for (const c of commissions) totals(row(c.partner_id, c.period), c.currency).commissions[c.status as CommissionStatus] = toAmount(c.total);
    return [...rows.values()].sort((a, b) => a.period.getTime() - b.period.getTime() || a.partnerId.localeCompare(b.partnerId));
  }

  async listCommissions(filter: { partnerId?: string; saleId?: string; customerId?: string; programId?: string }): Promise<Commission[]> {
    let query = this.db.selectFrom('commissions').selectAll().orderBy('created_at').orderBy('id');
    if (filter.programId) query = query.where('program_id', '=', filter.programId);
    if (filter.partnerId) query = query.where('partner_id', '=', filter.partnerId);
    if (filter.saleId) query = query.where('sale_id', '=', filter.saleId);
    if (filter.customerId) query = query.where('customer_id', '=', filter.customerId);
    return (await query.execute()).map(toCommission);
  }

  async recordWebhookEvent(event: WebhookEventRecord): Promise<boolean> {
    const inserted = await this.db
      .insertInto('webhook_events')
      .values({
        id: event.id,
        type: event.type,
        livemode: event.livemode,
        api_version: event.apiVersion,
        stripe_created_at: event.createdAt,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async hasWebhookEvent(id: string): Promise<boolean> {
    const row = await this.db.selectFrom('webhook_events').select('id').where('id', '=', id).executeTakeFirst();
    return row !== undefined;
  }

  async parkEvent(parked: { eventId: string; waitingFor: string; event: unknown }): Promise<void> {
    await this.db
      .insertInto('parked_events')
      .values({ event_id: parked.eventId, waiting_for: parked.waitingFor, event: JSON.stringify(parked.event) })
      .onConflict((oc) => oc.column('event_id').doUpdateSet({ waiting_for: parked.waitingFor }))
      .execute();
  }

  async takeParkedEvents(waitingFor?: string): Promise<ParkedEvent[]> {
    let pick = this.db.selectFrom('parked_events').select('event_id').orderBy('parked_at').forUpdate().skipLocked();
    if (waitingFor !== undefined) pick = pick.where('waiting_for', '=', waitingFor);
    const rows = await this.db
      .deleteFrom('parked_events')
      .where('event_id', 'in', pick)
      .returningAll()
      .execute();
    return rows
      .map(
        (row): ParkedEvent => ({
          eventId: row.event_id,
          waitingFor: row.waiting_for,
          event: row.event,
          attempts: row.attempts,
          lastError: row.last_error,
          parkedAt: row.parked_at,
        }),
      )
      .sort((a, b) => a.parkedAt.getTime() - b.parkedAt.getTime());
  }

  async listParkedEventIds(maxAttempts: number): Promise<string[]> {
    const rows = await this.db.selectFrom('parked_events').select('event_id').where('attempts', '<', maxAttempts).orderBy('parked_at').execute();
    return rows.map((row) => row.event_id);
  }

  async takeParkedEvent(eventId: string): Promise<ParkedEvent | undefined> {
    const pick = this.db.selectFrom('parked_events').select('event_id').where('event_id', '=', eventId).forUpdate().skipLocked();
    const row = await this.db.deleteFrom('parked_events').where('event_id', 'in', pick).returningAll().executeTakeFirst();
    return (
      row && { eventId: row.event_id, waitingFor: row.waiting_for, event: row.event, attempts: row.attempts, lastError: row.last_error, parkedAt: row.parked_at }
    );
  }

  async recordParkedFailure(eventId: string, error: string, attempts?: number): Promise<void> {
    await this.db
      .updateTable('parked_events')
      .set((eb) => ({ attempts: (attempts ?? eb('attempts', '+', 1)) as never, last_error: error.slice(0, 2000) }))
      .where('event_id', '=', eventId)
      .execute();
  }

  async countParkedEvents(): Promise<number> {
    const { count } = await this.db
      .selectFrom('parked_events')
      .select((eb) => eb.fn.countAll<string | number>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(count);
  }
}

/** The one Storage implementation: Postgres through Kysely, on a server or embedded (PGlite). */
export function createKyselyStorage(options: KyselyStorageOptions): KyselyStorage {
  return new KyselyStorage(options);
}

export class KyselyStorage extends KyselyOperationsBase implements Storage {
  readonly layout: TableLayout;
  readonly #options: KyselyStorageOptions;
  #closed = false;

  constructor(options: KyselyStorageOptions) {
    const layout = resolveLayout(options);
    super(scopeDatabase(options.db as Kysely<Database>, layout));
    this.layout = layout;
    this.#options = options;
  }

  migrate(): Promise<MigrationReport> {
    return migrateToLatest(this.#options.db, this.layout);
  }

  transaction<T>(fn: (tx: StorageOperations) => Promise<T>): Promise<T> {
    return (this.db as Kysely<Database>).transaction().execute((trx) => fn(new KyselyOperationsBase(trx)));
  }

  forgetCustomer(request: { externalId: string; livemode?: boolean }): Promise<string[]> {
    return (this.db as Kysely<Database>).transaction().execute(async (trx) => {
      const byId = await trx
        .selectFrom('customers')
        .select(['id', 'livemode', 'email', 'name'])
        .where('external_id', '=', request.externalId)
        .$if(request.livemode !== undefined, (q) => q.where('livemode', '=', request.livemode!))
        .forUpdate()
        .execute();
      if (byId.length === 0) return [];
      const emails = byId.flatMap((row) => (row.email ? [row.email] : []));
      // The same person's purchases Stripe reported before they were linked to the user id.
      const byEmail =
        emails.length === 0
          ? []
          : await trx
              .selectFrom('customers')
              .select(['id', 'livemode', 'email', 'name'])
              .where('email', 'in', emails)
              .where('external_id', 'is', null)
              .where('livemode', 'in', [...new Set(byId.map((row) => row.livemode))])
              .forUpdate()
              .execute();
      const forgotten = [...byId, ...byEmail];
      const ids = forgotten.map((row) => row.id);

      await trx
        .updateTable('clicks')
        .set({ landing_url: null, referrer: null, user_agent: null, ip_hash: null, country: null })
        .where((eb) =>
          eb.or([
            eb('id', 'in', eb.selectFrom('customers').select('click_id').where('id', 'in', ids).where('click_id', 'is not', null)),
            eb('id', 'in', eb.selectFrom('sales').select('click_id').where('customer_id', 'in', ids).where('click_id', 'is not', null)),
          ]),
        )
        .execute();
      await trx
        .updateTable('customers')
        .set((eb) => ({ email: null, name: null, external_id: sql<string>`${FORGOTTEN_PREFIX} || ${eb.ref('id')}` }))
        .where('id', 'in', ids)
        .execute();

      const tombstones = new Map(forgotten.map((row) => [row.livemode, `${FORGOTTEN_PREFIX}${row.id}`]));
      const names = forgotten.flatMap((row) => (row.name ? [row.name] : []));
      const erasedEmails = forgotten.flatMap((row) => (row.email ? [row.email] : []));
      for (const parked of await trx.selectFrom('parked_events').select(['event_id', 'event']).forUpdate().execute()) {
        const livemode = (parked.event as { livemode?: boolean } | null)?.livemode === true;
        const externalIds = new Map([[request.externalId, tombstones.get(livemode) ?? null]]);
        const redacted = redactPayload(parked.event, { emails: erasedEmails, names, externalIds });
        if (redacted !== undefined) await trx.updateTable('parked_events').set({ event: JSON.stringify(redacted) }).where('event_id', '=', parked.event_id).execute();
      }
      return ids;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#options.onClose?.();
  }
}

type Row<T extends keyof Database> = Selectable<Database[T]>;

/** Dispute statuses still undecided; `warning_*` inquiries are not chargebacks and never count. */
const OPEN_DISPUTE: readonly string[] = ['needs_response', 'under_review'];

function saleKeyConditions(keys: SaleKeys) {
  const conditions = [
    ['stripe_payment_intent_id', keys.stripePaymentIntentId],
    ['stripe_invoice_id', keys.stripeInvoiceId],
    ['stripe_checkout_session_id', keys.stripeCheckoutSessionId],
    ['external_invoice_id', keys.externalInvoiceId],
  ] as const;
  return conditions.filter((entry): entry is [(typeof entry)[0], string] => Boolean(entry[1]));
}

function toPayout(row: Row<'payouts'> & { partner_name: string; partner_email: string | null }): Payout {
  return {
    id: row.id,
    partnerId: row.partner_id,
    programId: row.program_id,
    partnerName: row.partner_name,
    partnerEmail: row.partner_email,
    livemode: row.livemode,
    currency: row.currency,
    amount: toAmount(row.amount),
    status: row.status as Payout['status'],
    createdAt: row.created_at,
    paidAt: row.paid_at,
  };
}

function toPartner(row: Row<'partners'>): Partner {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    status: row.status as PartnerStatus,
    metadata: row.metadata,
    createdAt: row.created_at,
  };
}

function toLink(row: Row<'links'>): Link {
  return { code: row.code, partnerId: row.partner_id, programId: row.program_id, createdAt: row.created_at, disabledAt: row.disabled_at };
}

function toPartnerGroup(row: Row<'partner_groups'>): PartnerGroupRecord {
  return { id: row.id, programId: row.program_id, name: row.name, reward: row.reward ?? null, createdAt: row.created_at };
}

function toPromotionCode(row: Row<'promotion_codes'>): PromotionCode {
  return { id: row.id, partnerId: row.partner_id, programId: row.program_id, createdAt: row.created_at };
}

function clickRow(click: NewClick) {
  return {
    id: click.id,
    partner_id: click.partnerId,
    program_id: click.programId ?? DEFAULT_PROGRAM_ID,
    link_code: click.linkCode.toLowerCase(),
    landing_url: click.landingUrl,
    referrer: click.referrer,
    user_agent: click.userAgent,
    ip_hash: click.ipHash,
    country: click.country,
    created_at: click.createdAt,
  };
}

function toClick(row: Row<'clicks'>): Click {
  return {
    id: row.id,
    partnerId: row.partner_id,
    programId: row.program_id,
    linkCode: row.link_code,
    landingUrl: row.landing_url,
    referrer: row.referrer,
    userAgent: row.user_agent,
    ipHash: row.ip_hash,
    country: row.country,
    createdAt: row.created_at,
  };
}

function toCustomer(row: Row<'customers'>): Customer {
  return {
    id: row.id,
    programId: row.program_id,
    livemode: row.livemode,
    externalId: row.external_id,
    stripeCustomerId: row.stripe_customer_id,
    email: row.email,
    name: row.name,
    partnerId: row.partner_id,
    clickId: row.click_id,
    attributedBy: row.attributed_by as AttributionSource | null,
    attributedAt: row.attributed_at,
    blockedReason: row.blocked_reason,
    createdAt: row.created_at,
  };
}

function toSale(row: Row<'sales'>): Sale {
  return {
    id: row.id,
    programId: row.program_id,
    livemode: row.livemode,
    customerId: row.customer_id,
    partnerId: row.partner_id,
    clickId: row.click_id,
    stripePaymentIntentId: row.stripe_payment_intent_id,
    stripeInvoiceId: row.stripe_invoice_id,
    stripeCheckoutSessionId: row.stripe_checkout_session_id,
    stripeSubscriptionId: row.stripe_subscription_id,
    externalInvoiceId: row.external_invoice_id,
    amount: toAmount(row.amount),
    currency: row.currency,
    amountRefunded: toAmount(row.amount_refunded),
    amountDisputed: toAmount(row.amount_disputed),
    amountCredited: toAmount(row.amount_credited),
    chargeAmount: row.charge_amount == null ? null : toAmount(row.charge_amount),
    billingReason: row.billing_reason,
    occurredAt: row.occurred_at,
    createdAt: row.created_at,
  };
}

function toMilestone(row: Row<'milestones'>): Milestone {
  return {
    id: row.id,
    programId: row.program_id,
    livemode: row.livemode,
    name: row.name,
    idempotencyKey: row.idempotency_key,
    customerId: row.customer_id,
    partnerId: row.partner_id,
    clickId: row.click_id,
    value: row.value === null ? null : toAmount(row.value),
    currency: row.currency,
    occurredAt: row.occurred_at,
    createdAt: row.created_at,
  };
}

function toCommission(row: Row<'commissions'>): Commission {
  return {
    id: row.id,
    programId: row.program_id,
    livemode: row.livemode,
    partnerId: row.partner_id,
    customerId: row.customer_id,
    saleId: row.sale_id,
    eventId: row.event_id,
    kind: row.kind as CommissionKind,
    status: row.status as CommissionStatus,
    amount: toAmount(row.amount),
    currency: row.currency,
    reason: row.reason,
    holdUntil: row.hold_until,
    exactNumerator: BigInt(row.exact_numerator),
    basisAmount: toAmount(row.basis_amount),
    statusBeforeHold: row.status_before_hold as CommissionStatus | null,
    approvedAt: row.approved_at,
    paidAt: row.paid_at,
    payoutId: row.payout_id,
    conversion:
      row.source_amount === null || row.converted_amount === null
        ? null
        : { sourceAmount: toAmount(row.source_amount), convertedAmount: toAmount(row.converted_amount) },
    createdAt: row.created_at,
  };
}
