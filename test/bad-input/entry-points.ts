/**
 * What a row of the bad-input suite is: an entry point and its malformed inputs, each bound to a run that
 * answers what the suite checks (exit code, error messages, output, exports, outputs, credentials). The
 * suite (bad-input.test.ts) owns the checks; a row only knows how to run its entry point.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmulatorHandle } from '../../packages/emulator/src/index.js';
import type { DockerConfigFile } from '../support/docker-config.js';
import { authHosts, errorMessages, runActionIsolated } from '../support/isolated-run.js';
import { withoutMaskCommands } from '../support/token-forms.js';

/** A valid token for every row (the emulator knows it): each case breaks something else, or the token. */
export const TOKEN = 'ci-badinput-5d6e:Tz8+k/p=q%w"e\\r2';

export interface BadInputRun {
  exitCode: number | null;
  errors: string[];
  /** Raw stdout (without ::add-mask::) and stderr of every step. */
  output: string;
  exported: Record<string, string>;
  outputs: Record<string, string>;
  /** Registry hosts with a credential after main and after the clean-up, besides pre-existing ones. */
  credentials: string[];
  cleanupOk: boolean;
  /** Values that must appear in no output: the token, a malformed token, a secret inside a bad value. */
  secrets: string[];
  cleanup(): Promise<void>;
}

/**
 * A product gap a case knows about: the check it fails (matched against the case's problems) is expected
 * to fail, and is reported, not hidden. Once the product is fixed the case fails, asking for the gap to go.
 */
export interface KnownGap {
  /** What is wrong, as the report says it (file and line in the product). */
  what: string;
  /** The problem the suite reports for it, e.g. /does not say the fix/. */
  problem: RegExp;
}

export interface BadCase {
  /** The input, flag or setting at fault, and what is wrong with it, for the report. */
  input: string;
  what: string;
  /** The error must match this: it names the input, flag or setting. */
  names: RegExp;
  /** The fix the error must state. */
  fix: RegExp;
  gap?: KnownGap;
  run(emulator: EmulatorHandle): Promise<BadInputRun>;
}

export interface BadInputEntryPoint {
  name: string;
  /** The suite asks for at least this many cases. */
  minCases: number;
  /** The exact exit code every case must end with (the CLI's usage code); any non-zero when undefined. */
  exitCode?: number;
  cases: BadCase[];
}

/** One malformed input of an action: `with` replaces the row's valid baseline. */
export interface ActionCaseSpec {
  what: string;
  input: string;
  /** Default: `input "NAME"`. */
  names?: RegExp;
  with: Record<string, string> | ((emulator: EmulatorHandle) => Record<string, string>);
  /** The step's environment (e.g. a bad EAI_CONSOLE_URL). */
  env?: Record<string, string | undefined>;
  fix: RegExp;
  /** Values inside the bad input that must not be printed (an env value, a secret in a spec file). */
  secrets?: string[];
  gap?: KnownGap;
}

export interface ActionRowOptions {
  action: string;
  /** The valid inputs each case breaks one thing of. */
  baseline(emulator: EmulatorHandle): Record<string, string>;
  /** The step's environment for every case. */
  env?: Record<string, string | undefined>;
  /** config.json written before the run: an entry that must survive and is not the run's. */
  dockerConfig?: DockerConfigFile;
  /** Fills the workspace before the run (e.g. spec files); a fresh folder per case. */
  prepareWorkspace?(dir: string): Promise<void>;
}

/** Only values long enough to be told apart from ordinary words are looked for. */
export function secretsOf(values: (string | undefined)[]): string[] {
  return values.filter((value): value is string => !!value && value.trim().length >= 8).map((v) => v.trim());
}

/** Binds an action's case specs to runs of the action through the runner harness (main, then post). */
export function actionCases(row: ActionRowOptions, specs: ActionCaseSpec[]): BadCase[] {
  return specs.map((spec) => ({
    input: spec.input,
    what: spec.what,
    names: spec.names ?? new RegExp(`input "${spec.input}"`, 'i'),
    fix: spec.fix,
    gap: spec.gap,
    async run(emulator) {
      const inputs = typeof spec.with === 'function' ? spec.with(emulator) : spec.with;
      const workDir = row.prepareWorkspace
        ? await mkdtemp(join(tmpdir(), 'toolkit-ci-bad-input-workspace-'))
        : undefined;
      if (workDir) await row.prepareWorkspace?.(workDir);
      try {
        const run = await runActionIsolated({
          action: row.action,
          with: { ...row.baseline(emulator), ...inputs },
          env: { ...row.env, ...spec.env },
          dockerConfig: row.dockerConfig,
          workDir,
        });
        const { result } = run;
        const preexisting = Object.keys(row.dockerConfig?.auths ?? {});
        const added = (hosts: string[]) => hosts.filter((host) => !preexisting.includes(host));
        return {
          exitCode: result.main.exitCode,
          errors: [...errorMessages(result.main), ...errorMessages(result.post)],
          output: [result.main, result.post]
            .flatMap((phase) => (phase ? [withoutMaskCommands(phase.stdout), phase.stderr] : []))
            .join('\n'),
          exported: result.exportedEnv,
          outputs: result.outputs,
          credentials: [
            ...added(authHosts(run.dockerConfigAfterMain)),
            ...added(authHosts(run.dockerConfigAfterPost)),
          ],
          cleanupOk: result.post?.exitCode === 0,
          secrets: secretsOf([TOKEN, inputs.token, ...(spec.secrets ?? [])]),
          cleanup: async () => {
            await run.cleanup();
            if (workDir) await rm(workDir, { recursive: true, force: true });
          },
        };
      } catch (error) {
        if (workDir) await rm(workDir, { recursive: true, force: true });
        throw error;
      }
    },
  }));
}
