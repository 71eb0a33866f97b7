import { newId } from '../kernel/ids.js';
import { DEFAULT_PROGRAM_ID } from './programs.js';
import type { Db, Row } from './rows.js';

/** Partners on common terms within one program: its reward applies unless a partner has their own. */
export interface PartnerGroupRecord {
  id: string;
  programId: string;
  name: string;
  /** The group's sale reward as configured (validated by the caller), or null for the program's. */
  reward: unknown;
  createdAt: Date;
}

/** A partner's own settings in one program. */
export interface PartnerProgram {
  programId: string;
  /** The partner's own sale reward there, or null. */
  reward: unknown;
  groupId: string | null;
}

/**
 * A partner's terms in each program (their own reward, their group) and the programs' partner
 * groups.
 *
 * Atomic: every call is one statement. `setPartnerReward` and `assignPartnerGroup` are upserts on
 * the partner and program: concurrent calls all succeed and the last to commit decides. A partner is
 * in at most one group per program, whatever the interleaving.
 */
export interface PartnerProgramStore {
  /** The partner's own reward in a program (default `'default'`), or none with `null`. */
  setPartnerReward(partnerId: string, reward: unknown, programId?: string): Promise<void>;
  getPartnerReward(partnerId: string, programId?: string): Promise<unknown>;
  /** The partner's own settings in each program they have any in. */
  listPartnerPrograms(partnerId: string): Promise<PartnerProgram[]>;
  /**
   * The rewards a partner's sale in a program may follow, most specific first: the partner's own,
   * then their group's (each null when there is none).
   */
  getPartnerTerms(partnerId: string, programId: string): Promise<{ reward: unknown; groupReward: unknown }>;
  insertPartnerGroup(group: { programId: string; name: string; reward: unknown }): Promise<PartnerGroupRecord>;
  getPartnerGroup(id: string): Promise<PartnerGroupRecord | undefined>;
  listPartnerGroups(filter: { programId?: string }): Promise<PartnerGroupRecord[]>;
  setPartnerGroupReward(id: string, reward: unknown): Promise<void>;
  /**
   * Puts the partner in the group, in the group's program; a partner is in one group per
   * program, so this takes them out of another group there. False when there is no such group.
   */
  assignPartnerGroup(partnerId: string, groupId: string): Promise<boolean>;
  /** Takes the partner out of their group in the program, if any. */
  removePartnerGroup(partnerId: string, programId: string): Promise<void>;
}

/** The partner terms store on the library's tables. */
export function partnerProgramStore(db: Db): PartnerProgramStore {
  return {
    async setPartnerReward(partnerId: string, reward: unknown, programId = DEFAULT_PROGRAM_ID): Promise<void> {
      const value = reward === null ? null : JSON.stringify(reward);
      await db
        .insertInto('partner_programs')
        .values({ partner_id: partnerId, program_id: programId, reward: value })
        .onConflict((oc) => oc.columns(['partner_id', 'program_id']).doUpdateSet({ reward: value }))
        .execute();
    },

    async getPartnerReward(partnerId: string, programId = DEFAULT_PROGRAM_ID): Promise<unknown> {
      const row = await db.selectFrom('partner_programs').select('reward').where('partner_id', '=', partnerId).where('program_id', '=', programId).executeTakeFirst();
      return row?.reward ?? null;
    },

    async listPartnerPrograms(partnerId: string): Promise<PartnerProgram[]> {
      const rows = await db.selectFrom('partner_programs').select(['program_id', 'reward', 'group_id']).where('partner_id', '=', partnerId).orderBy('created_at').orderBy('program_id').execute();
      return rows.map((row) => ({ programId: row.program_id, reward: row.reward ?? null, groupId: row.group_id }));
    },

    async getPartnerTerms(partnerId: string, programId: string): Promise<{ reward: unknown; groupReward: unknown }> {
      const row = await db
        .selectFrom('partner_programs')
        .leftJoin('partner_groups', 'partner_groups.id', 'partner_programs.group_id')
        .select(['partner_programs.reward', 'partner_groups.reward as group_reward'])
        .where('partner_programs.partner_id', '=', partnerId)
        .where('partner_programs.program_id', '=', programId)
        .executeTakeFirst();
      return { reward: row?.reward ?? null, groupReward: row?.group_reward ?? null };
    },

    async insertPartnerGroup(group: { programId: string; name: string; reward: unknown }): Promise<PartnerGroupRecord> {
      const row = await db
        .insertInto('partner_groups')
        .values({ id: newId('grp'), program_id: group.programId, name: group.name, reward: group.reward === null ? null : JSON.stringify(group.reward) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toPartnerGroup(row);
    },

    async getPartnerGroup(id: string): Promise<PartnerGroupRecord | undefined> {
      const row = await db.selectFrom('partner_groups').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toPartnerGroup(row);
    },

    async listPartnerGroups(filter: { programId?: string }): Promise<PartnerGroupRecord[]> {
      let query = db.selectFrom('partner_groups').selectAll().orderBy('program_id').orderBy('name').orderBy('id');
      if (filter.programId) query = query.where('program_id', '=', filter.programId);
      return (await query.execute()).map(toPartnerGroup);
    },

    async setPartnerGroupReward(id: string, reward: unknown): Promise<void> {
      await db.updateTable('partner_groups').set({ reward: reward === null ? null : JSON.stringify(reward) }).where('id', '=', id).execute();
    },

    async assignPartnerGroup(partnerId: string, groupId: string): Promise<boolean> {
      const row = await db
        .insertInto('partner_programs')
        .columns(['partner_id', 'program_id', 'group_id'])
        .expression((eb) => eb.selectFrom('partner_groups').select([eb.val(partnerId).as('partner_id'), 'program_id', 'id']).where('id', '=', groupId))
        .onConflict((oc) => oc.columns(['partner_id', 'program_id']).doUpdateSet((eb) => ({ group_id: eb.ref('excluded.group_id') })))
        .returning('program_id')
        .executeTakeFirst();
      return row !== undefined;
    },

    async removePartnerGroup(partnerId: string, programId: string): Promise<void> {
      await db.updateTable('partner_programs').set({ group_id: null }).where('partner_id', '=', partnerId).where('program_id', '=', programId).execute();
    },
  };
}

function toPartnerGroup(row: Row<'partner_groups'>): PartnerGroupRecord {
  return { id: row.id, programId: row.program_id, name: row.name, reward: row.reward ?? null, createdAt: row.created_at };
}
