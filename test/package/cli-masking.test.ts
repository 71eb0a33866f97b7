import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { maskPasswords, maskUrl } from '../../src/cli/output.js';
import { DATABASE_URL } from '../support/backends.js';
import { stripeAttribution } from '../support/cli.js';

describe('the CLI never prints a database password', () => {
  it('masks the password of parsable and unparsable URLs, leaving the rest readable', () => {
    expect(maskPasswords("Run: npx stripe-attribution migrate --database-url 'postgres://postgres:S3cretPW@db:5432/app'")).toBe(
      "Run: npx stripe-attribution migrate --database-url 'postgres://postgres:***@db:5432/app'",
    );
    expect(maskPasswords('postgres://app:p@ss/w0rd@db/app and postgresql://u:x@h/d')).toBe('postgres://app:***@db/app and postgresql://u:***@h/d');
    expect(maskPasswords('postgres://nobody@127.0.0.1:1/none, alice@example.com')).toBe('postgres://nobody@127.0.0.1:1/none, alice@example.com');
    expect(maskUrl('postgres://root:S3cret PW@')).toBe('postgres://root:***@');
  });

  it('in the error for a URL that is not Postgres, from the flag or the environment', async () => {
    const flag = await stripeAttribution(['partners', 'list', '--database-url', 'mysql://root:S3cretPW@db/shop']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('"mysql://root:***@db/shop" is not a Postgres URL');
    expect(flag.stderr).not.toContain('S3cretPW');
    const env = await stripeAttribution(['partners', 'list'], { DATABASE_URL: 'postgres://root:S3cret PW@' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('is not a Postgres URL');
    expect(env.stderr).not.toContain('S3cret');
  });

  // Like every Postgres test here, only where DATABASE_URL names a server.
  if (DATABASE_URL) it('in the "Run: … migrate" hint when the tables are missing (real Postgres)', async () => {
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    const name = `sa_mask_${process.pid}_${Date.now()}`;
    await admin.query(`create database ${name}`);
    try {
      const url = new URL(DATABASE_URL!);
      url.pathname = `/${name}`;
      // The connection must succeed for the tables to be found missing: keep a given password (CI's);
      // without one, trust authentication lets any password through.
      if (!url.password) url.password = 'S3cretPW';
      const missing = await stripeAttribution(['report', '--database-url', url.href]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain(`Run: npx stripe-attribution migrate --database-url '${url.protocol}//${url.username}:***@${url.host}/${name}'`);
      expect(missing.stderr).not.toContain(`:${url.password}@`);
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
