import type { Command } from 'commander';
import type { Attribution } from '../core/attribution.js';
import { AttributionError } from '../core/kernel/errors.js';
import type { PartnerWithCodes } from '../core/partners/partners.js';

/** The flags every command that opens the database takes. */
export interface DatabaseFlags {
  config?: string;
  databaseUrl?: string;
  dataDir?: string;
  tablePrefix: string;
  schema?: string;
}

export interface OutputFlags {
  csv?: boolean;
  json?: boolean;
}

/**
 * What a command module gets from `main`: a command with the database flags, the instance (the
 * app's config, else the flags), and where to print.
 */
export interface CommandKit {
  databaseCommand(name: string, description: string, parent: Command): Command;
  /**
   * `money` names the command when it records or computes money, `config` says why else it needs
   * the app's own settings: then only the app's config will do (exit 2 without one).
   */
  withAttribution(flags: DatabaseFlags, fn: (attribution: Attribution) => Promise<void>, needs?: { money?: string; config?: string }): Promise<void>;
  out(line: string): void;
  err(line: string): void;
  stdout(text: string): void;
}

/** A partner by id (`ptn_…`) or by one of their referral codes. */
export async function partnerByIdOrCode(attribution: Attribution, idOrCode: string): Promise<PartnerWithCodes> {
  const partner = (await attribution.partners.get(idOrCode)) ?? (await attribution.partners.getByCode(idOrCode));
  if (!partner) throw new AttributionError(`No partner with id or code "${idOrCode}": see \`npx stripe-attribution partners list\``);
  return partner;
}
