import { sql, type ExpressionBuilder } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { toClick, type Click } from './clicks.js';
import { toCustomer, type Customer } from './customers.js';
import { toPartner, type Partner } from './partners.js';
import type { Db, Row } from './rows.js';
import type { Database } from './schema.js';
import { saleKeyConditions, type SaleKeys } from './sale-keys.js';

/** What a purchase names about its buyer: the identifiers DESIGN §3 looks a buyer up by. */
export interface EvidenceRequest {
  livemode: boolean;
  /** Click ids (ours and other tools'), any order: each is looked up once. */
  clickIds: readonly string[];
  stripeCustomerId: string | null;
  /** `sa_customer_key`, within `livemode`. */
  customerKey: string | null;
  /** Within `livemode`; compared lower-cased. */
  email: string | null;
  /** The purchase being attributed: a customer's `hasEarlierSales` and `hasLaterUnattributedSales` do not count it. */
  purchase?: SaleKeys;
  /**
   * The purchase's Stripe time: a customer's sales before it are earlier purchases, those at or
   * after it later ones (DESIGN §5 judges by Stripe time, not delivery order). Without it, every
   * other sale counts as earlier.
   */
  at?: Date;
  /** The purchase's subscription, whose end is read along (a sale after a churn earns nothing). */
  stripeSubscriptionId?: string | null;
}

/** A partner's rewards in one program, most specific first (as `getPartnerTerms`). */
export interface PartnerTerms {
  reward: unknown;
  groupReward: unknown;
}

/** A stored click the purchase names, with its partner. */
export interface EvidenceClick {
  click: Click;
  partner: Partner;
  /** The partner's terms in the click's program. */
  terms: PartnerTerms;
}

/** A customer (in any program) the purchase's identifiers match. */
export interface EvidenceCustomer {
  customer: Customer;
  /** Its partner, when attributed, and the partner's terms in the customer's program. */
  partner: Partner | null;
  terms: PartnerTerms;
  /** Which of the request's identifiers it matched. */
  matchedBy: { stripeCustomerId: boolean; customerKey: boolean; email: boolean };
  /** Whether a sale other than the request's `purchase` is recorded for it before the request's `at`. */
  hasEarlierSales: boolean;
  /** Whether an unattributed sale other than the request's `purchase` is recorded for it at or after the request's `at`. */
  hasLaterUnattributedSales: boolean;
  /**
   * Its place when several match one identifier: the attributed first (by time of attribution),
   * then the oldest — the order the customer look-ups speak for a person in.
   */
  rank: number;
}

export interface AttributionEvidence {
  clicks: EvidenceClick[];
  customers: EvidenceCustomer[];
  /** When the purchase's subscription ended; null when it has not, is not stored, or none was asked for. */
  subscriptionEndedAt: Date | null;
}

/**
 * Everything the attribution of one purchase reads, in one statement at the start of its
 * transaction (DESIGN §3 is then decided without going back to the database). A plain read: what it
 * returns may be changed by a concurrent transaction before this one writes, so every write the
 * decision leads to stays conditional (`insertCustomer`, `attributeCustomer`).
 */
export interface AttributionEvidenceStore {
  readAttributionEvidence(request: EvidenceRequest): Promise<AttributionEvidence>;
}

