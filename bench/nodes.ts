import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { log } from './support.js';

/** A Node binary the benches run their measured side on. */
export interface NodeBinary {
  /** `process.version` of that binary, e.g. `v24.11.1`. */
  version: string;
  execPath: string;
}

const CACHE = fileURLToPath(new URL('../node_modules/.cache/stripe-attribution-bench/', import.meta.url));

/** The major version of a `process.version` string such as `v24.11.1`. */
export function nodeMajor(version: string): number {
  return Number(version.slice(1).split('.')[0]);
}

/**
 * This Node and, when it is older, Node 24 from the npm registry's `node-<platform>-<arch>` package
 * (the binary ships inside it; cached under node_modules/.cache), so one run shows both side by side.
 * `BENCH_NODES=current` measures this Node only; `BENCH_NODE24=/path/to/node` names the binary.
 */
export function benchNodes(): NodeBinary[] {
  const current: NodeBinary = { version: process.version, execPath: process.execPath };
  if (process.env.BENCH_NODES === 'current' || nodeMajor(process.version) >= 24) return [current];
  try {
    const execPath = process.env.BENCH_NODE24 ?? node24FromRegistry();
    const version = execFileSync(execPath, ['--version'], { encoding: 'utf8' }).trim();
    return [current, { version, execPath }];
  } catch (error) {
    log(`Node 24 not available, measuring ${process.version} only: ${(error as Error).message}`);
    return [current];
  }
}

function node24FromRegistry(): string {
  const dir = `${CACHE}node24-${process.platform}-${process.arch}/`;
  const binary = `${dir}package/bin/node`;
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  log(`fetching node-${process.platform}-${process.arch}@24 from the npm registry`);
  execFileSync('npm', ['pack', '--silent', `node-${process.platform}-${process.arch}@24`], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${dir}`);
  execFileSync('tar', ['-xzf', tarball], { cwd: dir });
  return binary;
}
