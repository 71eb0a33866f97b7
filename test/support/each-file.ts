import { readFileSync } from 'node:fs';
import { beforeAll, inject } from 'vitest';
import { stripeServer } from './world.js';

// Test files share a worker's loaded modules (`isolate: false`), so the worker's Stripe stand-in
// too: each file finds it as a fresh one would be.
beforeAll(() => stripeServer.reset());

// The worker's `memory://` databases start from the cluster the global setup initialised, as later
// ones in a process do from the first (src/core/storage/embedded.ts): no initdb in any worker.
(globalThis as Record<symbol, Promise<Blob> | undefined>)[Symbol.for('stripe-attribution.fresh-cluster')] ??= Promise.resolve(
  new Blob([readFileSync(inject('pgliteTemplate'))]),
);
