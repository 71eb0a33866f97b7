import { PGlite } from '@electric-sql/pglite';
const t0 = performance.now();
const a = new PGlite(); await a.waitReady;
const t1 = performance.now();
const dump = await a.dumpDataDir('none');
const t2 = performance.now();
const b = new PGlite({ loadDataDir: dump }); await b.waitReady;
const t3 = performance.now();
console.log({ initdb: t1 - t0, dump: t2 - t1, load: t3 - t2 });
