import type { Command } from 'commander';
import type { Attribution } from '../core/attribution.js';
import type { Commission } from '../core/storage/types.js';
import { json, money, table } from './output.js';

/** What `main.ts` lends the review commands: its database flags, its instance, its output. */
export interface ReviewCommandKit<Flags> {
  databaseCommand(name: string, description: string, parent: Command): Command;
  /** Runs with the app's instance; `money` names a command that needs the app's own config. */
  withAttribution(flags: Flags, fn: (attribution: Attribution) => Promise<void>, needs?: { money?: string }): Promise<void>;
  out(line: string): void;
}

/**
 * `review list | clear | void`: the fraud review of commissions a fraud rule held. Decisions
 * change the ledger, so they run only on the app's own configuration (its rules and programs).
 */
export function defineReviewCommands<Flags>(program: Command, kit: ReviewCommandKit<Flags>): void {
  const review = program.command('review').description('Fraud review: commissions a fraud rule held, cleared or voided by you').exitOverride();

  kit
    .databaseCommand('list', 'List commissions held for review, with the rules that flagged them', review)
    .option('--partner <id>', 'only this partner’s')
    .option('--test', 'test-mode data instead of live')
    .option('--json', 'JSON')
    .action(async (flags: Flags & { partner?: string; test?: boolean; json?: boolean }) => {
      await kit.withAttribution(flags, async (attribution) => {
        const held = await attribution.commissions.review.list({ livemode: !flags.test, ...(flags.partner ? { partnerId: flags.partner } : {}) });
        if (flags.json) return kit.out(json(held).trimEnd());
        const names = new Map((await attribution.partners.list()).map((p) => [p.id, p.name]));
        kit.out(held.length === 0 ? 'No commissions held for review.' : table(['Commission', 'Partner', 'Amount', 'Created', 'Flags'], held.map((c) => row(c, names)), 2).trimEnd());
      });
    });

  kit
    .databaseCommand('clear', 'Clear a held commission: pending until its hold period ends, then approved as usual', review)
    .argument('<commissionId>', 'the commission id (com_…), as listed')
    .option('--note <note>', 'why, kept with the decision')
    .option('--by <name>', 'who decided, kept with the decision')
    .action(async (id: string, flags: Flags & { note?: string; by?: string }) => {
      await kit.withAttribution(
        flags,
        async (attribution) => {
          const cleared = await attribution.commissions.review.clear(id, { ...(flags.note ? { note: flags.note } : {}), by: flags.by ?? 'cli' });
          kit.out(`Commission ${id}: cleared, now ${cleared.status} (${money(cleared.amount, cleared.currency)})`);
        },
        { money: 'review clear' },
      );
    });

  kit
    .databaseCommand('void', 'Void a held commission; the customer earns no later commissions (unless --no-block)', review)
    .argument('<commissionId>', 'the commission id (com_…), as listed')
    .requiredOption('--reason <reason>', 'why, kept in the ledger')
    .option('--by <name>', 'who decided, kept with the decision')
    .option('--no-block', 'let the customer’s later purchases earn commissions')
    .action(async (id: string, flags: Flags & { reason: string; by?: string; block: boolean }) => {
      await kit.withAttribution(
        flags,
        async (attribution) => {
          await attribution.commissions.review.void(id, { reason: flags.reason, by: flags.by ?? 'cli', block: flags.block });
          kit.out(`Commission ${id}: voided (${flags.reason})${flags.block ? '; the customer earns no later commissions' : ''}`);
        },
        { money: 'review void' },
      );
    });
}

function row(commission: Commission, names: ReadonlyMap<string, string>): string[] {
  return [
    commission.id,
    names.get(commission.partnerId) ?? commission.partnerId,
    money(commission.amount, commission.currency),
    commission.createdAt.toISOString().slice(0, 10),
    commission.flags.map((flag) => `${flag.rule}: ${flag.reason}`).join('; '),
  ];
}
