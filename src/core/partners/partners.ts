import { randomBytes } from 'node:crypto';
import { AttributionError, ConflictError } from '../kernel/errors.js';
import type { Partner, PartnerGroupRecord, Storage } from '../storage/types.js';
import type { ResolvedOptions } from '../options/options.js';
import { portalUrl, shareLink } from './portal-links.js';
import { isEmailAddress } from './email.js';
import { rewardTerms, type SaleReward } from '../commissions/rewards.js';
import { configuredProgram } from '../programs/programs.js';
import type { TransactionRunner } from '../transaction/run.js';

export interface CreatePartnerInput {
  name: string;
  email?: string | null;
  /** Referral code for `?via=<code>`. Default: a random 8-character code. */
  code?: string;
  /** Further referral codes. */
  codes?: string[];
  /** Stripe promotion code ids (`promo_…`) whose use credits this partner. */
  promotionCodes?: string[];
  metadata?: Record<string, unknown>;
  /** This partner's own sale reward instead of the program's (for customers whose first sale comes later). */
  reward?: SaleReward;
  /** The program the codes, promotion codes and reward belong to. Default: the default program. */
  programId?: string;
  /** A group of that program to put the partner in. */
  groupId?: string;
}

/** What `partners.upsert` makes true of the partner whose referral code is `code`. */
export interface UpsertPartnerInput extends Omit<CreatePartnerInput, 'code'> {
  /**
   * The partner's stable key: the referral code that names them. The partner owning it is updated,
   * else a new one is created with it.
   */
  code: string;
}

/** A partner's place in one program. */
export interface PartnerInProgram {
  codes: string[];
  promotionCodes: string[];
  /** The partner's own sale reward there, or null for their group's (else the program's). */
  reward: SaleReward | null;
  /** The partner's group there, if any. */
  groupId: string | null;
}

/** Partners on common terms within one program. */
export interface PartnerGroup {
  id: string;
  programId: string;
  name: string;
  /** What the group's partners earn on a sale, unless they have their own reward; null for the program's. */
  reward: SaleReward | null;
  createdAt: Date;
}

/**
 * Groups of partners with a reward of their own: a partner's own reward comes first, then their
 * group's, then the program's. As with every reward, a customer keeps the terms of their first sale.
 */
export interface PartnerGroups {
  /** A group in a program (default: the default program). */
  create(input: { name: string; reward?: SaleReward | null; programId?: string }): Promise<PartnerGroup>;
  get(id: string): Promise<PartnerGroup | undefined>;
  /** Every group (of one program with `programId`), by program and name. */
  list(filter?: InProgram): Promise<PartnerGroup[]>;
  /** Changes the group's reward (or back to the program's with `null`), for customers whose first sale comes later. */
  setReward(groupId: string, reward: SaleReward | null): Promise<void>;
  /** Puts the partner in the group; a partner is in one group per program, so this moves them from another there. */
  assign(partnerId: string, groupId: string): Promise<void>;
  /** Takes the partner out of their group in a program (default: the default program). */
  unassign(partnerId: string, options?: InProgram): Promise<void>;
}

/** What `partners.update` changes; a field left out is kept. */
export interface PartnerChanges {
  name?: string;
  /** Null removes it. */
  email?: string | null;
  metadata?: Record<string, unknown>;
}

export interface PartnerWithCodes extends Partner {
  /** Every referral code, in all programs. */
  codes: string[];
  /** Every promotion code id, in all programs. */
  promotionCodes: string[];
  /** By program id: the programs the partner has codes or terms in. */
  programs: Record<string, PartnerInProgram>;
}

/** Where a code or reward goes: a configured program, the default one unless named. */
export interface InProgram {
  programId?: string;
}

