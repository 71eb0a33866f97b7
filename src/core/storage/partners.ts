import { ConflictError } from '../kernel/errors.js';
import { newId } from '../kernel/ids.js';
import { DEFAULT_PROGRAM_ID } from './programs.js';
import type { Db, Row } from './rows.js';

/**
 * Partner status: only an active partner's links record clicks and earn. `pending` is an applicant
 * awaiting approval (their chosen code reserved), `rejected` an applicant turned down.
 */
export type PartnerStatus = 'active' | 'disabled' | 'pending' | 'rejected';

export interface Partner {
  id: string;
  name: string;
  email: string | null;
  status: PartnerStatus;
  metadata: Record<string, unknown>;
  createdAt: Date;
}

export interface NewPartner {
  name: string;
  email?: string | null;
  metadata?: Record<string, unknown>;
}

/** A referral code: the `?via=<code>` value of a partner link. Codes are case-insensitive. */
export interface Link {
  /** Unique across programs, so `?via=<code>` alone names the partner and the program. */
  code: string;
  partnerId: string;
  /** The program whose terms the code's visitors are attributed under. */
  programId: string;
  createdAt: Date;
  disabledAt: Date | null;
}

/** A Stripe promotion code (`promo_…`) whose use attributes a sale to a partner. */
export interface PromotionCode {
  id: string;
  partnerId: string;
  programId: string;
  createdAt: Date;
}

export interface PartnerCodes {
  codes: string[];
  promotionCodes: string[];
  /** The same, by program id. */
  programs: Record<string, { codes: string[]; promotionCodes: string[] }>;
}

/**
 * Partners, their referral codes (links) and their Stripe promotion codes.
 *
 * Atomic: every write is one statement. `insertLink` and `insertPromotionCode` are decided by the
 * code's unique key: a concurrent duplicate for the same partner and program waits for the first to
 * commit and gets the same record back; one for another partner or program gets `ConflictError`.
 * `listPartnerCodes` reads links and promotion codes in two statements (a consistent pair only
 * inside `transaction`).
 */
export interface PartnerStore {
  insertPartner(partner: NewPartner): Promise<Partner>;
  getPartner(id: string): Promise<Partner | undefined>;
  /** Every partner, by name (applicants not yet approved, or rejected, are not). */
  listPartners(): Promise<Partner[]>;
  /** Changes the given fields only. */
  updatePartner(id: string, changes: Partial<Pick<Partner, 'name' | 'email' | 'metadata'>>): Promise<void>;
  /** Removes a partner that nothing refers to yet (one inserted earlier in the same transaction). */
  deletePartner(id: string): Promise<void>;
  /**
   * Moves an active or disabled partner to `status`, in one statement; false for any other partner
   * (an application, pending or rejected, is decided through the applications instead).
   */
  setPartnerStatus(id: string, status: 'active' | 'disabled'): Promise<boolean>;
  /** The version signed into the partner's portal links; undefined for an unknown partner. */
  portalLinkVersion(id: string): Promise<number | undefined>;
  /** Moves the portal link version on by one (one statement): every link signed before is refused. The new version. */
  bumpPortalLinkVersion(id: string): Promise<number | undefined>;
  /**
   * Codes are stored lower-cased, unique across programs (default program `'default'`). Throws
   * `ConflictError` if another partner owns the code, or the partner has it in another program.
   */
  insertLink(link: { partnerId: string; code: string; programId?: string }): Promise<Link>;
  /**
   * Inserts the link unless the code exists, in one statement: undefined if it does. A concurrent
   * claim of the same code waits for the first to commit and gets undefined.
   */
  claimCode(link: { partnerId: string; code: string; programId?: string }): Promise<Link | undefined>;
  /** The code's link (case-insensitive), whatever the status of the link and its partner. */
  findLink(code: string): Promise<Link | undefined>;
  /** The code's link and partner, only if both are active. */
  findActiveLink(code: string): Promise<{ link: Link; partner: Partner } | undefined>;
  /** Deletes the partner's referral code (the code is free again); false when the partner has no such code. */
  deleteLink(partnerId: string, code: string): Promise<boolean>;
  /** Like `insertLink`, for a Stripe promotion code id. */
  insertPromotionCode(code: { id: string; partnerId: string; programId?: string }): Promise<PromotionCode>;
  /** The partner's referral codes and promotion code ids, oldest first, all of them and by program. */
  listPartnerCodes(partnerId: string): Promise<PartnerCodes>;
  findPromotionCodes(ids: readonly string[]): Promise<PromotionCode[]>;
  /** Deletes the partner's promotion code; false when the partner has no such promotion code. */
  deletePromotionCode(partnerId: string, id: string): Promise<boolean>;
}

