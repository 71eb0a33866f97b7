/**
 * `npm run test:nextjs`: the package as published (`npm pack`), in a copy of examples/nextjs with
 * only ONE database driver installed, through `next build` and `next start`: a referral visit, a
 * signup and a signed webhook over HTTP, then the rows they wrote, read from the database.
 * Then the same build started without its secrets: pages still render, clicks are off, the
 * webhook route answers 500 naming the setting, each problem logged once.
 *
 * The `pg` app needs DATABASE_URL (a Postgres it may create a schema in); the PGlite app uses its
 * embedded default directory. Each build takes a minute or two: kept out of `npm test`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/index.js';
import { checkoutSession, deliver, event } from '../../src/testing/index.js';

const root = resolve(import.meta.dirname, '../..');
const secret = 'whsec_nextjs_build';
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0';
const secrets = { STRIPE_SECRET_KEY: 'sk_test_nextjs_build', STRIPE_WEBHOOK_SECRET: secret, STRIPE_ATTRIBUTION_IP_SALT: 'nextjs-build-salt' };

/** The version this repository locked, so the apps install from npm's cache. */
const locked = (name: string) => `${name}@${JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version}`;

let work: string;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sa-nextjs-'));
  const packed = await run('npm', ['pack', '--silent', '--pack-destination', work], root);
  tarball = join(work, packed.trim().split('\n').pop()!);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
}, 300_000);

interface Case {
  driver: 'pg' | '@electric-sql/pglite';
  /** What the app's DATABASE_URL is set to, and what the test opens to read the rows. */
  database(app: string): Promise<{ url: string | undefined; location: string; query(sql: string): Promise<any[]>; drop(): Promise<void> }>;
}

