import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
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

/** A claimant process, loaded once and raced round after round (test/fixtures/lock-claimant.ts). */
function startClaimant(dir: string, increments: number) {
  const child = spawn(process.execPath, [claimant, dir, String(increments)], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = once(child, 'exit');
  // A failed round leaves it waiting for the next.
  onTestFinished(() => void child.kill());
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error(`claimant exited ${(await exited)[0]}`);
    return line.value;
  };
  return {
    ready: next(),
    async claimAt(startAt: number): Promise<Outcome> {
      child.stdin.write(`${startAt}\n`);
      return JSON.parse(await next());
    },
    async release() {
      child.stdin.write('release\n');
      expect(await next()).toBe('released');
    },
    async stop() {
      child.stdin.end();
      expect((await exited)[0]).toBe(0);
    },
  };
}

/**
 * Tells both claimants the same millisecond to claim at. A winner holds the lock until both have
 * answered: a claimant descheduled past the winner's whole turn (a busy machine) would otherwise
 * find the lock already released, and win a race that never happened.
 */
async function race(claimants: ReturnType<typeof startClaimant>[]): Promise<Outcome[]> {
  const startAt = Date.now() + 50;
  const outcomes = await Promise.all(claimants.map((c) => c.claimAt(startAt)));
  await Promise.all(claimants.filter((_, i) => outcomes[i]!.won).map((c) => c.release()));
  return outcomes;
}

describe('the embedded database lock', () => {
  it('two processes starting in the same millisecond: exactly one wins, every time, and no write is lost', { timeout: 240_000 }, async () => {
    const ROUNDS = 12;
    const INCREMENTS = 20;
    const dir = mkdtempSync(join(tmpdir(), 'sa-lock-race-'));
    writeFileSync(join(dir, 'counter'), '0');
    let onTime = 0;
    // Two processes for every round: loading one costs far more than the race it runs.
    const claimants = [startClaimant(dir, INCREMENTS), startClaimant(dir, INCREMENTS)];
    expect(await Promise.all(claimants.map((c) => c.ready))).toEqual(['ready', 'ready']);
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
      const results = await race(claimants);
      expect(results.filter((r) => r.won)).toHaveLength(1);
      if (!results.some((r) => r.late)) onTime++;
      // The winner released its lock and cleared the one it superseded; no temporary file is left.
      expect(readdirSync(dir).sort()).toEqual(['counter']);
    }
    await Promise.all(claimants.map((c) => c.stop()));
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
