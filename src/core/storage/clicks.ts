import { sql } from 'kysely';
import { DEFAULT_PROGRAM_ID } from './programs.js';
import type { Db, Row } from './rows.js';

export interface Click {
  /** Unguessable, URL-safe: travels in the cookie and in Stripe metadata. */
  id: string;
  partnerId: string;
  /** The program of the link's code. */
  programId: string;
  linkCode: string;
  landingUrl: string | null;
  referrer: string | null;
  userAgent: string | null;
  /** HMAC of the visitor's IP with a secret salt: the raw IP is never stored. */
  ipHash: string | null;
  country: string | null;
  createdAt: Date;
}

export type NewClick = Omit<Click, 'createdAt' | 'programId'> & { createdAt?: Date; programId?: string };

/**
 * Referral visits.
 *
 * Atomic: each call is one statement. A click id is random and never reused, so `insertClick` of an
 * id already stored is an error; `insertClicks` instead leaves a stored click as it is, so a batch
 * retried after a failure that had in fact committed (or written twice concurrently) keeps each
 * click once.
 */
export interface ClickStore {
  insertClick(click: NewClick): Promise<Click>;
  /** Many clicks in one statement (batched click writes); a click already stored is left as it is. */
  insertClicks(clicks: readonly NewClick[]): Promise<void>;
  getClick(id: string): Promise<Click | undefined>;
  /**
   * A referral visit in one statement: the click is inserted through the code's link only if the
   * link and its partner are active and the link is in one of `programIds`; undefined (nothing
   * written) otherwise.
   */
  insertClickThroughLink(code: string, programIds: readonly string[], click: VisitClick): Promise<Click | undefined>;
}

/** A click before its link is known: the link gives its partner, program and code. */
export type VisitClick = Omit<NewClick, 'partnerId' | 'programId' | 'linkCode'> & { createdAt: Date };

/** The click store on the library's tables. */
export function clickStore(db: Db): ClickStore {
  return {
    async insertClick(click: NewClick): Promise<Click> {
      return toClick(await db.insertInto('clicks').values(clickRow(click)).returningAll().executeTakeFirstOrThrow());
    },

    async insertClicks(clicks: readonly NewClick[]): Promise<void> {
      if (clicks.length === 0) return;
      await db
        .insertInto('clicks')
        .values(clicks.map(clickRow))
        // A batch retried after a failure that had in fact committed meets its own rows.
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },

    async insertClickThroughLink(code: string, programIds: readonly string[], click: VisitClick): Promise<Click | undefined> {
      if (programIds.length === 0) return undefined;
      const row = await db
        .insertInto('clicks')
        .columns(['id', 'partner_id', 'program_id', 'link_code', 'landing_url', 'referrer', 'user_agent', 'ip_hash', 'country', 'created_at'])
        .expression((eb) =>
          eb
            .selectFrom('links')
            .innerJoin('partners', 'partners.id', 'links.partner_id')
            // Typed parameters: in a SELECT they would otherwise be text, which a timestamp column refuses.
            .select([
              sql<string>`${click.id}::text`.as('id'),
              'links.partner_id',
              'links.program_id',
              'links.code',
              sql<string | null>`${click.landingUrl}::text`.as('landing_url'),
              sql<string | null>`${click.referrer}::text`.as('referrer'),
              sql<string | null>`${click.userAgent}::text`.as('user_agent'),
              sql<string | null>`${click.ipHash}::text`.as('ip_hash'),
              sql<string | null>`${click.country}::text`.as('country'),
              sql<Date>`${click.createdAt}::timestamptz`.as('created_at'),
            ])
            .where('links.code', '=', code.toLowerCase())
            .where('links.disabled_at', 'is', null)
            .where('partners.status', '=', 'active')
            .where('links.program_id', 'in', [...programIds]),
        )
        .returningAll()
        .executeTakeFirst();
      return row && toClick(row);
    },

    async getClick(id: string): Promise<Click | undefined> {
      const row = await db.selectFrom('clicks').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toClick(row);
    },
  };
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

export function toClick(row: Row<'clicks'>): Click {
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
