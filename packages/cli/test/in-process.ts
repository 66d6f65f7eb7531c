/** Runs the CLI's main() in this process with a fake io: for the many small error cases that need no bundle. */
import { main } from '../src/main.js';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** main(argv) with exactly `env`, `cwd` and `stdin`; stop is never requested. */
export async function runInProcess(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string } = {},
): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    env: { PATH: process.env.PATH, ...options.env },
    cwd: options.cwd ?? process.cwd(),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    readStdin: async () => options.stdin ?? '',
    stopRequested: () => new Promise<string>(() => {}),
  });
  return { code, stdout, stderr };
}