/** The partner store on the library's tables. */
export function partnerStore(db: Db): PartnerStore {
  const store: PartnerStore = {
    async insertPartner(partner: NewPartner): Promise<Partner> {
      const row = await db
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
    },

    async getPartner(id: string): Promise<Partner | undefined> {
      const row = await db.selectFrom('partners').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toPartner(row);
    },

    async listPartners(): Promise<Partner[]> {
      // Applicants are partners only once approved: `listApplications` shows the others.
      return (await db.selectFrom('partners').selectAll().where('status', 'in', ['active', 'disabled']).orderBy('name').orderBy('id').execute()).map(toPartner);
    },

    async updatePartner(id: string, changes: Partial<Pick<Partner, 'name' | 'email' | 'metadata'>>): Promise<void> {
      const values = {
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.email !== undefined ? { email: changes.email?.toLowerCase() ?? null } : {}),
        ...(changes.metadata !== undefined ? { metadata: JSON.stringify(changes.metadata) } : {}),
      };
      if (Object.keys(values).length > 0) await db.updateTable('partners').set(values).where('id', '=', id).execute();
    },

    async deletePartner(id: string): Promise<void> {
      await db.deleteFrom('partners').where('id', '=', id).execute();
    },

    async setPartnerStatus(id: string, status: 'active' | 'disabled'): Promise<boolean> {
      const changed = await db.updateTable('partners').set({ status }).where('id', '=', id).where('status', 'in', ['active', 'disabled']).returning('id').executeTakeFirst();
      return changed !== undefined;
    },

    async portalLinkVersion(id: string): Promise<number | undefined> {
      const row = await db.selectFrom('partners').select('portal_link_version').where('id', '=', id).executeTakeFirst();
      return row?.portal_link_version;
    },

    async bumpPortalLinkVersion(id: string): Promise<number | undefined> {
      const row = await db
        .updateTable('partners')
        .set((eb) => ({ portal_link_version: eb('portal_link_version', '+', 1) }))
        .where('id', '=', id)
        .returning('portal_link_version')
        .executeTakeFirst();
      return row?.portal_link_version;
    },

    async insertLink(link: { partnerId: string; code: string; programId?: string }): Promise<Link> {
      const inserted = await store.claimCode(link);
      if (inserted) return inserted;
      const code = link.code.toLowerCase();
      const programId = link.programId ?? DEFAULT_PROGRAM_ID;
      const existing = (await store.findLink(code))!;
      if (existing.partnerId !== link.partnerId) {
        throw new ConflictError(`The referral code "${code}" already belongs to another partner`);
      }
      if (existing.programId !== programId) {
        throw new ConflictError(`The referral code "${code}" is already this partner's in program "${existing.programId}"`);
      }
      return existing;
    },

    async claimCode(link: { partnerId: string; code: string; programId?: string }): Promise<Link | undefined> {
      const inserted = await db
        .insertInto('links')
        .values({ code: link.code.toLowerCase(), partner_id: link.partnerId, program_id: link.programId ?? DEFAULT_PROGRAM_ID })
        .onConflict((oc) => oc.column('code').doNothing())
        .returningAll()
        .executeTakeFirst();
      return inserted && toLink(inserted);
    },

    async findLink(code: string): Promise<Link | undefined> {
      const row = await db.selectFrom('links').selectAll().where('code', '=', code.toLowerCase()).executeTakeFirst();
      return row && toLink(row);
    },

    async findActiveLink(code: string): Promise<{ link: Link; partner: Partner } | undefined> {
      const row = await db
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
    },

    async deleteLink(partnerId: string, code: string): Promise<boolean> {
      const deleted = await db.deleteFrom('links').where('code', '=', code.toLowerCase()).where('partner_id', '=', partnerId).returning('code').executeTakeFirst();
      return deleted !== undefined;
    },

    async insertPromotionCode(code: { id: string; partnerId: string; programId?: string }): Promise<PromotionCode> {
      const programId = code.programId ?? DEFAULT_PROGRAM_ID;
      const inserted = await db
        .insertInto('promotion_codes')
        .values({ id: code.id, partner_id: code.partnerId, program_id: programId })
        .onConflict((oc) => oc.column('id').doNothing())
        .returningAll()
        .executeTakeFirst();
      const row =
        inserted ?? (await db.selectFrom('promotion_codes').selectAll().where('id', '=', code.id).executeTakeFirstOrThrow());
      if (row.partner_id !== code.partnerId) {
        throw new ConflictError(`The promotion code ${code.id} already belongs to another partner`);
      }
      if (row.program_id !== programId) {
        throw new ConflictError(`The promotion code ${code.id} is already this partner's in program "${row.program_id}"`);
      }
      return toPromotionCode(row);
    },

    async listPartnerCodes(partnerId: string): Promise<PartnerCodes> {
      const [links, promotionCodes] = await Promise.all([
        db.selectFrom('links').select(['code', 'program_id']).where('partner_id', '=', partnerId).orderBy('created_at').orderBy('code').execute(),
        db.selectFrom('promotion_codes').select(['id', 'program_id']).where('partner_id', '=', partnerId).orderBy('created_at').orderBy('id').execute(),
      ]);
      const programs: PartnerCodes['programs'] = {};
      const program = (id: string) => (programs[id] ??= { codes: [], promotionCodes: [] });
      for (const link of links) program(link.program_id).codes.push(link.code);
      for (const promo of promotionCodes) program(promo.program_id).promotionCodes.push(promo.id);
      return { codes: links.map((link) => link.code), promotionCodes: promotionCodes.map((promo) => promo.id), programs };
    },

    async findPromotionCodes(ids: readonly string[]): Promise<PromotionCode[]> {
      if (ids.length === 0) return [];
      const rows = await db.selectFrom('promotion_codes').selectAll().where('id', 'in', [...ids]).execute();
      return rows.map(toPromotionCode);
    },

    async deletePromotionCode(partnerId: string, id: string): Promise<boolean> {
      const deleted = await db.deleteFrom('promotion_codes').where('id', '=', id).where('partner_id', '=', partnerId).returning('id').executeTakeFirst();
      return deleted !== undefined;
    },
  };
  return store;
}

export function toPartner(row: Row<'partners'>): Partner {
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

function toPromotionCode(row: Row<'promotion_codes'>): PromotionCode {
  return { id: row.id, partnerId: row.partner_id, programId: row.program_id, createdAt: row.created_at };
}
