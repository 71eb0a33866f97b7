import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import { DATABASE_URL, uniqueSchema } from '../support/backends.js';

// Defined only with a server to talk to, so a PGlite-only run reports no skipped test.
if (DATABASE_URL) {
  describe('the pool the library opens for a Postgres URL', () => {
    it('survives the server dropping its idle connections: reported, not a crashed process', async () => {
      const appName = `sa_drop_${process.pid}_${Date.now()}`;
      const url = new URL(DATABASE_URL!);
      url.searchParams.set('application_name', appName);
      const errors: string[] = [];
      const attribution = createAttribution({ database: url.href, schema: uniqueSchema(), onError: (_error, during) => errors.push(during) });
      await attribution.migrate();
      const storage = await attribution.storage();
      await storage.insertPartner({ name: 'Before the restart' });

      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      const killed = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [appName]);
      await admin.end();
      expect(killed.rowCount).toBeGreaterThan(0);

      await expect.poll(() => errors).toContain('postgres connection');
      const partner = await storage.insertPartner({ name: 'After the restart' });
      expect((await storage.getPartner(partner.id))?.name).toBe('After the restart');
      await attribution.close();
    });
  });
}
