import { newId } from '../kernel/ids.js';
import { toPartner, type Partner } from './partners.js';
import type { Db, Row } from './rows.js';

/** What the applicant told the merchant, kept on their partner row. */
export interface ApplicationDetails {
  /** How they promote (their site, audience, channels). */
  promotion: string;
  /** The referral code they chose, reserved for them while the application is open. */
  code: string;
  /** The program the code goes to. */
  programId: string;
}

/** A partner who applied through the application form, and what became of it. */
export interface Application {
  partner: Partner;
  /** `approved` once the merchant approved it, whatever the partner's status since. */
  status: ApplicationStatus;
  details: ApplicationDetails;
  appliedAt: Date;
  /** When it was approved or rejected; null while pending. */
  decidedAt: Date | null;
}

export type ApplicationStatus = 'pending' | 'approved' | 'rejected';

/**
 * Applications and their rate limit.
 *
 * `insertApplication` is decided by the unique key on an open application's email: a second one
 * for the same email (concurrent or not) gets undefined. `decideApplication` changes a pending
 * application only, in one statement, so of two concurrent decisions one wins and the other finds
 * nothing to change. `countApplicationAttempt` is one upsert: instances sharing the database share
 * the count.
 */
export interface ApplicationStore {
  /** A pending partner with the application's details; undefined when the email has an open or approved application already. */
  insertApplication(application: { name: string; email: string; details: ApplicationDetails; at: Date }): Promise<Partner | undefined>;
  getApplication(partnerId: string): Promise<Application | undefined>;
  /** Applications, newest first; pending (the partner still `pending`), approved (now a partner of any status) or rejected. */
  listApplications(filter: { status?: ApplicationStatus }): Promise<Application[]>;
  /** Moves a pending application to `active` (approved) or `rejected`: undefined when it was not pending. */
  decideApplication(partnerId: string, status: 'active' | 'rejected', at: Date): Promise<Partner | undefined>;
  /** Whether a partner other than rejected applicants has this email. */
  partnerEmailTaken(email: string): Promise<boolean>;
  /** Removes a partner's referral codes (a rejected application's reserved code), which never recorded a click. */
  releaseCodes(partnerId: string): Promise<void>;
  /** Counts one attempt of `ipHash` in the window starting at `windowStart` and returns the window's count; forgets windows before `forgetBefore`. */
  countApplicationAttempt(ipHash: string, windowStart: Date, forgetBefore: Date): Promise<number>;
}

export function applicationStore(db: Db): ApplicationStore {
  const applications = () => db.selectFrom('partners').selectAll().where('applied_at', 'is not', null);
  return {
    async insertApplication({ name, email, details, at }) {
      const row = await db
        .insertInto('partners')
        .values({
          id: newId('ptn'),
          name,
          email: email.toLowerCase(),
          status: 'pending',
          metadata: '{}',
          applied_at: at,
          application: JSON.stringify(details),
        })
        .onConflict((oc) => oc.column('email').where('applied_at', 'is not', null).where('status', '<>', 'rejected').doNothing())
        .returningAll()
        .executeTakeFirst();
      return row && toPartner(row);
    },

    async getApplication(partnerId) {
      const row = await applications().where('id', '=', partnerId).executeTakeFirst();
      return row && toApplication(row);
    },

    async listApplications({ status }) {
      let query = applications();
      if (status === 'pending' || status === 'rejected') query = query.where('status', '=', status);
      if (status === 'approved') query = query.where('status', 'in', ['active', 'disabled']);
      return (await query.orderBy('applied_at', 'desc').orderBy('id').execute()).map(toApplication);
    },

    async decideApplication(partnerId, status, at) {
      const row = await db
        .updateTable('partners')
        .set({ status, decided_at: at })
        .where('id', '=', partnerId)
        .where('applied_at', 'is not', null)
        .where('status', '=', 'pending')
        .returningAll()
        .executeTakeFirst();
      return row && toPartner(row);
    },

    async partnerEmailTaken(email) {
      const row = await db
        .selectFrom('partners')
        .select('id')
        .where('email', '=', email.toLowerCase())
        .where('status', '<>', 'rejected')
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    async releaseCodes(partnerId) {
      await db.deleteFrom('links').where('partner_id', '=', partnerId).execute();
    },

    async countApplicationAttempt(ipHash, windowStart, forgetBefore) {
      await db.deleteFrom('application_attempts').where('window_start', '<', forgetBefore).execute();
      const row = await db
        .insertInto('application_attempts')
        .values({ ip_hash: ipHash, window_start: windowStart, attempts: 1 })
        .onConflict((oc) => oc.columns(['ip_hash', 'window_start']).doUpdateSet((eb) => ({ attempts: eb('application_attempts.attempts', '+', 1) })))
        .returning('attempts')
        .executeTakeFirstOrThrow();
      return Number(row.attempts);
    },
  };
}

function toApplication(row: Row<'partners'>): Application {
  return {
    partner: toPartner(row),
    status: row.status === 'pending' || row.status === 'rejected' ? row.status : 'approved',
    details: row.application as ApplicationDetails,
    appliedAt: row.applied_at!,
    decidedAt: row.decided_at,
  };
}
