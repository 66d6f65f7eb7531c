/**
 * The entry points the leak suite runs, one row each. A row turns a Scenario (token, API, registries,
 * environment: the same for every entry point) into a run of its own, and answers every sink of that run
 * split in two: the sinks that must never hold the token, and the intended ones (named here, one by one).
 *
 * The actions/job rows (main + post; the token from the `token` input, or from EAI_TOKEN as actions/login
 * exports it) are in job-entry-points.ts; they run the suite's job modes (`modes: 'job'`). The toolkit-ci CLI rows (`login` + `logout` with BASH_ENV, and the Drone/Woodpecker `plugin`) are in
 * cli-entry-points.ts; the CircleCI orb's (its login and logout commands' steps) in
 * packages/circleci-orb/test/support/leak-entry.ts.
 */

import { orbLogin } from '../../packages/circleci-orb/test/support/leak-entry.js';
import type { SampledProcess } from '../support/cmdline-sampler.js';
import { actionRunSinks, authHosts, errorMessages, runActionIsolated } from '../support/isolated-run.js';
import { REPO_ROOT } from '../support/nodes.js';
import type { LeakSink } from '../support/token-forms.js';
import { cliLogin, dronePlugin } from './cli-entry-points.js';
import { jobActionEaiToken, jobActionTokenInput } from './job-entry-points.js';

/** What a mode sets up, independent of the entry point that runs under it. */
export interface Scenario {
  /** The token as the user hands it over (the malformed mode wraps the real one). */
  token: string;
  apiUrl: string;
  /** The hosts the words `regular` and `volatile` stand for; the entry point logs in to both. */
  registries: { regular: string; volatile: string };
  /** Extra environment: debug switches, a PATH without docker … */
  env: Record<string, string | undefined>;
  /** For the job rows: the job's command and `env` input (NAME=VALUE lines); default job-entry-points.ts's. */
  job?: { command: string; env?: string };
}

export interface EntryPointRun {
  /** e.g. 'main=0 post=0'. */
  exitCodes: string;
  succeeded: boolean;
  /** The clean-up part (a post step) ran and did not fail, whatever happened before it. */
  cleanupOk: boolean;
  /** The error messages the run showed (for the mode's expected failure). */
  errors: string[];
  /** Every place the token must not be. */
  sinks: LeakSink[];
  /** The places the token is meant to be (GITHUB_ENV's EAI_TOKEN entry, BASH_ENV, Docker's config.json). */
  intended: LeakSink[];
  /** False for an entry point that exports no EAI_TOKEN (the Drone plugin): success then needs no such sink. */
  exportsToken?: boolean;
  /** False for an entry point that runs no `docker login` (actions/job): success then needs no config.json. */
  dockerLogin?: boolean;
  processes: SampledProcess[];
  filesScanned: number;
  /** Variables exported for later steps. */
  exported: Record<string, string>;
  /** Registry hosts still holding a credential once the run (post included) is over, besides pre-existing ones. */
  credentialsLeft: string[];
  /** The step's outputs, for a mode's own checks (actions/job: job-id, state, exit-code). */
  outputs?: Record<string, string>;
  /** The shown log of each step, for a mode's own checks. */
  logs?: Record<string, string>;
  cleanup(): Promise<void>;
}

export interface EntryPoint {
  name: string;
  /** Which of the suite's mode lists it runs: 'login' (default: token, API, registries) or 'job'. */
  modes?: 'login' | 'job';
  run(scenario: Scenario): Promise<EntryPointRun>;
}

/** An entry already in config.json before the run: it must survive, and it is not the run's credential. */
const UNRELATED_AUTH = { auths: { 'unrelated.example.com': { auth: 'dW5yZWxhdGVk' } } };

const loginAction: EntryPoint = {
  name: 'actions/login (main + post)',
  async run(scenario) {
    const run = await runActionIsolated({
      action: `${REPO_ROOT}/actions/login`,
      with: {
        token: scenario.token,
        'api-url': scenario.apiUrl,
        registry: 'both',
        'registry-host': scenario.registries.regular,
        'volatile-registry-host': scenario.registries.volatile,
      },
      env: scenario.env,
      dockerConfig: UNRELATED_AUTH,
    });
    const { result } = run;
    const { sinks, intended } = actionRunSinks(run);
    return {
      exitCodes: `main=${result.main.exitCode} post=${result.post?.exitCode ?? 'skipped'}`,
      succeeded: result.main.exitCode === 0 && result.post?.exitCode === 0,
      cleanupOk: result.post?.exitCode === 0,
      errors: [...errorMessages(result.main), ...errorMessages(result.post)],
      sinks,
      intended,
      processes: run.processes,
      filesScanned: run.files.length,
      exported: result.exportedEnv,
      credentialsLeft: authHosts(run.dockerConfigAfterPost).filter((host) => !(host in UNRELATED_AUTH.auths)),
      cleanup: run.cleanup,
    };
  },
};

/** Every entry point the leak suite runs; add a row when a new one lands. */
export const entryPoints: EntryPoint[] = [
  loginAction,
  cliLogin,
  dronePlugin,
  orbLogin,
  jobActionTokenInput,
  jobActionEaiToken,
];
