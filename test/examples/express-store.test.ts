import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('npm run demo (examples/express-store)', () => {
  it('walks the journey through real HTTP and signed webhooks, and prints the partner report with the right numbers', async () => {
    // Exactly the README's command, with no Stripe keys: the local stand-in for Stripe's API.
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'demo'], {
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
    expect(stdout).toMatch(/npx stripe-attribution report --data-dir \S+ --test\n$/);
  }, 60_000);
});
