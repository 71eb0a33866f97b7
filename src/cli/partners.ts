import { InvalidArgumentError, type Command } from 'commander';
import { rewardFromText, type SaleReward } from '../core/commissions/rewards.js';
import { UsageError } from './errors.js';
import { partnerByIdOrCode, type CommandKit, type DatabaseFlags, type OutputFlags } from './kit.js';
import { csv, json, table } from './output.js';

type ProgramFlag = { program?: string };

/** `partners …`: add, list, show and edit partners, their codes, reward, group and portal link. */
export function definePartnerCommands(program: Command, kit: CommandKit): void {
  const { databaseCommand, withAttribution, out, stdout } = kit;
  const partners = program.command('partners').description('Add, edit and list partners, their codes, rewards, groups and portal links').exitOverride();
  const inProgram = (flags: ProgramFlag) => (flags.program ? { programId: flags.program } : {});

  databaseCommand('add', 'Add a partner with a referral code (their link: https://your.site/?via=<code>)', partners)
    .argument('<name>', 'the partner’s name')
    .option('--email <email>', 'the partner’s email (their own purchases then earn nothing)')
    .option('--code <code>', 'referral code (default: a random 8-character code)')
    .option('--promotion-code <id...>', 'Stripe promotion code ids (promo_…) whose use credits this partner')
    .option('--json', 'print the partner as JSON')
    .action(async (name: string, flags: DatabaseFlags & { email?: string; code?: string; promotionCode?: string[]; json?: boolean }) => {
      await withAttribution(flags, async (attribution) => {
        const partner = await attribution.partners.create({
          name,
          ...(flags.email ? { email: flags.email } : {}),
          ...(flags.code ? { code: flags.code } : {}),
          ...(flags.promotionCode ? { promotionCodes: flags.promotionCode } : {}),
        });
        if (flags.json) return void stdout(json(partner));
        out(`Added partner ${partner.name} (${partner.id}), referral code ${partner.codes[0]}: links with ?via=${partner.codes[0]}`);
      });
    });

  databaseCommand('list', 'List partners and their codes', partners)
    .option('--csv', 'CSV')
    .option('--json', 'JSON')
    .action(async (flags: DatabaseFlags & OutputFlags) => {
      await withAttribution(flags, async (attribution) => {
        const list = await attribution.partners.list();
        if (flags.json) return void stdout(json(list));
        const header = ['Partner', 'Name', 'Email', 'Status', 'Codes', 'Promotion codes'];
        const rows = list.map((p) => [p.id, p.name, p.email ?? '', p.status, p.codes.join(' '), p.promotionCodes.join(' ')]);
        if (flags.csv) return void stdout(csv(header.map((title) => title.toLowerCase().replace(/ /g, '_')), rows));
        stdout(list.length === 0 ? 'No partners yet: add one with `npx stripe-attribution partners add <name>`.\n' : table(header, rows, 6));
      });
    });

  databaseCommand('show', 'Show a partner: codes with their share links, promotion codes, reward and group per program', partners)
    .argument('<partner>', 'the partner’s id or one of their codes')
    .option('--json', 'JSON')
    .action(async (idOrCode: string, flags: DatabaseFlags & { json?: boolean }) => {
      await withAttribution(flags, async (attribution) => {
        const partner = await partnerByIdOrCode(attribution, idOrCode);
        if (flags.json) return void stdout(json(partner));
        out(`${partner.name} (${partner.id}), ${partner.status}${partner.email ? `, ${partner.email}` : ''}`);
        for (const [programId, place] of Object.entries(partner.programs)) {
          out(`program ${programId}:`);
          for (const code of place.codes) out(`  code ${code}  ${attribution.partners.shareUrl(code)}`);
          for (const promo of place.promotionCodes) out(`  promotion code ${promo}`);
          out(`  reward ${place.reward ? describeReward(place.reward) : 'the group’s or program’s'}${place.groupId ? `, group ${place.groupId}` : ''}`);
        }
      });
    });

  databaseCommand('edit', 'Change a partner’s name or email', partners)
    .argument('<partner>', 'the partner’s id or one of their codes')
    .option('--name <name>', 'the new name')
    .option('--email <email>', 'the new email')
    .option('--remove-email', 'remove the email')
    .action(async (idOrCode: string, flags: DatabaseFlags & { name?: string; email?: string; removeEmail?: boolean }) => {
      if (flags.email !== undefined && flags.removeEmail) throw new UsageError('--email and --remove-email cannot go together');
      await withAttribution(flags, async (attribution) => {
        const partner = await partnerByIdOrCode(attribution, idOrCode);
        const changes = { ...(flags.name !== undefined ? { name: flags.name } : {}), ...(flags.email !== undefined ? { email: flags.email } : {}), ...(flags.removeEmail ? { email: null } : {}) };
        const updated = await attribution.partners.update(partner.id, changes);
        out(`Partner ${updated.id}: ${updated.name}${updated.email ? `, ${updated.email}` : ', no email'}`);
      });
    });

  for (const [name, description] of [
    ['disable', 'Disable a partner: their links record no clicks and credit no new customers'],
    ['enable', 'Enable a disabled partner again'],
  ] as const) {
    databaseCommand(name, description, partners)
      .argument('<partner>', 'the partner’s id or one of their codes')
      .action(async (idOrCode: string, flags: DatabaseFlags) => {
        await withAttribution(flags, async (attribution) => {
          const partner = await partnerByIdOrCode(attribution, idOrCode);
          await attribution.partners[name](partner.id);
          out(`Partner ${partner.name} (${partner.id}): ${name}d`);
        });
      });
  }

  databaseCommand('add-code', 'Give a partner another referral code', partners)
    .argument('<partner>', 'the partner’s id or one of their codes')
    .argument('<code>', 'the new code (letters, digits, - and _)')
    .option('--program <id>', 'the program the code belongs to (default: the default program)')
    .action(async (idOrCode: string, code: string, flags: DatabaseFlags & ProgramFlag) => {
      await withAttribution(flags, async (attribution) => {
        const partner = await partnerByIdOrCode(attribution, idOrCode);
        await attribution.partners.addCode(partner.id, code, inProgram(flags));
        out(`Partner ${partner.name}: code ${code.trim().toLowerCase()} added, ${attribution.partners.shareUrl(code.trim().toLowerCase())}`);
      });
    });

  databaseCommand('remove-code', 'Remove a referral code: its links record no more clicks, and the code is free again', partners)
    .argument('<partner>', 'the partner’s id (or another of their codes)')
    .argument('<code>', 'the code to remove')
    .action(async (idOrCode: string, code: string, flags: DatabaseFlags) => {
      await withAttribution(flags, async (attribution) => {
        const partner = await partnerByIdOrCode(attribution, idOrCode);
        await attribution.partners.removeCode(partner.id, code);
        out(`Partner ${partner.name}: code ${code.trim().toLowerCase()} removed`);
      });
    });

  databaseCommand('add-promo', 'Credit a partner with the sales that use a Stripe promotion code', partners)
    .argument('<partner>', 'the partner’s id or one of their codes')
    .argument('<promotionCode>', 'the promotion code’s id (promo_…)')
    .option('--program <id>', 'the program it belongs to (default: the default program)')
    .action(async (idOrCode: string, promo: string, flags: DatabaseFlags & ProgramFlag) => {
      await withAttribution(flags, async (attribution) => {
        const partner = await partnerByIdOrCode(attribution, idOrCode);
        await attribution.partners.addPromotionCode(partner.id, promo, inProgram(flags));
        out(`Partner ${partner.name}: promotion code ${promo.trim()} added`);
      });
    });

  databaseCommand('remove-promo', 'Remove a Stripe promotion code from a partner: its later uses credit no one', partners)
    .argument('<partner>', 'the partner’s id or one of their codes')
    .argument('<promotionCode>', 'the promotion code’s id (promo_…)')
    .action(async (idOrCode: string, promo: string, flags: DatabaseFlags) => {
      await withAttribution(flags, async (attribution) => {
        const partner = await partnerByIdOrCode(attribution, idOrCode);
        await attribution.partners.removePromotionCode(partner.id, promo);
        out(`Partner ${partner.name}: promotion code ${promo.trim()} removed`);
      });
    });

  databaseCommand('set-reward', 'Give a partner a sale reward of their own (for customers whose first sale comes later), or none to follow their group’s or program’s', partners)
    .argument('<partner>', 'the partner’s id or one of their codes')
    .argument('<reward>', '20% or a flat amount in minor units (500 = 5.00), or none')
    .option('--duration <duration>', 'lifetime, once, or months such as 12m', 'lifetime')
    .option('--program <id>', 'the program (default: the default program)')
    .action(async (idOrCode: string, rate: string, flags: DatabaseFlags & ProgramFlag & { duration: string }) => {
      const reward = rewardFromText(rate, flags.duration);
      await withAttribution(
        flags,
        async (attribution) => {
          const partner = await partnerByIdOrCode(attribution, idOrCode);
          await attribution.partners.setReward(partner.id, reward, inProgram(flags));
          out(`Partner ${partner.name}: ${reward ? `reward ${describeReward(reward)}` : 'follows their group’s or program’s reward'}`);
        },
        { money: 'partners set-reward' },
      );
    });

  databaseCommand('set-group', 'Put a partner in a group (its reward applies unless they have their own), or none to take them out', partners)
    .argument('<partner>', 'the partner’s id or one of their codes')
    .argument('<group>', 'the group’s id, or none')
    .option('--program <id>', 'with none: the program whose group they leave (default: the default program)')
    .action(async (idOrCode: string, groupId: string, flags: DatabaseFlags & ProgramFlag) => {
      await withAttribution(
        flags,
        async (attribution) => {
          const partner = await partnerByIdOrCode(attribution, idOrCode);
          if (groupId === 'none') await attribution.partners.groups.unassign(partner.id, inProgram(flags));
          else await attribution.partners.groups.assign(partner.id, groupId);
          out(`Partner ${partner.name}: ${groupId === 'none' ? 'in no group' : `in group ${groupId}`}`);
        },
        { money: 'partners set-group' },
      );
    });

  databaseCommand('portal-link', 'Print a signed link to the partner’s own portal (needs portal.secret and portal.url in your config)', partners)
    .argument('<partner>', 'the partner’s id or one of their codes')
    .option('--expires-in <days>', 'days the link stays valid (default: portal.expiresIn, 7 days)', positiveDays)
    .action(async (idOrCode: string, flags: DatabaseFlags & { expiresIn?: number }) => {
      await withAttribution(
        flags,
        async (attribution) => {
          const partner = await partnerByIdOrCode(attribution, idOrCode);
          out(await attribution.partners.portalUrl(partner.id, flags.expiresIn ? { expiresIn: flags.expiresIn * 86_400 } : {}));
        },
        { config: 'partners portal-link needs your app’s configuration: the link is signed with its portal.secret and points at its portal.url.' },
      );
    });

  databaseCommand('revoke-portal-links', 'Revoke every portal link issued to a partner so far (new links work)', partners)
    .argument('<partner>', 'the partner’s id or one of their codes')
    .action(async (idOrCode: string, flags: DatabaseFlags) => {
      await withAttribution(flags, async (attribution) => {
        const partner = await partnerByIdOrCode(attribution, idOrCode);
        await attribution.partners.revokePortalLinks(partner.id);
        out(`Revoked every earlier portal link of ${partner.name} (${partner.id}).`);
      });
    });
}

function describeReward(reward: SaleReward): string {
  const rate = reward.type === 'percent' ? `${reward.percent}%` : `${reward.amount} (minor units)`;
  const duration = reward.duration ?? 'lifetime';
  return `${rate}, ${typeof duration === 'string' ? duration : `${duration.months} months`}`;
}

function positiveDays(value: string): number {
  const days = Number(value);
  if (!/^\d+$/.test(value) || days < 1) throw new InvalidArgumentError('a whole number of days, such as 30');
  return days;
}