export interface Partners {
  /** Creates the partner and its codes together; a code owned by another partner fails it all (`ConflictError`). */
  create(input: CreatePartnerInput): Promise<PartnerWithCodes>;
  /**
   * Startup seeding that can run on every boot: the partner whose referral code is `input.code`
   * gets the given name and the given email, metadata, reward and group (fields left out are kept);
   * the other codes and promotion codes are added, none removed. Without such a partner, one is
   * created as `create` would. A disabled partner stays disabled.
   *
   * One transaction, decided by the code's unique key: instances booting at once leave one
   * partner. A code owned by another partner, or by this one in another program, fails it all
   * (`ConflictError`).
   */
  upsert(input: UpsertPartnerInput): Promise<PartnerWithCodes>;
  /** The partner a referral code belongs to, case-insensitive as `?via=` is, whatever their status. */
  getByCode(code: string): Promise<PartnerWithCodes | undefined>;
  /** Groups of partners with a reward of their own. */
  readonly groups: PartnerGroups;
  get(id: string): Promise<PartnerWithCodes | undefined>;
  /** Every partner with their codes, by name. */
  list(): Promise<PartnerWithCodes[]>;
  /** Changes the given fields (name, email, metadata) and keeps the rest. */
  update(id: string, changes: PartnerChanges): Promise<PartnerWithCodes>;
  /**
   * A link to the partner's own portal (their links, stats and payouts), signed with
   * `portal.secret` and valid for `expiresIn` seconds (default `portal.expiresIn`, 7 days).
   */
  portalUrl(partnerId: string, options?: { expiresIn?: number }): Promise<string>;
  /**
   * Revokes every portal link issued to the partner so far (their portal answers 403): the link
   * version signed into each moves on. Links made afterwards work. Throws for an unknown partner.
   */
  revokePortalLinks(partnerId: string): Promise<void>;
  /**
   * The link a partner shares for one of their codes: `https://shop.example/?via=alice` with
   * `portal.siteUrl` set, else `?via=alice` (the first of `clicks.params`).
   */
  shareUrl(code: string): string;
  /**
   * A referral code in a program (default: the default program). Codes are unique across
   * programs, so `?via=<code>` alone says both the partner and the program.
   */
  addCode(partnerId: string, code: string, options?: InProgram): Promise<void>;
  addPromotionCode(partnerId: string, promotionCodeId: string, options?: InProgram): Promise<void>;
  /**
   * Removes a referral code: its links record no more clicks, and the code is free for anyone.
   * Customers it brought stay the partner's. Throws when the partner has no such code.
   */
  removeCode(partnerId: string, code: string): Promise<void>;
  /** Removes a promotion code: its later uses credit no one. Throws when the partner has no such promotion code. */
  removePromotionCode(partnerId: string, promotionCodeId: string): Promise<void>;
  /**
   * Gives the partner a sale reward of their own in a program (or back to the program's with
   * `null`). Customers already locked keep their terms; the new reward applies to customers whose
   * first sale comes later.
   */
  setReward(partnerId: string, reward: SaleReward | null, options?: InProgram): Promise<void>;
  /**
   * A disabled partner's links record no clicks and credit no new customers. An application
   * (pending or rejected) is refused: it is decided through `applications`.
   */
  disable(id: string): Promise<void>;
  enable(id: string): Promise<void>;
}

const CODE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function validCode(code: string): string {
  const normalized = code.trim().toLowerCase();
  if (!CODE.test(normalized)) {
    throw new AttributionError(`Referral code "${code}" must be 1–64 letters, digits, "-" or "_", starting with a letter or digit`);
  }
  return normalized;
}

/** A partner's email as stored: trimmed, blank as none; anything else that is not an address is refused before writing. */
function partnerEmail(raw: string | null | undefined): string | null {
  const email = raw?.trim() || null;
  if (email !== null && !isEmailAddress(email)) throw new AttributionError(`"${raw}" is not an email address`);
  return email;
}

