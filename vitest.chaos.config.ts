import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:chaos`: the full-size chaos replay, kept out of `npm test` for its size.
export default defineConfig({ ...base, test: { ...base.test, include: ['test/chaos/**/*.chaos.ts'] } });
