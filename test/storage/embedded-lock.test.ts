import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedDatabaseLockedError } from '../../src/core/kernel/errors.js';
import { claimDirectory } from '../../src/core/storage/embedded.js';

const root = resolve(import.meta.dirname, '../..');
/** The claimant bundled once: loading TypeScript through a loader in every child costs seconds on a busy machine. */
let claimant: string;
beforeAll(async () => {
  claimant = join(mkdtempSync(join(root, 'node_modules/.cache-sa-lock-')), 'lock-claimant.mjs');
  await build({ entryPoints: [join(root, 'test/fixtures/lock-claimant.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: claimant, logLevel: 'silent' });
});
afterAll(() => rmSync(dirname(claimant), { recursive: true, force: true }));
const locks = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('stripe-attribution.')).sort();
const holderOf = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as { pid: number; hostname: string; token: string };
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

interface Outcome {
  won: boolean;
  late: boolean;
}

/** Starts two claimants, and once both are loaded tells them the same millisecond to claim at. */
async function race(dir: string, increments: number): Promise<Outcome[]> {
  const children = [0, 1].map(() => {
    const child = spawn(process.execPath, [claimant, dir, String(increments)], { cwd: root });
    let stdout = '';
    const ready = new Promise<void>((done) => child.stdout.on('data', (chunk) => (stdout += chunk) && stdout.includes('ready\n') && done()));
    const exited = new Promise<Outcome>((done, fail) =>
      child.on('exit', (code) => (code === 0 ? done(JSON.parse(stdout.slice(stdout.indexOf('\n') + 1))) : fail(new Error(`claimant exited ${code}`)))),
    );
    return { child, ready, exited };
  });
  await Promise.all(children.map((c) => c.ready));
  const startAt = Date.now() + 50;
  for (const { child } of children) child.stdin.end(String(startAt));
  return Promise.all(children.map((c) => c.exited));
}

describe('the embedded database lock', () => {
  it('two processes starting in the same millisecond: exactly one wins, every time, and no write is lost', { timeout: 240_000 }, async () => {
    const ROUNDS = 12;
    const INCREMENTS = 20;
    const dir = mkdtempSync(join(tmpdir(), 'sa-lock-race-'));
    writeFileSync(join(dir, 'counter'), '0');
    let onTime = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // What the two find: an empty directory, a lock left by a crash on this host, or one left by
      // a container (another hostname) silent for longer than the age limit.
      if (round % 3 === 1) writeFileSync(join(dir, 'stripe-attribution.7.lock'), JSON.stringify({ pid: deadPid(), hostname: hostname(), token: 'crashed' }));
      if (round % 3 === 2) {
        const file = join(dir, 'stripe-attribution.3.lock');
        writeFileSync(file, JSON.stringify({ pid: 1, hostname: 'gone-container', token: 'abandoned' }));
        const longAgo = new Date(Date.now() - 3_600_000);
        utimesSync(file, longAgo, longAgo);
      }
      const results = await race(dir, INCREMENTS);
      expect(results.filter((r) => r.won)).toHaveLength(1);
      if (!results.some((r) => r.late)) onTime++;
      // The winner released its lock and cleared the one it superseded; no temporary file is left.
      expect(readdirSync(dir).sort()).toEqual(['counter']);
    }
    expect(Number(readFileSync(join(dir, 'counter'), 'utf8'))).toBe(ROUNDS * INCREMENTS);
    // The race is real: most rounds had both processes waiting for the same millisecond.
    expect(onTime).toBeGreaterThan(ROUNDS / 2);
  });

  it('a live holder on another host is refused until it has been silent past the age limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-lock-host-'));
    const theirs = join(dir, 'stripe-attribution.4.lock');
    writeFileSync(theirs, JSON.stringify({ pid: process.pid, hostname: 'other-container', token: 'theirs' }));
    expect(() => claimDirectory(dir)).toThrow(EmbeddedDatabaseLockedError);
    expect(() => claimDirectory(dir)).toThrow(/in use by process \d+ on other-container/);
    const silent = new Date(Date.now() - 61_000);
    utimesSync(theirs, silent, silent);
    const release = claimDirectory(dir);
    expect(locks(dir)).toEqual(['stripe-attribution.5.lock']);
    expect(holderOf(dir, 'stripe-attribution.5.lock')).toMatchObject({ pid: process.pid, hostname: hostname() });
    release();
    expect(locks(dir)).toEqual([]);
  });

  it('a live holder on this host is refused, however old its lock looks, until its heartbeat stops', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-lock-live-'));
    writeFileSync(join(dir, 'stripe-attribution.1.lock'), JSON.stringify({ pid: process.ppid, hostname: hostname(), token: 'parent' }));
    expect(() => claimDirectory(dir)).toThrow(`in use by process ${process.ppid}`);
    expect(locks(dir)).toEqual(['stripe-attribution.1.lock']);
  });

  it('a holder that was superseded never removes the lock of the one that replaced it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-lock-owner-'));
    const first = claimDirectory(dir);
    const firstToken = holderOf(dir, 'stripe-attribution.1.lock').token;
    // This pid claiming again is how a restarted container with the same pid looks: it takes over.
    const second = claimDirectory(dir);
    expect(locks(dir)).toEqual(['stripe-attribution.2.lock']);
    second();
    const third = claimDirectory(dir);
    expect(locks(dir)).toEqual(['stripe-attribution.1.lock']);
    const thirdToken = holderOf(dir, 'stripe-attribution.1.lock').token;
    expect(thirdToken).not.toBe(firstToken);
    // The first claim's release finds a lock under its old name that is not its own: left alone.
    first();
    expect(locks(dir)).toEqual(['stripe-attribution.1.lock']);
    third();
    expect(locks(dir)).toEqual([]);
  });
});
