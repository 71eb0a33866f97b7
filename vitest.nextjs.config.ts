import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:nextjs`: real `next build` / `next start` of the packed package, kept out of `npm test` for its minutes.
export default defineConfig({ ...base, test: { ...base.test, include: ['test/nextjs/**/*.nextjs.ts'], fileParallelism: false } });
