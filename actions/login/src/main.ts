import * as core from '@actions/core';
import {
  DEFAULT_API_URL,
  dockerLogin,
  dockerLogout,
  type Identity,
  type Token,
  ToolkitCiError,
  ToolkitClient,
} from '../../../packages/core/src/index.js';
import { ActionLog, maskedSecrets, rawInput } from '../../common/src/github.js';
import { inJobTokenSource } from '../../common/src/in-job-token.js';
import { type LoginInputs, parseLoginInputs } from './context.js';
import { STATE } from './state.js';

/**
 * The main step. Its order is the security argument of the action:
 * 1. mask every form of the raw token input, before anything can print;
 * 2. parse and validate every input (a bad one fails here, with nothing done yet);
 * 3. fetch the in-job token when asked, and mask it too;
 * 4. verify the token with GET /v1/me (fail fast on 401/403, retry 5xx);
 * 5. log Docker in to each registry, recording each success in state at once so that post can undo
 *    exactly those even if main dies half-way;
 * 6. export EAI_TOKEN only once every login worked: a step that fails leaves nothing exported, and
 *    main logs out of whatever it had logged in to (no half-done state, whatever post-if says);
 * 7. outputs and the job summary.
 */
export async function runMain(): Promise<void> {
  const secrets = maskedSecrets();
  const log = new ActionLog(secrets);
  secrets.addRaw(rawInput('token'));
  core.saveState(STATE.isPost, 'true');

  const loggedIn: string[] = [];
  try {
    const inputs = parseLoginInputs(rawInput);
    if (inputs.exportEnv) assertEnvFileAvailable();
    for (const warning of inputs.warnings) log.warning(warning);
    const token = inputs.token ?? (await inJobTokenSource(inputs, log)());

    const identity = inputs.verify ? await verify(inputs, token, log) : undefined;

    core.saveState(STATE.logout, String(inputs.logout));
    for (const host of inputs.registries) {
      await log.group(`Docker login to ${host}`, async () => {
        const { output } = await dockerLogin(host, token, { secrets });
        if (output.trim()) log.info(output.trim());
      });
      loggedIn.push(host);
      core.saveState(STATE.registries, JSON.stringify(loggedIn));
    }

    if (inputs.exportEnv) exportEnvironment(inputs, token);
    core.setOutput('identity', identity ? displayName(identity) : '');
    core.setOutput('account', identity?.account ?? '');
    core.setOutput('registries', inputs.registries.join(','));
    await writeSummary(inputs, identity, log);
  } catch (error) {
    await rollBack(loggedIn, log);
    log.fail(error);
  }
}

async function verify(inputs: LoginInputs, token: Token, log: ActionLog): Promise<Identity> {
  const client = new ToolkitClient({
    apiUrl: inputs.apiUrl,
    token: token.value,
    redact: (text) => log.secrets.redact(text),
    onRetry: ({ call, attempt, delayMs, reason }) =>
      log.info(`${call} failed (${reason}); attempt ${attempt + 1} in ${(delayMs / 1000).toFixed(1)} s`),
  });
  try {
    const identity = await client.me();
    log.info(
      `Token verified: ${displayName(identity)}${identity.account ? ` (account ${identity.account})` : ''}`,
    );
    return identity;
  } finally {
    await client.close();
  }
}

/**
 * Without GITHUB_ENV (a runner older than 2.273), @actions/core would fall back to printing
 * `::set-env name=EAI_TOKEN::TOKEN` on stdout: refuse that before anything is done, rather than put the
 * token in the raw log.
 */
function assertEnvFileAvailable(): void {
  if (!process.env.GITHUB_ENV) {
    throw new ToolkitCiError('usage', 'GITHUB_ENV is not set, so EAI_TOKEN cannot be exported safely', {
      hint: 'Use a GitHub runner of version 2.273 or later, or set "export-env: false"',
    });
  }
}

function exportEnvironment(inputs: LoginInputs, token: Token): void {
  core.exportVariable('EAI_TOKEN', token.value);
  // The eai CLI and actions/job find a non-default console through EAI_CONSOLE_URL.
  if (inputs.apiUrl !== DEFAULT_API_URL) core.exportVariable('EAI_CONSOLE_URL', inputs.apiUrl);
}

async function rollBack(loggedIn: string[], log: ActionLog): Promise<void> {
  for (const host of [...loggedIn].reverse()) {
    try {
      // With the secrets, so docker's environment is stripped of INPUT_TOKEN (the token reaches docker on
      // stdin only, and a logout needs it not at all).
      await dockerLogout(host, { secrets: log.secrets });
      log.info(`Logged out of ${host} (the step failed)`);
    } catch (error) {
      log.warning(`Could not log out of ${host}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (loggedIn.length > 0) core.saveState(STATE.registries, '[]');
}

function displayName(identity: Identity): string {
  return String(identity.fullName ?? identity.name ?? identity.id);
}

async function writeSummary(
  inputs: LoginInputs,
  identity: Identity | undefined,
  log: ActionLog,
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const rows = [
    ['Identity', identity ? displayName(identity) : 'not verified (verify: false)'],
    ['Account', identity?.account ?? '-'],
    ['Registries', inputs.registries.length ? inputs.registries.join(', ') : 'none'],
    ['EAI_TOKEN exported', inputs.exportEnv ? 'yes (masked)' : 'no'],
    [
      'Post step',
      inputs.logout && inputs.registries.length
        ? `docker logout of ${inputs.registries.join(', ')}`
        : 'nothing to log out of',
    ],
  ];
  try {
    await core.summary
      .addHeading('Toolkit login', 3)
      .addTable([
        [
          { data: 'what', header: true },
          { data: 'value', header: true },
        ],
        ...rows.map(([what, value]) => [what, log.secrets.redact(value)]),
      ])
      .write();
  } catch (error) {
    log.debug(`Could not write the job summary: ${String(error)}`);
  }
}