/** Unambiguous letters and digits only, so a code read aloud or typed from a flyer still works. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

function randomCode(): string {
  return Array.from(randomBytes(8), (byte) => ALPHABET[byte % ALPHABET.length]).join('');
}

export function createPartners(storage: () => Promise<Storage>, options: ResolvedOptions, transactions: TransactionRunner): Partners {
  const withCodes = async (db: Storage, partner: Partner): Promise<PartnerWithCodes> => {
    const [{ programs: codes, ...all }, settings] = await Promise.all([db.listPartnerCodes(partner.id), db.listPartnerPrograms(partner.id)]);
    const programs: Record<string, PartnerInProgram> = {};
    for (const id of new Set([...Object.keys(codes), ...settings.map((setting) => setting.programId)])) {
      const setting = settings.find((candidate) => candidate.programId === id);
      programs[id] = {
        codes: codes[id]?.codes ?? [],
        promotionCodes: codes[id]?.promotionCodes ?? [],
        reward: (setting?.reward as SaleReward | null | undefined) ?? null,
        groupId: setting?.groupId ?? null,
      };
    }
    return { ...partner, ...all, programs };
  };
  const get = async (id: string): Promise<PartnerWithCodes | undefined> => {
    const db = await storage();
    const partner = await db.getPartner(id);
    return partner && withCodes(db, partner);
  };
  const setStatus = async (id: string, status: 'active' | 'disabled'): Promise<void> => {
    const db = await storage();
    if (await db.setPartnerStatus(id, status)) return;
    const partner = await db.getPartner(id);
    if (!partner) throw new AttributionError(`No partner ${id}`);
    throw new AttributionError(`Partner ${id} is a ${partner.status} application: approve or reject it with attribution.applications (or the dashboard's Applications page)`);
  };
  const existing = async (db: Storage, id: string): Promise<void> => {
    if (!(await db.getPartner(id))) throw new AttributionError(`No partner ${id}`);
  };
  return {
    async create(input) {
      if (!input.name?.trim()) throw new AttributionError('A partner needs a name');
      const email = partnerEmail(input.email);
      const codes = [input.code ?? randomCode(), ...(input.codes ?? [])].map(validCode);
      if (input.reward) rewardTerms(input.reward); // refuse a bad reward before writing anything
      const programId = configuredProgram(options, input.programId).id;
      const db = await storage();
      if (input.groupId) await groupIn(db, input.groupId, programId);
      const id = await transactions.run(db, async (tx) => {
        const partner = await tx.insertPartner({ name: input.name.trim(), email, metadata: input.metadata ?? {} });
        for (const code of codes) await tx.insertLink({ partnerId: partner.id, code, programId });
        for (const promo of input.promotionCodes ?? []) await tx.insertPromotionCode({ id: promo, partnerId: partner.id, programId });
        if (input.reward) await tx.setPartnerReward(partner.id, input.reward, programId);
        if (input.groupId) await tx.assignPartnerGroup(partner.id, input.groupId);
        return partner.id;
      });
      return (await get(id))!;
    },
    async upsert(input) {
      if (!input.name?.trim()) throw new AttributionError('A partner needs a name');
      if (typeof input.code !== 'string') throw new AttributionError('partners.upsert needs the partner’s referral code (`code`): it is how the partner is found again');
      const email = partnerEmail(input.email);
      const [key, ...codes] = [input.code, ...(input.codes ?? [])].map(validCode) as [string, ...string[]];
      if (input.reward) rewardTerms(input.reward);
      const programId = configuredProgram(options, input.programId).id;
      const db = await storage();
      if (input.groupId) await groupIn(db, input.groupId, programId);
      const id = await transactions.run(db, async (tx) => {
        // Insert first and let the code's unique key decide: a look-up first would let two booting
        // instances both see no partner and both create one.
        const fresh = await tx.insertPartner({ name: input.name.trim(), email, metadata: input.metadata ?? {} });
        let partnerId = fresh.id;
        if (!(await tx.claimCode({ partnerId, code: key, programId }))) {
          await tx.deletePartner(fresh.id); // never committed, so never seen
          const link = (await tx.findLink(key))!;
          if (link.programId !== programId) throw new ConflictError(`The referral code "${key}" belongs to a partner in program "${link.programId}", not "${programId}"`);
          await tx.updatePartner(link.partnerId, {
            name: input.name.trim(),
            ...(input.email !== undefined ? { email } : {}),
            ...(input.metadata !== undefined ? { metadata: input.metadata } : {}),
          });
          partnerId = link.partnerId;
        }
        for (const code of codes) await tx.insertLink({ partnerId, code, programId });
        for (const promo of input.promotionCodes ?? []) await tx.insertPromotionCode({ id: promo, partnerId, programId });
        if (input.reward) await tx.setPartnerReward(partnerId, input.reward, programId);
        if (input.groupId) await tx.assignPartnerGroup(partnerId, input.groupId);
        return partnerId;
      });
      return (await get(id))!;
    },
    async getByCode(code) {
      const link = await (await storage()).findLink(code.trim());
      return link && get(link.partnerId);
    },
    get,
    groups: createGroups(storage, options, existing),
    async list() {
      const db = await storage();
      return Promise.all((await db.listPartners()).map((partner) => withCodes(db, partner)));
    },
    async update(id, changes) {
      if (changes.name !== undefined && !changes.name.trim()) throw new AttributionError('A partner needs a name');
      const email = partnerEmail(changes.email);
      const db = await storage();
      await existing(db, id);
      await db.updatePartner(id, {
        ...(changes.name !== undefined ? { name: changes.name.trim() } : {}),
        ...(changes.email !== undefined ? { email } : {}),
        ...(changes.metadata !== undefined ? { metadata: changes.metadata } : {}),
      });
      return (await get(id))!;
    },
    shareUrl: (code) => shareLink(options.portal.siteUrl, options.clicks.params[0]!, code),
    async portalUrl(partnerId, { expiresIn } = {}) {
      // Checked before the database: a missing secret or URL is a configuration error, whatever the partner.
      portalUrl(options.portal, partnerId, 0, options.clock(), expiresIn);
      const version = await (await storage()).portalLinkVersion(partnerId);
      if (version === undefined) throw new AttributionError(`No partner ${partnerId}`);
      return portalUrl(options.portal, partnerId, version, options.clock(), expiresIn);
    },
    async revokePortalLinks(partnerId) {
      if ((await (await storage()).bumpPortalLinkVersion(partnerId)) === undefined) throw new AttributionError(`No partner ${partnerId}`);
    },
    async addCode(partnerId, code, { programId } = {}) {
      const program = configuredProgram(options, programId).id;
      const normalized = validCode(code);
      const db = await storage();
      await existing(db, partnerId);
      await db.insertLink({ partnerId, code: normalized, programId: program });
    },
    async addPromotionCode(partnerId, promotionCodeId, { programId } = {}) {
      const program = configuredProgram(options, programId).id;
      const id = promotionCodeId.trim();
      if (!id) throw new AttributionError('A promotion code id is needed (promo_… in your Stripe dashboard)');
      const db = await storage();
      await existing(db, partnerId);
      await db.insertPromotionCode({ id, partnerId, programId: program });
    },
    async removeCode(partnerId, code) {
      const db = await storage();
      await existing(db, partnerId);
      if (!(await db.deleteLink(partnerId, code.trim()))) throw new AttributionError(`Partner ${partnerId} has no referral code "${code}"`);
    },
    async removePromotionCode(partnerId, promotionCodeId) {
      const db = await storage();
      await existing(db, partnerId);
      if (!(await db.deletePromotionCode(partnerId, promotionCodeId.trim()))) throw new AttributionError(`Partner ${partnerId} has no promotion code ${promotionCodeId}`);
    },
    async setReward(partnerId, reward, { programId } = {}) {
      if (reward) rewardTerms(reward);
      const program = configuredProgram(options, programId).id;
      const db = await storage();
      await existing(db, partnerId);
      await db.setPartnerReward(partnerId, reward, program);
    },
    disable: (id) => setStatus(id, 'disabled'),
    enable: (id) => setStatus(id, 'active'),
  };
}

function toGroup(group: PartnerGroupRecord): PartnerGroup {
  return { ...group, reward: (group.reward as SaleReward | null) ?? null };
}

/** The group, refused unless it exists and belongs to `programId`. */
async function groupIn(db: Storage, groupId: string, programId: string): Promise<PartnerGroup> {
  const group = await db.getPartnerGroup(groupId);
  if (!group) throw new AttributionError(`No partner group ${groupId}`);
  if (group.programId !== programId) throw new AttributionError(`Partner group ${groupId} belongs to program "${group.programId}", not "${programId}"`);
  return toGroup(group);
}