const cases: Case[] = [
  {
    driver: 'pg',
    async database() {
      const base = process.env.DATABASE_URL;
      if (!base?.startsWith('postgres')) throw new Error('The pg app needs DATABASE_URL=postgres://… (a database it may create a schema in)');
      // A schema of its own, chosen through the connection string, as the app reads nothing else.
      const schema = `nextjs_${Date.now()}`;
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      const url = `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      return {
        url,
        location: url,
        query: async (sql) => (await admin.query(`set search_path = ${schema}; ${sql}`) as unknown as pg.QueryResult[])[1]!.rows,
        drop: async () => {
          await admin.query(`drop schema ${schema} cascade`);
          await admin.end();
        },
      };
    },
  },
  {
    driver: '@electric-sql/pglite',
    async database(app) {
      const location = join(app, '.stripe-attribution');
      return {
        url: undefined,
        location,
        // Read after the server stopped: the directory belongs to one process at a time.
        query: async (sql) => {
          const db = new PGlite(location);
          try {
            return (await db.query(sql)).rows as any[];
          } finally {
            await db.close();
          }
        },
        drop: async () => {},
      };
    },
  },
];

describe.each(cases)('Next.js production build with only $driver installed', ({ driver, database }) => {
  it('builds, starts, records a visit, a signup and a webhook, and survives missing secrets', async () => {
    const app = join(work, driver.replace(/\W/g, '-'));
    const timings: string[] = [];
    const timed = async <T>(label: string, step: () => Promise<T>): Promise<T> => {
      const start = performance.now();
      const result = await step();
      timings.push(`${label} ${((performance.now() - start) / 1000).toFixed(1)} s`);
      return result;
    };

    await timed('install', () => createApp(app, driver));
    // Neither driver may be reachable from the app: the build proves nothing otherwise.
    const other = driver === 'pg' ? '@electric-sql/pglite' : 'pg';
    expect(() => readFileSync(join(app, 'node_modules', other, 'package.json'))).toThrow();

    const db = await database(app);
    try {
      const setup = createAttribution({ database: db.location, clicks: { ipSalt: 'setup' } });
      await setup.migrate();
      const partner = await setup.partners.create({ name: 'Alice', code: 'alice' });
      await setup.close();

      // Built with no secrets at all, as on a build machine.
      await timed('next build', () => run(process.execPath, [nextBin(app), 'build'], app, { NEXT_TELEMETRY_DISABLED: '1' }));

      const server = await timed('next start', () => start(app, { ...secrets, ...(db.url ? { DATABASE_URL: db.url } : {}) }));
      let clickId: string;
      let lead: { userId: string; partnerId: string };
      try {
        const visit = await fetch(`${server.url}/?via=alice`, { headers: { 'user-agent': BROWSER, 'x-forwarded-for': '203.0.113.9' } });
        expect(visit.status).toBe(200);
        expect(await visit.text()).toContain('Welcome to the shop');
        const cookie = visit.headers.get('set-cookie')?.split(';')[0];
        expect(cookie).toMatch(/^sa_click=clk_/);
        clickId = cookie!.split('=')[1]!;

        const signup = await fetch(`${server.url}/api/signup`, {
          method: 'POST',
          headers: { 'user-agent': BROWSER, cookie: cookie!, 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'zoe@example.com' }),
        });
        lead = (await signup.json()) as { userId: string; partnerId: string };
        expect(signup.status).toBe(200);
        expect(lead.partnerId).toBe(partner.id);

        const webhookUrl = `${server.url}/api/webhooks/stripe`;
        const paid = event('checkout.session.completed', checkoutSession({ id: 'cs_nextjs_1', livemode: true, metadata: { sa_click_id: clickId } }));
        expect(await deliver(webhookUrl, paid, { secret })).toMatchObject({ status: 200, body: { received: true } });
        const forged = event('checkout.session.completed', checkoutSession({ id: 'cs_nextjs_forged', livemode: true }));
        expect(await deliver(webhookUrl, forged, { secret: 'whsec_someone_else' })).toMatchObject({ status: 400 });
      } finally {
        await server.stop();
      }
      expect(server.output()).not.toMatch(/Can't resolve|Error|\[stripe-attribution\]/);

      // The same build without its secrets: the site stays up, capture is off, webhooks say why.
      const bare = await start(app, db.url ? { DATABASE_URL: db.url } : {});
      try {
        for (let i = 0; i < 3; i += 1) {
          const visit = await fetch(`${bare.url}/?via=alice`, { headers: { 'user-agent': BROWSER } });
          expect(visit.status).toBe(200);
          expect(await visit.text()).toContain('Welcome to the shop');
          expect(visit.headers.get('set-cookie')).toBeNull();
        }
        const refused = await deliver(`${bare.url}/api/webhooks/stripe`, event('product.created', { id: 'prod_1', object: 'product' }), { secret });
        expect(refused.status).toBe(500);
        expect(refused.body.error).toContain('STRIPE_WEBHOOK_SECRET');
      } finally {
        await bare.stop();
      }
      expect(bare.output().match(/Click capture is off\. Set clicks\.ipSalt or STRIPE_ATTRIBUTION_IP_SALT/g)).toHaveLength(1);
      expect(bare.output().match(/Stripe webhooks are refused with 500\. Set webhookSecret or STRIPE_WEBHOOK_SECRET/g)).toHaveLength(1);

      expect(await db.query('select partner_id from sa_clicks')).toEqual([{ partner_id: partner.id }]);
      expect(await db.query(`select external_id, partner_id, click_id from sa_customers where external_id = '${lead.userId}'`)).toEqual([
        { external_id: lead.userId, partner_id: partner.id, click_id: clickId },
      ]);
      const sales = await db.query("select partner_id, click_id, amount::int as amount, currency from sa_sales");
      expect(sales).toEqual([{ partner_id: partner.id, click_id: clickId, amount: 10000, currency: 'usd' }]);
    } finally {
      await db.drop();
      console.info(`Next.js with only ${driver}: ${timings.join(', ')}`);
    }
  }, 900_000);
});

/** A fresh app: examples/nextjs as a merchant would have it, with the tarball and one driver. */
async function createApp(app: string, driver: string): Promise<void> {
  cpSync(join(root, 'examples/nextjs'), app, { recursive: true });
  // The example's own tsconfig maps the package to src/ for this repository's type-check.
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', lib: ['dom', 'dom.iterable', 'esnext'], strict: true, skipLibCheck: true, noEmit: true, module: 'esnext',
      moduleResolution: 'bundler', resolveJsonModule: true, isolatedModules: true, jsx: 'react-jsx', esModuleInterop: true,
      allowJs: true, incremental: true, plugins: [{ name: 'next' }], paths: { '@/*': ['./*'] },
    },
    include: ['next-env.d.ts', '**/*.ts', '**/*.tsx', '.next/types/**/*.ts', '.next/dev/types/**/*.ts'],
    exclude: ['node_modules'],
  }, null, 2));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'nextjs-example', private: true }, null, 2));
  const packages = ['next', 'react', 'react-dom', 'stripe', 'kysely', driver, 'typescript', '@types/node'].map(locked);
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...packages, '@types/react@19'], app);
}

const nextBin = (app: string) => join(app, 'node_modules/next/dist/bin/next');

async function start(app: string, env: Record<string, string>): Promise<{ url: string; output(): string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [nextBin(app), 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: app,
    env: { ...baseEnv(), NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopped(child);
  for (const deadline = Date.now() + 60_000; ; ) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${output}`);
    if (/Ready in/.test(output)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`next start did not get ready within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, output: () => output, stop };
}

function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** This process's environment without what would steer the app (a test's DATABASE_URL, NODE_ENV). */
function baseEnv(): NodeJS.ProcessEnv {
  const { DATABASE_URL: _url, NODE_ENV: _env, STRIPE_WEBHOOK_SECRET: _secret, STRIPE_SECRET_KEY: _key, STRIPE_ATTRIBUTION_IP_SALT: _salt, VITEST: _vitest, ...rest } = process.env;
  return rest;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`))));
  });
}
