import type { Command } from 'commander';
import type { Attribution } from '../core/attribution.js';
import { table } from './output.js';

type DatabaseCommand = (name: string, description: string, parent: Command) => Command;
type WithAttribution<F> = (flags: F, fn: (attribution: Attribution) => Promise<void>) => Promise<void>;

/** `outbox status` and `outbox retry`: the hook events that failed, and their replay. */
export function defineOutboxCommands<F>(program: Command, databaseCommand: DatabaseCommand, withAttribution: WithAttribution<F>, out: (line: string) => void): void {
  const outbox = program.command('outbox').description('Hook events waiting in the outbox: see the failing ones, replay them').exitOverride();

  databaseCommand('status', 'Count pending, failing and given-up hook events, and list the failing ones', outbox).action(async (flags: F) => {
    await withAttribution(flags, async (attribution) => {
      const status = await attribution.outbox.status();
      out(`${status.pending} pending, ${status.failing} failing (retried with backoff), ${status.dead} given up, ${status.stuck} stuck.`);
      const failed = await attribution.outbox.failed(50);
      if (failed.length > 0) {
        out(table(['Event', 'Name', 'Attempts', 'Next attempt', 'Last error'], failed.map((e) => [e.id, e.name, String(e.attempts), e.nextAttemptAt?.toISOString() ?? 'given up', (e.lastError ?? '').slice(0, 80)]), 3).trimEnd());
        out('Replay them with: npx stripe-attribution outbox retry [event-id…]');
      }
    });
  });

  databaseCommand('retry', 'Make failed and given-up hook events due again now (all, or the ids given); your app’s instances deliver them', outbox)
    .argument('[event-id...]', 'the events to replay (hook_…); default every failed one')
    .action(async (ids: string[], flags: F) => {
      await withAttribution(flags, async (attribution) => {
        const retried = await attribution.outbox.retry(ids.length > 0 ? ids : undefined);
        out(`${retried} hook event${retried === 1 ? '' : 's'} due again.`);
      });
    });
}
