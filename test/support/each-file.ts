import { beforeAll } from 'vitest';
import { stripeServer } from './world.js';

// Test files share a worker's loaded modules (`isolate: false`), so the worker's Stripe stand-in
// too: each file finds it as a fresh one would be.
beforeAll(() => stripeServer.reset());
