import { MissingDependencyError } from './errors.js';

/**
 * Loads an optional peer dependency, turning "module not found" into an error that names the
 * package to install. Any other failure (a broken install, a syntax error) is rethrown as is.
 *
 * A database driver's `load` is an `import()` marked with a `webpackIgnore: true` comment: an app that
 * bundles this package (Next.js, with webpack or Turbopack) would otherwise resolve every driver
 * at build time and fail on the one it did not install. The comment survives tsup into the ESM
 * build, which is what bundlers pick; Node then resolves the driver from the app's node_modules.
 */
export async function importOptional<T>(
  packageName: string,
  neededFor: string,
  load: () => Promise<T> = () => import(packageName) as Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((error as Error).message).includes(packageName)
    ) {
      throw new MissingDependencyError(packageName, neededFor, { cause: error });
    }
    throw error;
  }
}
