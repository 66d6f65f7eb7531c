import type { CliContext } from '../context.js';

/**
 * Loads the emulator's command line (packages/emulator/src/bin.ts). "eager" keeps it inside the CLI's one
 * bundle file while still evaluating it only when `toolkit-ci emulator` runs, so no other command pays for it.
 *
 * bin.ts starts itself when its own file is the process's script (`process.argv[1]`); inside the bundle its
 * file IS the CLI's script, so argv[1] is hidden while it is evaluated, or it would parse the CLI's argv.
 */
async function loadEmulatorBin(): Promise<typeof import('../../../emulator/src/bin.js')> {
  const script = process.argv[1];
  process.argv[1] = '';
  try {
    return await import(/* webpackMode: "eager" */ '../../../emulator/src/bin.js');
  } finally {
    process.argv[1] = script as string;
  }
}

/** `toolkit-ci emulator [flags]`: the emulator's own command line, run until SIGINT or SIGTERM. */
export async function runEmulator(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const { runBin } = await loadEmulatorBin();
  const { exitCode, emulator } = await runBin(argv, ctx.out.stdout, ctx.out.stderr);
  if (!emulator) return exitCode;
  ctx.out.flush();
  await ctx.io.stopRequested();
  await emulator.close();
  return 0;
}
