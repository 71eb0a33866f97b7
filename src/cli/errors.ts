import { AttributionError, ConfigurationError } from '../core/kernel/errors.js';

/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** The work failed: database unreachable, tables missing, Stripe errors, events that failed. */
  failed: 1,
  /** The command cannot run as given: unknown command or option, a value it cannot read. Fix the call. */
  usage: 2,
} as const;

/** A command line or environment the CLI cannot use: exits 2. */
export class UsageError extends ConfigurationError {}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET']);

/**
 * The message and exit code for an error, saying what to do about it. Postgres error codes: 42P01
 * undefined table and 42703 undefined column mean migrations are missing; 3D000 unknown database;
 * 28P01 / 28000 refused credentials.
 */
export function explain(error: unknown, databaseFlags: string): { message: string; code: number } {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ConfigurationError) return { message, code: EXIT.usage };
  if (UNREACHABLE.has(code)) {
    return {
      message: `Cannot reach the database (${code}). Is Postgres running, and is the URL in --database-url / DATABASE_URL right?`,
      code: EXIT.failed,
    };
  }
  if (code === '42P01' || code === '42703') {
    return {
      message: `The stripe-attribution tables are missing or out of date in this database (${message}). ` +
        `Run: npx stripe-attribution migrate${databaseFlags}`,
      code: EXIT.failed,
    };
  }
  if (code === '3D000' || code === '28P01' || code === '28000') return { message: `Postgres refused the connection: ${message}`, code: EXIT.failed };
  if (error instanceof AttributionError) return { message, code: EXIT.failed };
  return { message: error instanceof Error && error.stack ? error.stack : message, code: EXIT.failed };
}
