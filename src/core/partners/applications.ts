import { createHmac } from 'node:crypto';
import { AttributionError, ConflictError, InvalidValueError, RateLimitedError } from '../kernel/errors.js';
import type { ResolvedOptions } from '../options/options.js';
import { configuredProgram } from '../programs/programs.js';
import type { Application, ApplicationStatus, Storage } from '../storage/types.js';
import { emit } from '../transaction/hooks.js';
import type { TransactionRunner } from '../transaction/run.js';
import { validCode } from './partners.js';
import { isEmailAddress } from './email.js';

/** What someone applying to be a partner says. */
export interface ApplicationInput {
  name: string;
  email: string;
  /** How they promote: their site, audience, channels. */
  promotion: string;
  /** The referral code they would like (`?via=<code>`): reserved while pending, live once approved. */
  code: string;
  /** The program they apply to. Default: the default program. */
  programId?: string;
}

export interface SubmitOptions {
  /**
   * The applicant's IP address: when given, counted (salted and hashed, like clicks) against
   * `rateLimit` in the database, so every instance shares the count.
   */
  ip?: string;
  /** Applications one address may submit per window. Default 5 per hour. */
  rateLimit?: { max?: number; windowSeconds?: number };
}

/** What approving or rejecting did: `changed` is false when it was already decided that way. */
export interface ApplicationDecision {
  application: Application;
  changed: boolean;
}

/**
 * Partner applications: `submit` stores a pending partner whose chosen code is reserved but
 * attributes nothing until `approve`; `reject` releases the code. Decisions are idempotent and
 * decided in the database: of concurrent approvals one approves and the rest find it done.
 */
export interface Applications {
  submit(input: ApplicationInput, options?: SubmitOptions): Promise<Application>;
  get(partnerId: string): Promise<Application | undefined>;
  /** Newest first; every status unless `status`. */
  list(filter?: { status?: ApplicationStatus }): Promise<Application[]>;
  approve(partnerId: string): Promise<ApplicationDecision>;
  reject(partnerId: string): Promise<ApplicationDecision>;
}

function field(value: unknown, label: string, max: number): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (!text) throw new InvalidValueError(`An application needs ${label}`);
  if (text.length > max) throw new InvalidValueError(`The application's ${label} is longer than ${max} characters`);
  return text;
}

export function createApplications(storage: () => Promise<Storage>, options: ResolvedOptions, transactions: TransactionRunner): Applications {
  const get = async (id: string) => (await storage()).getApplication(id);

  async function countAttempt(db: Storage, ip: string, limit: SubmitOptions['rateLimit'] = {}): Promise<void> {
    const max = limit.max ?? 5;
    const windowMs = (limit.windowSeconds ?? 3600) * 1000;
    const now = options.clock().getTime();
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const ipHash = createHmac('sha256', options.clicks.ipSalt).update(`application:${ip}`).digest('base64url').slice(0, 32);
    // Committed on its own, before the application: refused and failed attempts count too.
    const attempts = await db.countApplicationAttempt(ipHash, new Date(windowStart), new Date(windowStart - windowMs));
    if (attempts > max) throw new RateLimitedError((windowStart + windowMs - now) / 1000);
  }

  async function decide(partnerId: string, status: 'active' | 'rejected'): Promise<ApplicationDecision> {
    const db = await storage();
    return transactions.run(db, async (tx) => {
      const now = options.clock();
      const decided = await tx.decideApplication(partnerId, status, now);
      const application = await tx.getApplication(partnerId);
      if (!application) throw new AttributionError(`No application ${partnerId}`);
      if (!decided) {
        const wanted = status === 'active' ? 'approved' : 'rejected';
        if (application.status === wanted) return { application, changed: false };
        throw new ConflictError(
          application.status === 'approved'
            ? `Application ${partnerId} was approved already: disable the partner instead`
            : `Application ${partnerId} was rejected already: the applicant can apply again`,
        );
      }
      if (status === 'rejected') await tx.releaseCodes(partnerId);
      emit(status === 'active' ? 'partner.approved' : 'partner.rejected', { application });
      return { application, changed: true };
    });
  }

  return {
    async submit(input, { ip, rateLimit } = {}) {
      const name = field(input?.name, 'a name', 200);
      const email = field(input?.email, 'an email address', 254).toLowerCase();
      if (!isEmailAddress(email)) throw new InvalidValueError(`"${email}" is not an email address`);
      const promotion = field(input?.promotion, 'a few words on how you promote', 2000);
      const code = validCode(field(input?.code, 'a referral code', 64));
      const programId = configuredProgram(options, input.programId).id;
      const db = await storage();
      if (ip) await countAttempt(db, ip, rateLimit);
      return transactions.run(db, async (tx) => {
        const duplicate = new ConflictError(`${email} has applied or is a partner already: the merchant will be in touch`);
        // Partners the merchant made are checked here; applications race on the email's unique key.
        if (await tx.partnerEmailTaken(email)) throw duplicate;
        const partner = await tx.insertApplication({ name, email, details: { promotion, code, programId }, at: options.clock() });
        if (!partner) throw duplicate;
        if (!(await tx.claimCode({ partnerId: partner.id, code, programId }))) {
          throw new ConflictError(`The referral code "${code}" is taken: choose another`);
        }
        const application = (await tx.getApplication(partner.id))!;
        emit('partner.applied', { application });
        return application;
      });
    },
    get,
    async list({ status } = {}) {
      return (await storage()).listApplications(status ? { status } : {});
    },
    approve: (partnerId) => decide(partnerId, 'active'),
    reject: (partnerId) => decide(partnerId, 'rejected'),
  };
}
