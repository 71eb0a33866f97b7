import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Attribution } from '../core/attribution.js';
import { UsageError } from './errors.js';

/** The names the CLI looks for, in this order, in each of `CONFIG_DIRECTORIES`. */
export const CONFIG_FILES = ['stripe-attribution.config.ts', 'stripe-attribution.config.mts', 'stripe-attribution.config.js', 'stripe-attribution.config.mjs'];
/** Where, under the directory the CLI runs in: the project root first, then the usual source folders. */
export const CONFIG_DIRECTORIES = ['.', 'src', 'lib'];

/** The config file the CLI would load from `cwd`, if any. */
export function findConfig(cwd: string): string | undefined {
  for (const directory of CONFIG_DIRECTORIES) {
    for (const file of CONFIG_FILES) {
      const path = resolve(cwd, directory, file);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

/** How to add a config, for the messages of commands that need one. */
export const HOW_TO_ADD_CONFIG =
  'Add stripe-attribution.config.ts (or .js/.mjs) to your project root, src/ or lib/, exporting the instance your app uses:\n' +
  "  import { attribution } from './lib/attribution';\n" +
  '  export default attribution;\n' +
  'or point to it with --config <path>.';

/**
 * Loads the app's own instance from a config file: its default export is the instance, or a
 * function (async or not) returning it. TypeScript is loaded through jiti, so the config needs no
 * build step; JavaScript through Node's own `import()`.
 */
export async function loadConfig(path: string): Promise<Attribution> {
  if (!existsSync(path)) throw new UsageError(`No config file at ${path}`);
  let exported: unknown;
  try {
    if (['.ts', '.mts', '.cts'].includes(extname(path))) {
      const { createJiti } = await import('jiti');
      exported = await createJiti(pathToFileURL(path).href, { interopDefault: true, tryNative: true }).import(path, { default: true });
    } else {
      exported = ((await import(pathToFileURL(path).href)) as { default?: unknown }).default;
    }
  } catch (error) {
    throw new UsageError(`Could not load ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const instance = typeof exported === 'function' ? await (exported as () => unknown)() : exported;
  if (!isAttribution(instance)) {
    throw new UsageError(
      `${path} must export the instance as its default export (export default attribution), or a function returning it; ` +
        `it exported ${describe(exported)}.`,
    );
  }
  return instance;
}

function isAttribution(value: unknown): value is Attribution {
  const candidate = value as Partial<Attribution> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.reconcile === 'function' && typeof candidate.storage === 'function' && typeof candidate.options === 'object';
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing by default';
  if (value === null || typeof value !== 'object') return String(value);
  return `an object with ${Object.keys(value).slice(0, 5).join(', ') || 'no keys'}`;
}
