/**
 * The leak suite's rows for actions/job (main + post), from its committed bundle through the runner harness,
 * sealed like the actions/login row (runActionIsolated: fresh HOME, TMPDIR, DOCKER_CONFIG and runner files,
 * the step's processes sampled from /proc, every file written read back). Two rows, one per token source:
 * - the `token` input (`token: ${{ secrets.EAI_TOKEN }}`);
 * - `EAI_TOKEN` and `EAI_CONSOLE_URL` in the step's environment, as actions/login exports them for the
 *   job's later steps (no `token` and no `api-url` input).
 * The job's command and environment come from the mode (Scenario.job): a job can print whatever it holds,
 * so its log is a sink like any other.
 *
 * actions/job exports nothing and runs no docker, so its intended sink is the one place a form may be
 * printed: the values of its `::add-mask::` commands (proof that stdout is read and that the forms would be
 * found there); every other sink, the exported environment included, must hold no form.
 */

import { actionRunSinks, authHosts, errorMessages, runActionIsolated } from '../support/isolated-run.js';
import { REPO_ROOT } from '../support/nodes.js';
import type { LeakSink } from '../support/token-forms.js';
import type { EntryPoint, EntryPointRun, Scenario } from './entry-points.js';

/** The job a mode runs when it does not say (a few lines of log, nothing secret). */
export const DEFAULT_JOB: NonNullable<Scenario['job']> = {
  command: 'echo line 1\necho line 2\necho line 3',
};

/** The emulator runs a job in milliseconds (timeScale 5): poll every 20 ms instead of the product's 1 s. */
const FAST_POLL = { TOOLKIT_CI_POLL_INITIAL_MS: '20', TOOLKIT_CI_POLL_MAX_MS: '100' };

function jobAction(source: 'input' | 'env'): EntryPoint {
  return {
    name:
      source === 'input'
        ? 'actions/job (main + post), token from the token input'
        : 'actions/job (main + post), token from EAI_TOKEN (as exported by actions/login)',
    modes: 'job',
    async run(scenario): Promise<EntryPointRun> {
      const job = scenario.job ?? DEFAULT_JOB;
      const jobInputs = { image: 'alpine:3.20', command: job.command, ...(job.env ? { env: job.env } : {}) };
      const run = await runActionIsolated({
        action: `${REPO_ROOT}/actions/job`,
        with:
          source === 'input'
            ? { token: scenario.token, 'api-url': scenario.apiUrl, ...jobInputs }
            : jobInputs,
        env: {
          ...FAST_POLL,
          ...(source === 'env' ? { EAI_TOKEN: scenario.token, EAI_CONSOLE_URL: scenario.apiUrl } : {}),
          ...scenario.env,
        },
      });
      const { result } = run;
      const { sinks } = actionRunSinks(run);
      const extra: LeakSink[] = [
        // actionRunSinks leaves GITHUB_ENV's EAI_TOKEN entry out (actions/login's intended sink): this action
        // exports nothing, so the whole export is checked here.
        {
          name: 'exported env (whole: actions/job exports nothing)',
          text: JSON.stringify(result.exportedEnv),
        },
      ];
      return {
        exitCodes: `main=${result.main.exitCode} post=${result.post?.exitCode ?? 'skipped'}`,
        succeeded: result.main.exitCode === 0 && result.post?.exitCode === 0,
        cleanupOk: result.post?.exitCode === 0,
        errors: [...errorMessages(result.main), ...errorMessages(result.post)],
        sinks: [...sinks, ...extra],
        // The values registered with ::add-mask:: as the runner reads them (the command escapes % and line
        // breaks): where the token must be, and the only place it may be.
        intended: [
          { name: "main's ::add-mask:: values", text: result.main.masks.join('\n') },
          { name: "post's ::add-mask:: values", text: (result.post?.masks ?? []).join('\n') },
        ],
        exportsToken: false,
        dockerLogin: false,
        processes: run.processes,
        filesScanned: run.files.length,
        exported: result.exportedEnv,
        // It never runs docker: any credential in config.json after post would be a bug.
        credentialsLeft: authHosts(run.dockerConfigAfterPost),
        outputs: result.outputs,
        logs: { main: result.main.log, post: result.post?.log ?? '' },
        cleanup: run.cleanup,
      };
    },
  };
}

/** actions/job with `token: ...`. */
export const jobActionTokenInput: EntryPoint = jobAction('input');
/** actions/job with the token (and API) from the environment actions/login exported. */
export const jobActionEaiToken: EntryPoint = jobAction('env');
