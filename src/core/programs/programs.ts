import { isClickId } from '../clicks/click-id.js';
import { AttributionError } from '../kernel/errors.js';
import type { ResolvedOptions, ResolvedProgram } from '../options/options.js';
import type { AttributionEvidence, Customer, EvidenceCustomer, StorageOperations } from '../storage/types.js';

/** What tells which program a purchase, a lead or a milestone belongs to. */
export interface ProgramEvidence {
  livemode: boolean;
  /** Programs named explicitly (`metadata.sa_program_id`, a `programId` option), in order of precedence. */
  programIds?: Array<string | null | undefined>;
  /** The purchase's click ids, in order of precedence. */
  clickIds: Array<string | null | undefined>;
  stripeCustomerId: string | null;
  customerKey: string | null;
  email: string | null;
  /** Where the Stripe promotion code ids used are found, in order, asked only when nothing else decided. */
  promotionCodes?: Array<() => Promise<string[]>>;
}

/**
 * The program something belongs to, first match wins: a configured program named explicitly;
 * the program of a known click's code (the code that brought the visitor); the program of the
 * buyer's existing customer record (the one attributed first, else the oldest — so renewals and
 * later purchases stay where the customer is); the program of a partner's promotion code; else
 * the default program. Explicit names are checked against the configuration (metadata is only as
 * trustworthy as whoever created the Stripe object); stored clicks and customers are believed as
 * they are, so a program removed from the configuration keeps its customers, whose sales are
 * recorded in it and earn nothing.
 */
export async function programOf(
  tx: StorageOperations,
  options: ResolvedOptions,
  evidence: ProgramEvidence,
  read?: AttributionEvidence,
): Promise<string> {
  for (const id of evidence.programIds ?? []) if (id && options.programs.has(id)) return id;
  const clickIds = evidence.clickIds.filter(isClickId);
  const { livemode, stripeCustomerId, customerKey, email } = evidence;
  const stored = read ?? (await tx.readAttributionEvidence({ livemode, clickIds, stripeCustomerId, customerKey, email }));
  for (const clickId of clickIds) {
    const found = stored.clicks.find(({ click }) => click.id === clickId);
    if (found) return found.click.programId;
  }
  const known = (['stripeCustomerId', 'customerKey', 'email'] as const)
    .map((by) => firstCustomer(stored, by))
    .filter((customer) => customer !== undefined);
  const customer = known.find((candidate) => candidate.partnerId) ?? known[0];
  if (customer) return customer.programId;
  // With one program there is nothing to choose: no promotion code look-up (it may cost a Stripe call).
  if (options.programs.size === 1) return options.defaultProgramId;
  for (const source of evidence.promotionCodes ?? []) {
    const ids = await source();
    const codes = (await tx.findPromotionCodes(ids)).sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
    for (const code of codes) if ((await tx.getPartner(code.partnerId))?.status === 'active') return code.programId;
  }
  return options.defaultProgramId;
}

/**
 * The customer an identifier finds among the evidence (in `programId`, or in any program): the one
 * attributed first, else the oldest — as a look-up by that identifier alone would.
 */
export function firstCustomer(evidence: AttributionEvidence, by: keyof EvidenceCustomer['matchedBy'], programId?: string): Customer | undefined {
  let first: EvidenceCustomer | undefined;
  for (const found of evidence.customers) {
    if (!found.matchedBy[by] || (programId !== undefined && found.customer.programId !== programId)) continue;
    if (!first || found.rank < first.rank) first = found;
  }
  return first?.customer;
}

/** A program id given to the API, refused unless configured. */
export function configuredProgram(options: ResolvedOptions, programId: string | undefined): ResolvedProgram {
  const id = programId ?? options.defaultProgramId;
  const program = options.programs.get(id);
  if (!program) {
    throw new AttributionError(`No program "${id}": the configured programs are ${[...options.programs.keys()].map((known) => `"${known}"`).join(', ')}`);
  }
  return program;
}
