// `npm test`'s pretest: builds the package unless dist/ was built after the last change to what it
// is built from. The type bundles take most of a minute, and a test run after an unchanged checkout
// needs none. (`npm run build` always builds.)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const stamp = 'node_modules/.cache/stripe-attribution/dist-built';
const inputs = ['src', 'package.json', 'package-lock.json', 'tsup.config.ts', 'tsconfig.json'];

function newest(path) {
  const stats = statSync(path);
  return stats.isDirectory() ? Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name)))) : stats.mtimeMs;
}

const fresh = existsSync(stamp) && existsSync('dist/index.js') && existsSync('dist/cli.js') && Math.max(...inputs.map(newest)) < statSync(stamp).mtimeMs;
if (fresh) {
  console.log('dist/ is up to date with src/: not rebuilt (npm run build rebuilds it)');
} else {
  const started = new Date();
  execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
  mkdirSync('node_modules/.cache/stripe-attribution', { recursive: true });
  writeFileSync(stamp, '');
  // The build's start: a source saved while it ran makes the next test run build again.
  utimesSync(stamp, started, started);
}
