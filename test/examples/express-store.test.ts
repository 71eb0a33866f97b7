import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { migratedDataDir } from '../support/data-dirs.js';

const root = resolve(import.meta.dirname, '../..');

describe('npm run demo (examples/express-store)', () => {
  it('walks the journey through real HTTP and signed webhooks, and prints the partner report with the right numbers', async () => {
    // The README's command, with no Stripe keys: the local stand-in for Stripe's API. Its database is a
    // copy of one initialised and migrated once: a fresh directory's initdb is the package test's subject.
    const dataDir = migratedDataDir('sa-demo-');
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'demo', '--', '--data-dir', dataDir], {
      cwd: root,
      env: { ...process.env, STRIPE_SECRET_KEY: '', STRIPE_WEBHOOK_SECRET: '', DATABASE_URL: '' },
    });
    expect(stdout).toContain('3. Zoë signs up as zoe@example.com: a lead, credited to Alice.');
    expect(stdout).toContain('Stripe sends the store signed webhooks: invoice.paid → 200, invoice_payment.paid → 200, checkout.session.completed → 200; she lands on /thanks.');
    expect(stdout).toContain('renews: invoice.paid → 200, invoice_payment.paid → 200.');
    expect(stdout).toContain('charge.refunded → 200.');

    // The lead ($2.00), the first payment (30% of $49.00) and the renewal, cut by the $19.60 refund:
    // 30% × ($49.00 − $19.60) = $8.82.
    const commissions = stdout.split('\n').filter((line) => /^ {3}(lead|sale) /.test(line)).map((line) => line.trim().split(/\s+/));
    expect(commissions).toEqual([
      ['lead', '$2.00', 'pending'],
      ['sale', '$14.70', 'pending'],
      ['sale', '$8.82', 'pending'],
    ]);
    const report = stdout.split('\n').filter((line) => line.startsWith('Alice ')).map((line) => line.trim().split(/\s+/).slice(2));
    // Clicks, leads, sales, revenue, refunded, then commissions pending, approved, paid, voided.
    expect(report).toEqual([
      ['2', '1', '1', '$49.00', '$0.00', '$16.70', '$0.00', '$0.00', '$0.00'],
      ['0', '0', '1', '$49.00', '$19.60', '$8.82', '$0.00', '$0.00', '$0.00'],
    ]);
    expect(stdout).toContain(`on embedded PGlite in ${dataDir}`);
    expect(stdout).toMatch(/npm run cli -- report --data-dir \S+ --test\n\(in your own app, where the package is installed: npx stripe-attribution report …\)\n$/);
  }, 60_000);
});

describe('npm run demo -- --serve', () => {
  it('seeds the program, serves the dashboard and a partner portal with the seeded partners, and stops on Ctrl-C', async () => {
    // Three days of history instead of 90: the same seeding, quicker.
    const demo = spawn('npm', ['run', '--silent', 'demo', '--', '--serve', '--days', '3', '--data-dir', migratedDataDir('sa-demo-serve-')], {
      cwd: root,
      env: { ...process.env, STRIPE_SECRET_KEY: '', STRIPE_WEBHOOK_SECRET: '', DATABASE_URL: '', PORT: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
      // Its own process group, which Ctrl-C signals as a whole, as a terminal does.
      detached: true,
    });
    const exited = once(demo, 'exit');
    const printed: string[] = [];
    const lines = createInterface({ input: demo.stdout! })[Symbol.asyncIterator]();
    for (let line = await lines.next(); !line.done; line = await lines.next()) {
      printed.push(line.value);
      if (line.value === 'Ctrl-C stops it.') break;
    }
    expect(printed.join('\n')).toMatch(/^Seeded 5 partners, \d+ payments/m);
    const dashboard = printed.find((line) => line.startsWith('Dashboard:'))!.split(/\s+/)[1]!;
    const portal = printed.find((line) => line.startsWith("Maya Chen's portal:"))!.split(/\s+/).at(-1)!;

    const page = await fetch(dashboard);
    expect(page.status).toBe(200);
    const body = await page.text();
    for (const name of ['Maya Chen', 'DevTools Weekly', 'Jonas Weber', 'Priya Patel', 'Lucas Martins']) expect(body).toContain(name);
    expect(body).toContain('last 3 days');
    const own = await fetch(portal);
    expect(own.status).toBe(200);
    const ownBody = await own.text();
    expect(ownBody).toContain('Maya Chen');
    expect(ownBody).not.toContain('Jonas Weber');

    process.kill(-demo.pid!, 'SIGINT');
    for (let line = await lines.next(); !line.done; line = await lines.next()) printed.push(line.value);
    await exited;
    expect(printed.at(-1)).toBe('Stopped: the server, the Stripe stand-in and the database are closed.');
    await expect(fetch(dashboard)).rejects.toThrow();
  }, 180_000);
});
