#!/usr/bin/env node
// toolkit-ci: the process entry. Everything else is in main.ts, which tests also run in-process.
import type { CliIo } from './context.js';
import { main } from './main.js';

let stdinText: Promise<string> | undefined;

/** Reads all of stdin once (the token with --token-file -, a body with --data @-). */
function readStdin(): Promise<string> {
  stdinText ??= (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  })();
  return stdinText;
}

let stop: Promise<string> | undefined;

/** Resolves on the first SIGINT or SIGTERM (a CI cancelling the step); a second one ends the process. */
function stopRequested(): Promise<string> {
  stop ??= new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return stop;
}

const io: CliIo = {
  env: process.env,
  cwd: process.cwd(),
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin,
  stopRequested,
};

process.exitCode = await main(process.argv.slice(2), io);
