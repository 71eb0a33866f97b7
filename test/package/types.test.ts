import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

/** Runs a command, resolving to its exit code and output instead of rejecting on failure. */
async function outcome(file: string, args: string[], cwd: string) {
  try {
    const { stdout, stderr } = await run(file, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

/**
 * A Postgres-only app as `npm install stripe-attribution stripe kysely pg` leaves it: the built
 * package copied in (a link to this repository would reach its dev dependencies, PGlite among
 * them), and only the peers such an app installs.
 */
function postgresOnlyApp(): string {
  const app = mkdtempSync(join(tmpdir(), 'sa-pg-only-'));
  const packageDir = join(app, 'node_modules', 'stripe-attribution');
  mkdirSync(packageDir, { recursive: true });
  cpSync(join(root, 'package.json'), join(packageDir, 'package.json'));
  cpSync(join(root, 'dist'), join(packageDir, 'dist'), { recursive: true });
  for (const dependency of ['stripe', 'kysely', 'pg', 'pg-protocol', 'pg-types', '@types/pg', '@types/node', 'undici-types']) {
    const link = join(app, 'node_modules', dependency);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(root, 'node_modules', dependency), link, 'dir');
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pg-only-app', private: true, type: 'module' }));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] },
      include: ['*.ts', '*.cts'],
    }),
  );
  const source = `
    import pg from 'pg';
    import { Kysely, PostgresDialect } from 'kysely';
    import { createAttribution, type Attribution } from 'stripe-attribution';
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }) });
    export const attribution: Attribution = createAttribution({ database: db });
  `;
  writeFileSync(join(app, 'app.ts'), source);
  writeFileSync(join(app, 'app-cjs.cts'), source.replace("import pg from 'pg';", "import pg = require('pg');"));
  return app;
}

describe('the published types', () => {
  it('type-check in a Postgres-only app with skipLibCheck off (no optional peer is needed)', () => {
    const app = realpathSync(postgresOnlyApp());
    const config = ts.getParsedCommandLineOfConfigFile(join(app, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
    // What tsc reports with skipLibCheck off, for this package's declaration files and the app's own:
    // the app's other declaration files (Stripe's, Kysely's, Node's, TypeScript's lib) are their
    // publishers' to check, and checking them was two thirds of the time.
    const ours = program.getSourceFiles().filter((file) => file.fileName.startsWith(join(app, 'node_modules', 'stripe-attribution', 'dist')) || !file.fileName.includes('/node_modules/'));
    expect(ours.map((file) => file.fileName.slice(app.length + 1))).toEqual(expect.arrayContaining(['app.ts', 'app-cjs.cts', 'node_modules/stripe-attribution/dist/index.d.ts', 'node_modules/stripe-attribution/dist/index.d.cts']));
    const diagnostics = [
      ...config.errors,
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...program.getSyntacticDiagnostics(),
      ...ours.flatMap((file) => program.getSemanticDiagnostics(file)),
    ];
    expect(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (name) => name, getCurrentDirectory: () => app, getNewLine: () => '\n' })).toBe('');
  });

  it('resolve for every entry point and module resolution (arethetypeswrong)', async () => {
    const result = await outcome(process.execPath, [join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js'), '--pack', '--format', 'table-flipped', root], root);
    expect(result.output).toContain('No problems found');
    expect(result.code).toBe(0);
  });
});
