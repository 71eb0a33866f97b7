import { main } from './main.js';

// The bin: the commands run in `main`, which tests call in-process; this file only wires it to the process.
process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
});
