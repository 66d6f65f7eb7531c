import {
  assertApiBaseUrl,
  buildJobSpec,
  DEFAULT_API_URL,
  fieldNames,
  JOB_SPEC_FIELD_KEBAB,
  type JobSpec,
  type JobSpecFields,
  type PollPolicy,
  parseToken,
  type Token,
  ToolkitCiError,
} from '../../../packages/core/src/index.js';
import { loadJobSpecFile } from '../../../packages/core/src/job-spec-file.js';
import {
  booleanInput,
  choiceInput,
  type InputReader,
  jobTokenUrlInput,
  lineInput,
} from '../../common/src/inputs.js';

/** Every input of actions/job, parsed and validated once, before any request is made. */
export interface JobInputs {
  /** The token (input `token`, else EAI_TOKEN); undefined with `token-source: job` (fetched later). */
  token?: Token;
  tokenSource: 'input' | 'job';
  /** Where the token came from, for messages. */
  tokenOrigin: 'input "token"' | 'EAI_TOKEN' | 'the in-job token endpoint';
  /** Explicit in-job token endpoint; '' means derive it from api-url. */
  jobTokenUrl: string;
  apiUrl: string;
  /** The raw JobSpec inputs, handed to buildJobSpec. */
  fields: JobSpecFields;
  /** The spec file ('' when none), relative to the workspace. */
  specFile: string;
  account: string;
  wait: boolean;
  followLogs: boolean;
  /** From `timeout-minutes`; undefined waits without a limit. */
  timeoutMs?: number;
  cancelOnAbort: boolean;
  /** Poll pacing overrides from TOOLKIT_CI_POLL_INITIAL_MS / TOOLKIT_CI_POLL_MAX_MS. */
  poll: Partial<PollPolicy>;
  /** Warnings found while parsing (e.g. a trimmed token), printed once the token is masked. */
  warnings: string[];
}

/** Parses the inputs (and EAI_TOKEN / EAI_CONSOLE_URL from `env`); throws a usage ToolkitCiError naming the input. */
export function parseJobInputs(read: InputReader, env: NodeJS.ProcessEnv = {}): JobInputs {
  const tokenSource = choiceInput(read, 'token-source', ['input', 'job'] as const);
  const { token, tokenOrigin, warnings } = readToken(read, env, tokenSource);

  const apiUrl = lineInput(read, 'api-url') || (env.EAI_CONSOLE_URL ?? '').trim() || DEFAULT_API_URL;
  assertApiBaseUrl(apiUrl, lineInput(read, 'api-url') ? 'input "api-url"' : 'EAI_CONSOLE_URL');
  const jobTokenUrl = jobTokenUrlInput(read, tokenSource);

  const fields = Object.fromEntries(
    Object.entries(JOB_SPEC_FIELD_KEBAB).map(([field, input]) => [field, read(input)]),
  ) as JobSpecFields;

  return {
    token,
    tokenSource,
    tokenOrigin,
    jobTokenUrl,
    apiUrl: apiUrl.replace(/\/+$/, ''),
    fields,
    specFile: lineInput(read, 'spec'),
    account: lineInput(read, 'account'),
    wait: booleanInput(read, 'wait'),
    followLogs: booleanInput(read, 'follow-logs'),
    timeoutMs: timeoutInput(read),
    cancelOnAbort: booleanInput(read, 'cancel-on-abort'),
    poll: pollFromEnv(env),
    warnings,
  };
}

/**
 * The JobSpec to submit: the spec file (if any) with the inputs over it, validated. Every problem is a usage
 * error naming the input or the file, raised before any request is made.
 */
export async function resolveJobSpec(inputs: JobInputs): Promise<JobSpec> {
  const label = inputs.specFile ? `spec file "${inputs.specFile}" (input "spec")` : undefined;
  const base = inputs.specFile ? await loadJobSpecFile(inputs.specFile, { label }) : undefined;
  return buildJobSpec(inputs.fields, base, { names: fieldNames('input'), baseName: label ?? 'input "spec"' });
}

function readToken(
  read: InputReader,
  env: NodeJS.ProcessEnv,
  tokenSource: 'input' | 'job',
): Pick<JobInputs, 'token' | 'tokenOrigin' | 'warnings'> {
  const raw = read('token');
  if (tokenSource === 'job') {
    if (raw.trim() !== '') {
      throw new ToolkitCiError('usage', 'Inputs "token" and "token-source: job" were both given', {
        hint: 'Either pass "token" or set "token-source: job" to fetch the in-job token, not both',
      });
    }
    return { token: undefined, tokenOrigin: 'the in-job token endpoint', warnings: [] };
  }
  if (raw.trim() !== '') {
    const parsed = parseToken(raw, 'input "token"');
    return { token: parsed.token, tokenOrigin: 'input "token"', warnings: parsed.warnings };
  }
  const fromEnv = env.EAI_TOKEN ?? '';
  if (fromEnv.trim() === '') {
    throw new ToolkitCiError('usage', 'No token: input "token" is empty and EAI_TOKEN is not set', {
      hint: 'Pass "token: ${{ secrets.EAI_TOKEN }}", or run actions/login earlier in the job (it exports EAI_TOKEN)',
    });
  }
  const parsed = parseToken(fromEnv, 'EAI_TOKEN');
  return { token: parsed.token, tokenOrigin: 'EAI_TOKEN', warnings: parsed.warnings };
}

function timeoutInput(read: InputReader): number | undefined {
  const text = lineInput(read, 'timeout-minutes');
  if (text === '') return undefined;
  const minutes = /^\d+(\.\d+)?$|^\.\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(minutes > 0)) {
    throw new ToolkitCiError(
      'usage',
      `Input "timeout-minutes" must be a number of minutes > 0, got "${text.slice(0, 40)}"`,
      {
        hint: 'Set e.g. "timeout-minutes: 30", or remove it to wait without a limit',
      },
    );
  }
  return Math.round(minutes * 60_000);
}

/** Tuning knobs for the poll pace (documented in the README); tests use them to poll fast. */
function pollFromEnv(env: NodeJS.ProcessEnv): Partial<PollPolicy> {
  const read = (name: string): number | undefined => {
    const text = (env[name] ?? '').trim();
    if (text === '') return undefined;
    if (!/^\d+$/.test(text) || Number(text) < 10) {
      throw new ToolkitCiError(
        'usage',
        `${name} must be a whole number of milliseconds >= 10, got "${text.slice(0, 20)}"`,
      );
    }
    return Number(text);
  };
  const initialDelayMs = read('TOOLKIT_CI_POLL_INITIAL_MS');
  const maxDelayMs = read('TOOLKIT_CI_POLL_MAX_MS');
  return {
    initialDelayMs,
    maxDelayMs: maxDelayMs ?? (initialDelayMs !== undefined ? Math.max(initialDelayMs, 15_000) : undefined),
  };
}
