import { newId } from '../kernel/ids.js';
import { assertAmount, toAmount, type Amount } from '../kernel/money.js';
import type { Inserted } from './inserted.js';
import { programOfCustomer } from './programs.js';
import type { Db, Row } from './rows.js';

/** A custom milestone of a customer's (`trackEvent`): a booked demo, an activated trial. */
export interface Milestone {
  id: string;
  /** Its customer's program. */
  programId: string;
  livemode: boolean;
  /** Your name for it, e.g. `demo_booked`: what `program.eventRewards` is keyed by. */
  name: string;
  /** Your key: a repeat with the same key (in the same mode) is the same milestone. */
  idempotencyKey: string;
  customerId: string;
  /** The customer's partner when it happened; null when the customer belongs to none. */
  partnerId: string | null;
  clickId: string | null;
  /** What it is worth (e.g. a deal value), in minor units of `currency`. */
  value: Amount | null;
  currency: string | null;
  occurredAt: Date;
  createdAt: Date;
}

export type NewMilestone = Omit<Milestone, 'id' | 'createdAt' | 'programId'>;

/**
 * Custom milestones of customers (`trackEvent`).
 *
 * `insertMilestone` is decided by the idempotency key's unique index: a concurrent duplicate waits
 * for the first to commit and gets its milestone with `created: false`.
 */
export interface MilestoneStore {
  /**
   * Idempotent on the milestone's idempotency key and mode: a repeat (or a concurrent duplicate,
   * once the first commits) gets the stored milestone and `created: false`. It belongs to its
   * customer's program.
   */
  insertMilestone(milestone: NewMilestone): Promise<Inserted<Milestone>>;
  findMilestone(by: { livemode: boolean; idempotencyKey: string }): Promise<Milestone | undefined>;
  listMilestones(filter: { partnerId?: string; customerId?: string; programId?: string; name?: string; livemode?: boolean }): Promise<Milestone[]>;
}

/** The milestone store on the library's tables. */
export function milestoneStore(db: Db): MilestoneStore {
  const store: MilestoneStore = {
    async insertMilestone(milestone: NewMilestone): Promise<Inserted<Milestone>> {
      const inserted = await db
        .insertInto('milestones')
        .values({
          id: newId('mls'),
          program_id: programOfCustomer(db, milestone.customerId),
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
      return { record: (await store.findMilestone(milestone))!, created: false };
    },

    async findMilestone(by: { livemode: boolean; idempotencyKey: string }): Promise<Milestone | undefined> {
      const row = await db
        .selectFrom('milestones')
        .selectAll()
        .where('livemode', '=', by.livemode)
        .where('idempotency_key', '=', by.idempotencyKey)
        .executeTakeFirst();
      return row && toMilestone(row);
    },

    async listMilestones(filter: { partnerId?: string; customerId?: string; programId?: string; name?: string; livemode?: boolean }): Promise<Milestone[]> {
      let query = db.selectFrom('milestones').selectAll().orderBy('occurred_at').orderBy('created_at').orderBy('id');
      if (filter.partnerId) query = query.where('partner_id', '=', filter.partnerId);
      if (filter.programId) query = query.where('program_id', '=', filter.programId);
      if (filter.customerId) query = query.where('customer_id', '=', filter.customerId);
      if (filter.name) query = query.where('name', '=', filter.name);
      if (filter.livemode !== undefined) query = query.where('livemode', '=', filter.livemode);
      return (await query.execute()).map(toMilestone);
    },
  };
  return store;
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