export function attributionEvidenceStore(db: Db): AttributionEvidenceStore {
  return {
    async readAttributionEvidence(request: EvidenceRequest): Promise<AttributionEvidence> {
      const { livemode, stripeCustomerId, customerKey } = request;
      const email = request.email?.toLowerCase() ?? null;
      const clickIds = [...new Set(request.clickIds)];
      const subscriptionId = request.stripeSubscriptionId ?? null;
      if (clickIds.length === 0 && !stripeCustomerId && !customerKey && !email && !subscriptionId) return { clicks: [], customers: [], subscriptionEndedAt: null };
      const except = saleKeyConditions(request.purchase ?? {});
      const at = request.at ?? null;
      // The customer's (`cu`) sales other than the purchase being attributed.
      const otherSales = (c: ExpressionBuilder<Database & { cu: Database['customers'] }, 'cu'>) =>
        c
          .selectFrom('sales as s')
          .select('s.id')
          .whereRef('s.customer_id', '=', 'cu.id')
          // `is distinct from`: a sale with no value in a key column is a different sale, not an unknown one.
          .where((w) => w.and(except.map(([column, value]) => w(`s.${column}` as const, 'is distinct from', value))));
      const row = await db
        .selectNoFrom((eb) => [
          jsonArrayFrom(
            eb
              .selectFrom('clicks as k')
              .innerJoin('partners as p', 'p.id', 'k.partner_id')
              .leftJoin('partner_programs as pp', (join) => join.onRef('pp.partner_id', '=', 'k.partner_id').onRef('pp.program_id', '=', 'k.program_id'))
              .leftJoin('partner_groups as g', 'g.id', 'pp.group_id')
              .select([sql<Row<'clicks'>>`to_jsonb(k)`.as('click'), sql<Row<'partners'>>`to_jsonb(p)`.as('partner'), 'pp.reward', 'g.reward as group_reward'])
              .where((w) => (clickIds.length ? w('k.id', 'in', clickIds) : sql<boolean>`false`)),
          ).as('clicks'),
          jsonArrayFrom(
            eb
              .selectFrom('customers as cu')
              .leftJoin('partners as p', 'p.id', 'cu.partner_id')
              .leftJoin('partner_programs as pp', (join) => join.onRef('pp.partner_id', '=', 'cu.partner_id').onRef('pp.program_id', '=', 'cu.program_id'))
              .leftJoin('partner_groups as g', 'g.id', 'pp.group_id')
              .select((c) => [
                'pp.reward',
                'g.reward as group_reward',
                sql<Row<'customers'>>`to_jsonb(cu)`.as('customer'),
                sql<Row<'partners'> | null>`case when p.id is null then null else to_jsonb(p) end`.as('partner'),
                c
                  .exists(otherSales(c).$if(at !== null, (q) => q.where('s.occurred_at', '<', at!)))
                  .as('has_earlier_sales'),
                // Without the purchase's time no sale is known to be later.
                c
                  .exists(otherSales(c).where((w) => (at ? w.and([w('s.occurred_at', '>=', at), w('s.partner_id', 'is', null)]) : w.lit(false))))
                  .as('has_later_unattributed_sales'),
                // Nulls last: attributed customers first, then the oldest (as `findCustomer` orders them).
                sql<number>`row_number() over (order by cu.attributed_at asc, cu.created_at, cu.id)`.as('rank'),
              ])
              .where((w) =>
                w.or([
                  ...(stripeCustomerId ? [w('cu.stripe_customer_id', '=', stripeCustomerId)] : []),
                  ...(customerKey ? [w.and([w('cu.external_id', '=', customerKey), w('cu.livemode', '=', livemode)])] : []),
                  ...(email ? [w.and([w('cu.email', '=', email), w('cu.livemode', '=', livemode)])] : []),
                ]),
              ),
          ).as('customers'),
          (subscriptionId ? eb.selectFrom('subscriptions').select('ended_at').where('id', '=', subscriptionId) : sql<Date | null>`null`).as('subscription_ended_at'),
        ])
        .executeTakeFirstOrThrow();
      return {
        clicks: row.clicks.map((found) => ({
          click: toClick(revive(found.click, 'created_at')),
          partner: toPartner(revive(found.partner, 'created_at')),
          terms: { reward: found.reward ?? null, groupReward: found.group_reward ?? null },
        })),
        customers: row.customers.map((found) => {
          const customer = toCustomer(revive(found.customer, 'created_at', 'attributed_at', 'first_sale_at', 'stripe_metadata_written_at'));
          return {
            customer,
            partner: found.partner ? toPartner(revive(found.partner, 'created_at')) : null,
            terms: { reward: found.reward ?? null, groupReward: found.group_reward ?? null },
            matchedBy: {
              stripeCustomerId: stripeCustomerId !== null && customer.stripeCustomerId === stripeCustomerId,
              customerKey: customerKey !== null && customer.livemode === livemode && customer.externalId === customerKey,
              email: email !== null && customer.livemode === livemode && customer.email === email,
            },
            hasEarlierSales: Boolean(found.has_earlier_sales),
            hasLaterUnattributedSales: Boolean(found.has_later_unattributed_sales),
            rank: Number(found.rank),
          };
        }),
        subscriptionEndedAt: row.subscription_ended_at == null ? null : new Date(row.subscription_ended_at),
      };
    },
  };
}

/** Rows come back as JSON (one statement for several tables): timestamps are strings there. */
function revive<T>(row: T, ...dates: Array<keyof T & string>): T {
  const copy = { ...row } as Record<string, unknown>;
  for (const key of dates) if (typeof copy[key] === 'string') copy[key] = new Date(copy[key]);
  return copy as T;
}
