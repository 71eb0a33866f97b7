import type { Command } from 'commander';
import type { CommissionStatus } from '../core/storage/types.js';
import { AttributionError } from '../core/kernel/errors.js';
import { UsageError } from './errors.js';
import { partnerByIdOrCode, type CommandKit, type DatabaseFlags, type OutputFlags } from './kit.js';
import { csv, json, money, table } from './output.js';

const STATUSES: readonly CommissionStatus[] = ['pending', 'approved', 'held', 'paid', 'voided'];

type ListFlags = DatabaseFlags & OutputFlags & { partner?: string; program?: string; test?: boolean };

/** `commissions list|approve|void`, `sales list`, `customers forget`. */
export function defineLedgerCommands(program: Command, kit: CommandKit): void {
  const { databaseCommand, withAttribution, out, stdout } = kit;
  const day = (date: Date | null) => (date ? date.toISOString().slice(0, 10) : '');

  const commissions = program.command('commissions').description('List, approve and void commissions').exitOverride();

  databaseCommand('list', 'List commissions, oldest first', commissions)
    .option('--partner <idOrCode>', 'one partner, by id or referral code')
    .option('--status <status>', STATUSES.join(', '))
    .option('--program <id>', 'one program')
    .option('--test', 'test-mode data instead of live')
    .option('--csv', 'CSV, amounts in minor units')
    .option('--json', 'JSON, amounts in minor units')
    .action(async (flags: ListFlags & { status?: string }) => {
      if (flags.status !== undefined && !STATUSES.includes(flags.status as CommissionStatus)) throw new UsageError(`--status "${flags.status}": one of ${STATUSES.join(', ')}`);
      await withAttribution(flags, async (attribution) => {
        const partner = flags.partner ? await partnerByIdOrCode(attribution, flags.partner) : undefined;
        const list = (await attribution.commissions.list({ ...(partner ? { partnerId: partner.id } : {}), ...(flags.program ? { programId: flags.program } : {}) })).filter(
          (c) => c.livemode === !flags.test && (!flags.status || c.status === flags.status),
        );
        if (flags.json) return void stdout(json(list.map((c) => ({ ...c, exactNumerator: String(c.exactNumerator) }))));
        const header = ['Commission', 'Partner', 'Kind', 'Amount', 'Currency', 'Status', 'Hold until', 'Payout', 'Reason'];
        if (flags.csv) {
          return void stdout(csv(header.map((t) => t.toLowerCase().replace(/ /g, '_')), list.map((c) => [c.id, c.partnerId, c.kind, String(c.amount), c.currency, c.status, day(c.holdUntil), c.payoutId ?? '', c.reason ?? ''])));
        }
        if (list.length === 0) return void stdout(`No commissions${flags.status ? ` ${flags.status}` : ''}${flags.test ? ' in test mode' : ' in live mode (add --test for Stripe test-mode data)'}.\n`);
        const names = new Map((await attribution.partners.list()).map((p) => [p.id, p.name]));
        stdout(table(['Commission', 'Partner', 'Kind', 'Amount', 'Status', 'Hold until', 'Payout', 'Reason'], list.map((c) => [c.id, names.get(c.partnerId) ?? c.partnerId, c.kind, money(c.amount, c.currency), c.status, day(c.holdUntil), c.payoutId ?? '', c.reason ?? '']), 3));
      });
    });

  databaseCommand('approve', 'Approve pending commissions now, before their hold period ends', commissions)
    .argument('<commissionIds...>', 'the commission ids, as listed')
    .action(async (ids: string[], flags: DatabaseFlags) => {
      await withAttribution(
        flags,
        async (attribution) => {
          const { approved } = await attribution.commissions.approve(ids);
          out(`Approved ${approved} of ${ids.length} commission${ids.length === 1 ? '' : 's'}${approved < ids.length ? ' (the others are not pending: held, voided, paid or unknown)' : ''}.`);
        },
        { money: 'commissions approve' },
      );
    });

  databaseCommand('void', 'Void a commission by hand, with the reason kept in the ledger', commissions)
    .argument('<commissionId>', 'the commission id, as listed')
    .requiredOption('--reason <text>', 'why (kept in the ledger)')
    .option('--fraud', 'also block every later commission for this customer')
    .action(async (id: string, flags: DatabaseFlags & { reason: string; fraud?: boolean }) => {
      if (!flags.reason.trim()) throw new UsageError('--reason needs some text: it is kept in the ledger');
      await withAttribution(
        flags,
        async (attribution) => {
          const voided = await attribution.commissions.void(id, flags.reason.trim(), { fraud: flags.fraud ?? false });
          out(`Commission ${voided.id}: voided (${flags.reason.trim()})${flags.fraud ? '; its customer earns no later commissions' : ''}`);
        },
        { money: 'commissions void' },
      );
    });

  const sales = program.command('sales').description('The sales ledger').exitOverride();

  databaseCommand('list', 'List sales, oldest first (untaxed amounts)', sales)
    .option('--partner <idOrCode>', 'one partner, by id or referral code')
    .option('--program <id>', 'one program')
    .option('--test', 'test-mode data instead of live')
    .option('--csv', 'CSV, amounts in minor units')
    .option('--json', 'JSON, amounts in minor units')
    .action(async (flags: ListFlags) => {
      await withAttribution(flags, async (attribution) => {
        const partner = flags.partner ? await partnerByIdOrCode(attribution, flags.partner) : undefined;
        const list = await attribution.sales.list({ livemode: !flags.test, ...(partner ? { partnerId: partner.id } : {}), ...(flags.program ? { programId: flags.program } : {}) });
        if (flags.json) return void stdout(json(list));
        const stripeId = (s: (typeof list)[number]) => s.stripeInvoiceId ?? s.stripePaymentIntentId ?? s.stripeCheckoutSessionId ?? s.externalInvoiceId ?? '';
        if (flags.csv) {
          const header = ['sale', 'date', 'partner_id', 'customer_id', 'amount', 'refunded', 'currency', 'source'];
          return void stdout(csv(header, list.map((s) => [s.id, s.occurredAt.toISOString(), s.partnerId ?? '', s.customerId ?? '', String(s.amount), String(s.amountRefunded), s.currency, stripeId(s)])));
        }
        if (list.length === 0) return void stdout(`No sales${flags.test ? ' in test mode' : ' in live mode (add --test for Stripe test-mode data)'}.\n`);
        const names = new Map((await attribution.partners.list()).map((p) => [p.id, p.name]));
        stdout(table(['Sale', 'Date', 'Partner', 'Source', 'Amount', 'Refunded'], list.map((s) => [s.id, day(s.occurredAt), s.partnerId ? (names.get(s.partnerId) ?? s.partnerId) : '(none)', stripeId(s), money(s.amount, s.currency), money(s.amountRefunded, s.currency)]), 4));
      });
    });

  const customers = program.command('customers').description('Customers’ personal data').exitOverride();

  databaseCommand('forget', 'Erase a customer’s personal data (GDPR erasure); the money ledger stays as it was', customers)
    .argument('<who>', 'your user id for them (or, with --email / --stripe-customer, their email or Stripe customer id)')
    .option('--email', '<who> is an email')
    .option('--stripe-customer', '<who> is a Stripe customer id (cus_…)')
    .action(async (who: string, flags: DatabaseFlags & { email?: boolean; stripeCustomer?: boolean }) => {
      if (flags.email && flags.stripeCustomer) throw new UsageError('--email and --stripe-customer cannot go together');
      await withAttribution(flags, async (attribution) => {
        const key = flags.email ? { email: who } : flags.stripeCustomer ? { stripeCustomerId: who } : { externalId: who };
        if (!(await attribution.customers.forget(key))) throw new AttributionError(`No customer ${who}: nothing was erased`);
        out(`Customer ${who}: personal data erased; their sales and commissions stay in the ledger`);
      });
    });
}
