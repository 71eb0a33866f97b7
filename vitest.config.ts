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
    // Files share their worker's loaded modules, embedded database and Stripe stand-in: loading them
    // once per worker instead of once per file is most of the suite's time. Tests keep apart by
    // schema and by ids of their own, as they must on a shared Postgres anyway.
    isolate: false,
    // Vitest's default leaves a core idle on a 2-core machine; the suite waits on its databases and
    // servers often enough to use both (a third worker measured slower there).
    maxWorkers: 2,
    unstubEnvs: true,
    globalSetup: ['test/support/pglite-template.ts'],
    setupFiles: ['test/support/each-file.ts'],
    // Generous: CI machines are shared, and a PGlite start plus migrations can take seconds there.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