function createGroups(storage: () => Promise<Storage>, options: ResolvedOptions, existing: (db: Storage, id: string) => Promise<void>): PartnerGroups {
  return {
    async create({ name, reward = null, programId }) {
      if (!name?.trim()) throw new AttributionError('A partner group needs a name');
      if (reward) rewardTerms(reward);
      const program = configuredProgram(options, programId).id;
      return toGroup(await (await storage()).insertPartnerGroup({ programId: program, name: name.trim(), reward }));
    },
    async get(id) {
      const group = await (await storage()).getPartnerGroup(id);
      return group && toGroup(group);
    },
    async list({ programId } = {}) {
      return (await (await storage()).listPartnerGroups(programId ? { programId } : {})).map(toGroup);
    },
    async setReward(groupId, reward) {
      if (reward) rewardTerms(reward);
      const db = await storage();
      if (!(await db.getPartnerGroup(groupId))) throw new AttributionError(`No partner group ${groupId}`);
      await db.setPartnerGroupReward(groupId, reward);
    },
    async assign(partnerId, groupId) {
      const db = await storage();
      await existing(db, partnerId);
      if (!(await db.assignPartnerGroup(partnerId, groupId))) throw new AttributionError(`No partner group ${groupId}`);
    },
    async unassign(partnerId, { programId } = {}) {
      await (await storage()).removePartnerGroup(partnerId, configuredProgram(options, programId).id);
    },
  };
}
