import { InvalidArgumentError, type Command } from 'commander';
import type { Attribution } from '../core/attribution.js';
import { AttributionError } from '../core/kernel/errors.js';
import type { ApplicationStatus } from '../core/storage/types.js';
import { json, table } from './output.js';

/** What `applications` needs of the CLI's main module: its database flags and the way it gets an instance. */
export interface ApplicationCommandsContext<Flags> {
  databaseCommand(name: string, description: string, parent: Command): Command;
  withAttribution(flags: Flags, fn: (attribution: Attribution) => Promise<void>, needs?: { config?: string }): Promise<void>;
  out(line: string): void;
  stdout(text: string): void;
}

const STATUSES: readonly ApplicationStatus[] = ['pending', 'approved', 'rejected'];

/**
 * `applications list|approve|reject`. Deciding needs the app's config: `partner.approved` and
 * `partner.rejected` are your app's hooks (a welcome email, a CRM entry), registered on the
 * instance the config exports; an instance built from flags alone would skip them.
 */
export function applicationCommands<Flags>(program: Command, context: ApplicationCommandsContext<Flags>): void {
  const { databaseCommand, withAttribution, out, stdout } = context;
  const applications = program.command('applications').description('Partner applications from the public form: list, approve, reject').exitOverride();
  const because = (command: string) =>
    `${command} needs your app’s configuration, so the partner.approved / partner.rejected hooks your app registers run.`;

  databaseCommand('list', 'List applications (pending by default), newest first', applications)
    .option('--status <status>', 'pending, approved, rejected or all', (value: string) => {
      if (value !== 'all' && !STATUSES.includes(value as ApplicationStatus)) throw new InvalidArgumentError('one of pending, approved, rejected, all');
      return value;
    }, 'pending')
    .option('--json', 'JSON')
    .action(async (flags: Flags & { status: ApplicationStatus | 'all'; json?: boolean }) => {
      await withAttribution(flags, async (attribution) => {
        const list = await attribution.applications.list(flags.status === 'all' ? {} : { status: flags.status });
        if (flags.json) return void stdout(json(list));
        if (list.length === 0) return void out(`No ${flags.status === 'all' ? '' : `${flags.status} `}applications.`);
        const oneLine = (text: string) => (text.length > 60 ? `${text.slice(0, 59)}…` : text).replace(/\s+/g, ' ');
        stdout(
          table(
            ['Application', 'Name', 'Email', 'Code', 'Status', 'Applied', 'How they promote'],
            list.map((a) => [a.partner.id, a.partner.name, a.partner.email ?? '', a.details.code, a.status, a.appliedAt.toISOString().slice(0, 10), oneLine(a.details.promotion)]),
            7,
          ),
        );
      });
    });

  for (const action of ['approve', 'reject'] as const) {
    databaseCommand(action, action === 'approve' ? 'Approve applications: the partner becomes active and their code starts attributing' : 'Reject applications: their reserved codes are released', applications)
      .argument('<ids...>', 'the application ids (ptn_…), as listed')
      .action(async (ids: string[], flags: Flags) => {
        await withAttribution(
          flags,
          async (attribution) => {
            for (const id of ids) {
              if (!(await attribution.applications.get(id))) throw new AttributionError(`No application ${id}: list them with \`npx stripe-attribution applications list\``);
              const { application, changed } = await attribution.applications[action](id);
              const done = action === 'approve' ? 'approved' : 'rejected';
              out(
                changed
                  ? `Application ${id}: ${done}, ${application.partner.name} <${application.partner.email}>${action === 'approve' ? `, links with ?via=${application.details.code}` : ''}`
                  : `Application ${id}: already ${done}; nothing changed`,
              );
            }
          },
          { config: because(`applications ${action}`) },
        );
      });
  }
}
