import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createAttribution } from '../src/core/attribution.js';
import type { Framework, Variant } from './middleware-server.js';
import { nodeMajor, type NodeBinary } from './nodes.js';
import { benchPool, envInt, freshSchema, kyselyOn, log, median, round } from './support.js';

export interface MiddlewareFigure {
  /** The Node the app processes ran on (autocannon stays on the parent's). */
  node: string;
  framework: Framework;
  scenario: 'no referral' | 'no referral, empty middleware' | 'no referral, scope only' | 'referral visit' | 'referral visit, batched';
  /** Median over rounds, without and with the middleware (in the scenario's click-write mode). */
  plainRps: number;
  attributionRps: number;
  plainP99: number;
  attributionP99: number;
  /** Requests served with / without over all rounds; p99: ratio of the medians. */
  throughputRatio: number;
  p99Ratio: number;
  /** How far the baseline alone moved between rounds: (max − min) / median req/s without. */
  baselineSpread: number;
  /** The app process's CPU time (user + system) per request served, over all rounds, without and with. */
  plainCpuMicros: number;
  attributionCpuMicros: number;
  /** The user-space part of it: where the middleware's JavaScript runs (system time is mostly the loopback socket). */
  plainUserMicros: number;
  attributionUserMicros: number;
  /** Whether the apps ran on a core of their own, apart from autocannon (`taskset`, Linux). */
  pinned: boolean;
  /** CPU per request with / without, minus one: what the middleware adds to each request. */
  addedCpu: number;
  /** Responses other than 2xx, or socket errors, in the middleware's runs (must be 0). */
  failures: number;
  target: number;
}

type Side = 'plain' | 'attribution';

const SCHEMA = 'bench_mw';
const SERVER = fileURLToPath(new URL('./middleware-server.ts', import.meta.url));

/**
 * The same hello route with and without attributionMiddleware, per framework, under autocannon:
 * alternating runs (ABBA order across rounds) so drift on a noisy machine hits both sides alike.
 */
export async function benchMiddleware(node: NodeBinary): Promise<MiddlewareFigure[]> {
  const { seconds: duration, connections, rounds: plainRounds, referralRounds } = middlewareSettings();
  const frameworks = (process.env.BENCH_MW_FRAMEWORKS ?? 'express,koa,fastify').split(',') as Framework[];

  const pool = benchPool(4);
  const db = kyselyOn(pool);
  await freshSchema(db, SCHEMA);
  const setup = createAttribution({ database: db, schema: SCHEMA, clicks: { ipSalt: 'bench-salt' } });
  await setup.migrate();
  await setup.partners.create({ name: 'Alice', code: 'alice' });
  // A returning visitor: a cookie holding a real click, which the middleware reads on every request.
  const { clickId } = await setup.captureClick({ method: 'GET', url: 'https://shop.example/?via=alice', headers: { 'user-agent': 'Mozilla/5.0' } });
  await db.destroy();

  const returning = { cookie: `sa_click=${clickId}` };
  const allScenarios: Scenario[] = [
    { scenario: 'no referral', with: 'attribution', path: '/', headers: returning, target: 0.97 },
    // The floors on Node 24+, where the CPU target is: what the framework charges for any
    // middleware, and the context scope alone, which any way of carrying the click to trackLead
    // through AsyncLocalStorage pays.
    ...(nodeMajor(node.version) >= 24
      ? ([
          { scenario: 'no referral, empty middleware', with: 'empty', path: '/', headers: returning, target: 0.97 },
          { scenario: 'no referral, scope only', with: 'scope', path: '/', headers: returning, target: 0.97 },
        ] as const)
      : []),
    // No cookie: every request is a new visitor through Alice's link, so each records a click.
    { scenario: 'referral visit', with: 'attribution', path: '/?via=alice', headers: {}, target: 0.9 },
    { scenario: 'referral visit, batched', with: 'batched', path: '/?via=alice', headers: {}, target: 0.9 },
  ];
  // BENCH_MW_SCENARIOS=no-referral,no-referral-empty-middleware,no-referral-scope-only,referral-visit,referral-visit-batched picks some (all by default).
  const picked = process.env.BENCH_MW_SCENARIOS?.split(',');
  const scenarios = allScenarios.filter(({ scenario }) => !picked || picked.includes(scenario.replace(/,? /g, '-')));
  const variants = new Set<Variant>(['plain', ...scenarios.map((s) => s.with)]);
  const figures: MiddlewareFigure[] = [];
  const cores = pinApart();
  let pinned = cores !== undefined;
  try {
    for (const framework of frameworks) {
      const servers: Partial<Record<Variant, { child: ChildProcess; port: number }>> = {};
      for (const variant of variants) {
        servers[variant] = await startServer(node, framework, variant);
        if (cores) pinned = taskset(servers[variant].child.pid!, cores.apps) && pinned;
      }
      try {
        for (const scenario of scenarios) {
          // `attribution` below names the side under test: the scenario's server.
          const sides = { plain: servers.plain!, attribution: servers[scenario.with]! };
          const rounds = scenario.scenario.startsWith('no referral') ? plainRounds : referralRounds;
          figures.push({ node: node.version, framework, pinned, ...(await measure(scenario, sides, { seconds: duration, connections, rounds }, `${node.version} ${framework}`)) });
        }
      } finally {
        for (const server of Object.values(servers)) server.child.disconnect();
      }
    }
  } finally {
    if (cores) taskset(process.pid, cores.all);
  }
  return figures;
}

interface Scenario {
  scenario: MiddlewareFigure['scenario'];
  /** The server measured against the plain one. */
  with: Exclude<Variant, 'plain'>;
  path: string;
  headers: Record<string, string>;
  target: number;
}

