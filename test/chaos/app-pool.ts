import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Rng } from './journeys.js';

/**
 * The app processes of the full replay behind a load balancer: `urls` is what the balancer routes
 * to, read by `deliver` at each attempt. A crash is `kill -9` at whatever the process was doing
 * (mid-transaction, mid-look-up, mid-answer); the balancer notices only once it has exited, so
 * deliveries in between are refused like those in flight were cut; then a new process takes its place.
 */
export class AppPool {
  readonly urls: string[] = [];
  readonly figures = { kills: 0, restarts: 0 };
  private readonly children = new Map<string, ChildProcess>();
  private crashes = Promise.resolve();

  constructor(private readonly env: Record<string, string>) {}

  /** Starts one app process and adds it to the pool once it listens. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./app.mjs', import.meta.url))], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(([code]) => Promise.reject(new Error(`chaos app exited with ${code} before listening`)))])) as [string];
    const url = `http://127.0.0.1:${JSON.parse(line).port}/webhooks/stripe`;
    this.children.set(url, child);
    this.urls.push(url);
  }

  /** Kills one process (picked by `rng`) with SIGKILL and starts another; crashes queue up, one at a time. */
  crash(rng: Rng): void {
    this.crashes = this.crashes.then(async () => {
      const url = this.urls[Math.floor(rng() * this.urls.length)]!;
      const child = this.children.get(url)!;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      this.figures.kills += 1;
      await exited;
      this.urls.splice(this.urls.indexOf(url), 1);
      this.children.delete(url);
      await this.start();
      this.figures.restarts += 1;
    });
  }

  /** Once every crash so far has been restarted from. */
  settled(): Promise<void> {
    return this.crashes;
  }

  /** Stops every process gracefully. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.children.values()].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }),
    );
  }
}

/**
 * `count` crash points, seeded, spread over the first `attempts` delivery attempts: `onAttempt` for
 * `deliver` (its count across every round it is given to), crashing one process at each.
 */
export function crashSchedule(pool: AppPool, rng: Rng, count: number, attempts: number): (attempt: number) => void {
  const points = Array.from({ length: count }, () => 1 + Math.floor(rng() * attempts)).sort((a, b) => a - b);
  let made = 0;
  let next = 0;
  return () => {
    made += 1;
    while (next < points.length && made >= points[next]!) {
      next += 1;
      pool.crash(rng);
    }
  };
}
