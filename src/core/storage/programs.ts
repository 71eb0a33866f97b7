import { sql } from 'kysely';
import type { Db } from './rows.js';

/** The id of the `program` shorthand, and of everything recorded before programs had ids. */
export const DEFAULT_PROGRAM_ID = 'default';

/**
 * A sale's, milestone's or commission's program: its customer's, read in the same statement, so
 * the rule lives in one place and a row can never disagree with its customer.
 */
export function programOfCustomer(db: Db, customerId: string | null | undefined) {
  if (!customerId) return DEFAULT_PROGRAM_ID;
  const program = db.selectFrom('customers').select('program_id').where('id', '=', customerId);
  return sql<string>`coalesce((${program}), ${DEFAULT_PROGRAM_ID})`;
}