type Measured = Omit<MiddlewareFigure, 'node' | 'framework' | 'pinned'>;

/** One scenario, ABBA over `rounds`: the plain server against the scenario's. */
async function measure(
  { scenario, path, headers, target }: Scenario,
  servers: Record<Side, { child: ChildProcess; port: number }>,
  { seconds: duration, connections, rounds }: { seconds: number; connections: number; rounds: number },
  label: string,
): Promise<Measured> {
  const load = (side: Side, seconds: number) =>
    autocannon({ url: `http://127.0.0.1:${servers[side].port}${path}`, connections, duration: seconds, headers: { 'user-agent': 'Mozilla/5.0 (bench)', ...headers } });
  // Warm both (JIT, pool connections) before anything counts.
  await load('plain', 1);
  await load('attribution', 1);
  const runs: Record<Side, autocannon.Result[]> = { plain: [], attribution: [] };
  const cpu: Record<Side, Cpu> = { plain: { user: 0, system: 0 }, attribution: { user: 0, system: 0 } };
  for (let index = 0; index < rounds; index += 1) {
    const order: Side[] = index % 2 === 0 ? ['plain', 'attribution'] : ['attribution', 'plain'];
    for (const side of order) {
      const before = await cpuOf(servers[side].child);
      runs[side].push(await load(side, duration));
      const after = await cpuOf(servers[side].child);
      cpu[side].user += after.user - before.user;
      cpu[side].system += after.system - before.system;
    }
    const [a, p] = [runs.attribution.at(-1)!, runs.plain.at(-1)!];
    log(`middleware ${label} ${scenario} round ${index + 1}/${rounds}: ${Math.round(p.requests.average)} → ${Math.round(a.requests.average)} req/s`);
  }
  // Totals over all rounds (each side ran as long): steadier than a median of a few per-round ratios.
  const served = (side: Side) => Math.max(runs[side].reduce((sum, r) => sum + r.requests.total, 0), 1);
  const p99 = (side: Side) => median(runs[side].map((r) => r.latency.p99));
  const cpuPerRequest = (side: Side) => (cpu[side].user + cpu[side].system) / served(side);
  const userPerRequest = (side: Side) => cpu[side].user / served(side);
  return {
    scenario,
    plainRps: round(median(runs.plain.map((r) => r.requests.average)), 0),
    attributionRps: round(median(runs.attribution.map((r) => r.requests.average)), 0),
    plainP99: p99('plain'),
    attributionP99: p99('attribution'),
    throughputRatio: round(served('attribution') / served('plain'), 3),
    p99Ratio: round(p99('attribution') / Math.max(p99('plain'), 1), 2),
    baselineSpread: round(spread(runs.plain.map((r) => r.requests.average)), 3),
    plainCpuMicros: round(cpuPerRequest('plain'), 1),
    attributionCpuMicros: round(cpuPerRequest('attribution'), 1),
    plainUserMicros: round(userPerRequest('plain'), 2),
    attributionUserMicros: round(userPerRequest('attribution'), 2),
    addedCpu: round(cpuPerRequest('attribution') / cpuPerRequest('plain') - 1, 3),
    failures: runs.attribution.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
    target,
  };
}

/** BENCH_MW_SECONDS per run, BENCH_MW_CONNECTIONS, and rounds per side: BENCH_MW_ROUNDS without a referral, BENCH_MW_REFERRAL_ROUNDS for referral visits. */
export function middlewareSettings(): { seconds: number; connections: number; rounds: number; referralRounds: number } {
  return {
    seconds: envInt('BENCH_MW_SECONDS', 3),
    connections: envInt('BENCH_MW_CONNECTIONS', 10),
    rounds: envInt('BENCH_MW_ROUNDS', 10),
    referralRounds: envInt('BENCH_MW_REFERRAL_ROUNDS', 4),
  };
}

/**
 * On Linux with `taskset`, the app processes get the last core this process may use and autocannon
 * (this process) the others, so the scheduler does not move them onto each other's core between
 * rounds. Returns the core lists, `all` to put back afterwards; undefined when not pinned.
 */
function pinApart(): { all: string; apps: string } | undefined {
  let all: string;
  try {
    // "pid 123's current affinity list: 0-3,6"
    all = execFileSync('taskset', ['--cpu-list', '--pid', String(process.pid)], { encoding: 'utf8' }).split(':').at(-1)!.trim();
  } catch {
    return undefined;
  }
  const allowed = all.split(',').flatMap((range) => {
    const [from, to = from] = range.split('-').map(Number) as [number, number?];
    return Array.from({ length: to - from + 1 }, (_, index) => from + index);
  });
  if (allowed.length < 2) return undefined;
  const apps = String(allowed.at(-1));
  return taskset(process.pid, allowed.slice(0, -1).join(',')) ? { all, apps } : undefined;
}

/** Whether the process (every thread of it) now runs on `cores` only. */
function taskset(pid: number, cores: string): boolean {
  try {
    execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cores, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function spread(values: readonly number[]): number {
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

interface Cpu {
  user: number;
  system: number;
}

/** The app process's CPU time so far, in microseconds. */
function cpuOf(child: ChildProcess): Promise<Cpu> {
  return new Promise((resolve) => {
    const answer = (message: { cpu?: Cpu }) => {
      if (message.cpu === undefined) return;
      child.off('message', answer);
      resolve(message.cpu);
    };
    child.on('message', answer);
    child.send('cpu');
  });
}

async function startServer(node: NodeBinary, framework: Framework, variant: Variant): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(SERVER, [framework, variant, SCHEMA], { execPath: node.execPath, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`${framework} ${variant} server exited with ${code}`)));
  });
  return { child, port };
}
