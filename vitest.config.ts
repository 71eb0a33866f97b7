import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // Examples import the package by name, as a merchant's app does; here that name is the source.
  resolve: {
    alias: [
      { find: /^stripe-attribution$/, replacement: src('core/index.ts') },
      { find: /^stripe-attribution\/nextjs\/edge$/, replacement: src('nextjs/edge.ts') },
      { find: /^stripe-attribution\/(express|koa|fastify|nextjs|testing|better-auth)$/, replacement: src('$1/index.ts') },
      // The Next.js example's own `@/` import alias, as create-next-app sets it up.
      { find: /^@\/(.*)$/, replacement: fileURLToPath(new URL('./examples/nextjs/$1', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    globalSetup: ['test/support/pglite-template.ts'],
    // Generous: CI machines are shared, and a PGlite start plus migrations can take seconds there.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
