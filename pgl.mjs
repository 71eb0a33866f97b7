import { PGlite } from '@electric-sql/pglite';
let t = performance.now();
const a = new PGlite(); await a.waitReady; console.log('fresh', performance.now() - t);
const dump = await a.dumpDataDir('none');
t = performance.now();
const b = new PGlite({ loadDataDir: dump }); await b.waitReady; await b.query('select 1'); console.log('from dump', performance.now() - t);
t = performance.now();
const c = new PGlite(); await c.waitReady; console.log('fresh again (same process)', performance.now() - t);
