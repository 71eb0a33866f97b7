import { MissingDependencyError } from './errors.js';

/**
 * Loads an optional peer dependency, turning "module not found" into an error that names the
 * package to install. Any other failure (a broken install, a syntax error) is rethrown as is.
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
