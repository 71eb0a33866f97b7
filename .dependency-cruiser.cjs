/**
 * The layers of ARCHITECTURE.md, checked in CI (`npm run lint:layers`): imports go one way, from the
 * adapters down to the kernel, and nothing imports in a circle. A folder not named here (a new
 * loose file in src/core) is refused, so every file sits in a layer.
 */
const ADAPTERS = '^src/(express|koa|fastify|nextjs|cli|dashboard|testing|better-auth)/';
const INSTANCE = '^src/core/(attribution\\.ts|index\\.ts|http/)';
const WEBHOOKS = '^src/core/webhooks/';
const DOMAIN = '^src/core/(options|clicks|customers|leads|sales|commissions|payouts|partners|programs|milestones|stripe|fraud)/';
const TRANSACTION = '^src/core/transaction/';
const STORAGE = '^src/core/storage/';
const KERNEL = '^src/core/kernel/';

const LAYERS = [INSTANCE, WEBHOOKS, DOMAIN, TRANSACTION, STORAGE, KERNEL];

/** A file of `layer` may import its own layer and the ones below it (and packages), nothing above. */
const onlyDown = (name, layer, below) => ({
  name,
  severity: 'error',
  comment: 'a lower layer imports a higher one',
  from: { path: layer },
  to: { path: '^src/', pathNot: [layer, ...below] },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'every-core-file-in-a-layer',
      severity: 'error',
      comment: 'a file in src/core outside the layers',
      from: {},
      to: { path: '^src/core/', pathNot: LAYERS },
    },
    onlyDown('instance', INSTANCE, [WEBHOOKS, DOMAIN, TRANSACTION, STORAGE, KERNEL]),
    onlyDown('webhooks', WEBHOOKS, [DOMAIN, TRANSACTION, STORAGE, KERNEL]),
    onlyDown('domain', DOMAIN, [TRANSACTION, STORAGE, KERNEL]),
    onlyDown('transaction', TRANSACTION, [STORAGE, KERNEL]),
    onlyDown('storage', STORAGE, [KERNEL]),
    onlyDown('kernel', KERNEL, []),
    {
      name: 'core-knows-no-framework',
      severity: 'error',
      comment: 'adapters translate; the core never imports a web framework',
      from: { path: '^src/core/' },
      to: { path: 'node_modules/(express|koa|fastify|next|@fastify|raw-body)/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  },
};
