import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { stripeAttribution } from '../support/cli.js';
import { emptyDataDir } from '../support/data-dirs.js';

const dir = emptyDataDir('sa-cli-outbox-');
// Open throughout: the in-process CLI and the instances below share a directory this process has
// open instead of loading it again each time (opening it is cli.test.ts's subject).
const keeper = createAttribution({ database: dir });
beforeAll(() => keeper.storage());
afterAll(async () => {
  await keeper.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('npx stripe-attribution outbox, doctor and revoke-portal-links (embedded PGlite)', { timeout: 180_000 }, () => {
  it('doctor reports a given-up hook event, outbox status lists it, outbox retry replays it; revoke-portal-links moves the link version on', async () => {
    const app = createAttribution({ database: dir, livemode: false, onError: () => {}, outbox: { worker: false, maxAttempts: 1 } });
    await app.migrate();
    const partner = await app.partners.create({ name: 'Alice', code: 'alice' });
    app.on('sale.created', () => {
      throw new Error('the CRM is down');
    });
    await app.trackSale({ customerExternalId: 'user_1', amount: 4200, currency: 'usd', invoiceId: 'order_1' });
    expect(await app.outbox.drain()).toEqual({ delivered: 0, failed: 1 });
    await app.close();

    const doctor = await stripeAttribution(['doctor', '--data-dir', dir]);
    expect(doctor.stdout).toMatch(/fail\s+hook events\s+1 given up after every attempt, 0 failing: fix the cause, then npx stripe-attribution outbox retry\. Last error: the CRM is down/);
    expect(doctor.code).toBe(1);

    const status = await stripeAttribution(['outbox', 'status', '--data-dir', dir]);
    expect(status.stdout).toContain('0 pending, 0 failing (retried with backoff), 1 given up, 0 stuck.');
    expect(status.stdout).toMatch(/hook_\S+\s+sale\.created\s+1\s+given up\s+the CRM is down/);

    const retry = await stripeAttribution(['outbox', 'retry', '--data-dir', dir]);
    expect(retry).toMatchObject({ code: 0, stdout: '1 hook event due again.\n' });

    const revoke = await stripeAttribution(['partners', 'revoke-portal-links', partner.id, '--data-dir', dir]);
    expect(revoke).toMatchObject({ code: 0, stdout: `Revoked every earlier portal link of ${partner.name} (${partner.id}).\n` });

    const restarted = createAttribution({ database: dir, livemode: false, onError: () => {}, outbox: { worker: false } });
    const seen: number[] = [];
    restarted.on('sale.created', ({ sale }) => void seen.push(sale.amount));
    expect(await restarted.outbox.drain()).toEqual({ delivered: 1, failed: 0 });
    expect(seen).toEqual([4200]);
    expect(await (await restarted.storage()).portalLinkVersion(partner.id)).toBe(1);
    await restarted.close();
    const after = await stripeAttribution(['doctor', '--data-dir', dir]);
    expect(after.stdout).toMatch(/ok\s+hook events\s+all delivered/);
  });
});
