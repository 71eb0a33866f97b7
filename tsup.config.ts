import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: {
      index: 'src/core/index.ts',
      express: 'src/express/index.ts',
      koa: 'src/koa/index.ts',
      fastify: 'src/fastify/index.ts',
      nextjs: 'src/nextjs/index.ts',
      testing: 'src/testing/index.ts',
      'better-auth': 'src/better-auth/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    // Shared chunks in both formats, so every subpath sees the same error classes (instanceof).
    splitting: true,
    target: 'node20',
    platform: 'node',
    sourcemap: true,
  },
  {
    // Built on its own: the Edge runtime must not load a chunk shared with Node-only code.
    entry: { 'nextjs-edge': 'src/nextjs/edge.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    target: 'es2022',
    platform: 'neutral',
    external: ['next'],
    sourcemap: true,
  },
  {
    entry: { cli: 'src/cli/index.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
    sourcemap: true,
  },
]);
