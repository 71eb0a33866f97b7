import { main } from '../../src/cli/main.js';

/**
 * Runs `stripe-attribution …` in this process, through the same `main` the bin calls (a spawned
 * process would pay a Node start and a PGlite load per command), from `cwd` (default: this one).
 */
export async function stripeAttribution(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env: { ...process.env, DATABASE_URL: '', ...env },
    ...(cwd ? { cwd } : {}),
  });
  return { code, stdout, stderr };
}
