import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { describe, expect, it } from 'vitest';
import { MissingDependencyError } from '../../src/core/kernel/errors.js';
import { importOptional } from '../../src/core/kernel/optional-dependency.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** A scratch app folder whose node_modules holds this package, as `npm install` would place it. */
function scratchApp(): string {
  const app = mkdtempSync(join(tmpdir(), 'sa-app-'));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(root, join(app, 'node_modules', 'stripe-attribution'), 'dir');
  return app;
}

describe('the built package', () => {
  it('is built (npm test builds it first)', () => {
    expect(existsSync(join(root, 'dist/index.js')) && existsSync(join(root, 'dist/index.cjs'))).toBe(true);
  });

  for (const [format, fixture] of [
    ['ESM', 'import-esm.mjs'],
    ['CJS', 'import-cjs.cjs'],
  ] as const) {
    it(`imports every subpath from dist in ${format}`, async () => {
      const app = scratchApp();
      const { stdout } = await run(process.execPath, [join(root, 'test/fixtures', fixture)], {
        cwd: app,
        env: { ...process.env, NODE_PATH: join(app, 'node_modules') },
      });
      const result = JSON.parse(stdout);
      expect(result['stripe-attribution']).toEqual(
        expect.arrayContaining(['createAttribution', 'attributionFromEnv', 'MigrationError', 'MissingDependencyError', 'PGliteDialect', 'migrationSql']),
      );
      for (const adapter of ['express', 'koa', 'fastify']) {
        expect(result[`stripe-attribution/${adapter}`]).toEqual(['attributionDashboard', 'attributionMiddleware']);
      }
      expect(result['stripe-attribution/nextjs']).toEqual(['attributionDashboard', 'attributionMiddleware', 'clickCaptureRoute', 'webhookRoute', 'withAttribution']);
      expect(result['stripe-attribution/nextjs/edge']).toEqual(['attributionEdgeMiddleware']);
      expect(result['stripe-attribution/testing']).toEqual(expect.arrayContaining(['deliver', 'event', 'checkoutSession', 'invoice', 'legacyInvoice']));
      expect(result['stripe-attribution/better-auth']).toEqual(['attributionPlugin', 'forwardStripeEvents']);
      // One copy of the error classes across subpaths, or `instanceof` would lie to callers.
      expect(result.sharedErrorClass).toBe(true);
      expect(result.createAttribution).toBe('function');
    });
  }

  it('passes publint with no errors or warnings', async () => {
    const { messages } = await publint({ pkgDir: root, strict: true });
    expect(messages.map((m) => `${m.type}: ${m.code} ${m.path.join('.')}`)).toEqual([]);
  });

  it('declares the peers a merchant brings, optional where only one configuration needs them', () => {
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['@better-auth/stripe', '@electric-sql/pglite', 'better-auth', 'express', 'fastify', 'koa', 'kysely', 'next', 'pg', 'stripe']);
    for (const optional of ['@electric-sql/pglite', 'pg', 'express', 'koa', 'fastify', 'next', 'better-auth', '@better-auth/stripe']) {
      expect(pkg.peerDependenciesMeta[optional].optional, optional).toBe(true);
    }
    // The release lines CI runs (20 and 24) and the LTS between them; odd lines are never LTS.
    expect(pkg.engines.node).toBe('^20.9.0 || ^22.0.0 || >=24.0.0');
    expect(['20', '22', '24']).toContain(process.versions.node.split('.')[0]);
    expect(pkg.bin['stripe-attribution']).toBe('./dist/cli.js');
  });

  it('runs on embedded PGlite in ./.stripe-attribution when given no database', async () => {
    const app = scratchApp();
    const { stdout } = await run(process.execPath, [join(root, 'test/fixtures/embedded-default.mjs')], {
      cwd: app,
      env: { ...process.env, NODE_PATH: join(app, 'node_modules') },
    });
    expect(JSON.parse(stdout)).toEqual({ applied: ['0001_initial', '0002_invoice_payments', '0003_disputes_credits_subscriptions', '0004_rewards', '0005_payouts', '0006_charge_amounts', '0007_guest_customers', '0008_milestones', '0009_programs', '0010_partner_groups', '0011_charge_refunds', '0012_trial_seat_leads', '0013_payout_commission_count', '0014_partner_applications', '0015_fraud_review', '0016_connect', '0017_outbox', '0018_manual_adjustments'], partner: 'Embedded' });
    expect(existsSync(join(app, '.stripe-attribution', 'PG_VERSION'))).toBe(true);
    // The lock is released on close, so the next process can open it.
    expect(readdirSync(join(app, '.stripe-attribution')).filter((name) => name.startsWith('stripe-attribution.'))).toEqual([]);
  });
});

describe('the Edge entry point', () => {
  it('imports nothing but next/server, so it bundles for the Edge runtime', () => {
    for (const file of ['dist/nextjs-edge.js', 'dist/nextjs-edge.cjs']) {
      const code = readFileSync(join(root, file), 'utf8');
      const specifiers = [...code.matchAll(/(?:from\s+|require\(|import\()\s*["']([^"']+)["']/g)].map((m) => m[1]);
      expect(specifiers, file).toEqual(['next/server.js']);
    }
  });
});

describe('the better-auth entry point', () => {
  it('loads nothing of better-auth at run time: its types only, so the peers stay optional', () => {
    for (const file of ['dist/better-auth.js', 'dist/better-auth.cjs']) {
      const code = readFileSync(join(root, file), 'utf8');
      const specifiers = [...code.matchAll(/(?:from\s+|require\(|import\()\s*["']([^"']+)["']/g)].map((m) => m[1]);
      expect(specifiers.filter((specifier) => /better-auth/.test(specifier!)), file).toEqual([]);
    }
  });
});

describe('optional peer dependencies', () => {
  it('a missing one is named in the error, with the install command', async () => {
    const error = await importOptional('sa-no-such-package', 'The embedded database').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toContain('npm install sa-no-such-package');
    expect((error as Error).message).toContain('The embedded database needs the package "sa-no-such-package"');
  });

  it('other load failures are not disguised as a missing package', async () => {
    const broken = new SyntaxError('Unexpected token');
    await expect(importOptional('pg', 'Postgres', () => Promise.reject(broken))).rejects.toBe(broken);
  });
});
