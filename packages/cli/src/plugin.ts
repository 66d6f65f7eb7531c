/**
 * `toolkit-ci plugin`: the Drone/Woodpecker plugin mode. Both CIs hand a plugin step its `settings:` as
 * `PLUGIN_<NAME>` environment variables (lists joined by commas, maps as JSON); this module maps them onto
 * the same login and job code the CLI commands use.
 *
 * Each step is its own container, so Docker credentials written by this step are gone for the next one
 * unless `docker_config` names a workspace folder to keep them in (off by default: that folder holds the
 * token, base64-encoded, for every later step and anything that archives the workspace).
 */
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import {
  assertApiBaseUrl,
  DEFAULT_API_URL,
  fieldNames,
  JOB_SPEC_FIELD_KEBAB,
  type JobSpecField,
  type JobSpecFields,
  parseToken,
  resolveRegistries,
  ToolkitCiError,
  validateRegistryHost,
} from '../../core/src/index.js';
import {
  envItem,
  followToEnd,
  jobClientFor,
  jobSpecFrom,
  printableJob,
  reportOutcome,
  timeoutMsFrom,
} from './commands/job.js';
import { performLogin } from './commands/login.js';
import { type CliContext, toolkitClient } from './context.js';
import { shellQuote } from './export.js';

/** The folder `docker_config: true` means, relative to the workspace. */
export const DEFAULT_PLUGIN_DOCKER_CONFIG = '.toolkit-docker';

/** Settings outside the JobSpec, with what each does (also the plugin's documentation). */
const BASE_SETTINGS: Record<string, string> = {
  token: 'the Toolkit token (use from_secret); default: the EAI_TOKEN environment variable',
  api_url: 'Toolkit API base URL (default https://console.elementai.com)',
  registry: 'regular (default), volatile, both, none, or host[:port] names',
  registry_host: 'the host "regular" stands for',
  volatile_registry_host: 'the host "volatile" stands for',
  verify: 'true (default): check the token with GET /v1/me first',
  docker_config:
    'off by default; true or a workspace folder: keep the Docker credentials there (mode 0600) for later steps',
  job_spec: 'a JobSpec file (YAML or JSON) in the workspace',
  job_account: 'submit the job in this account',
  job_wait: 'true (default): wait for the job to end; the step fails unless it SUCCEEDED',
  job_follow: 'true (default): stream the job log while waiting',
  job_timeout_minutes: 'cancel the job and fail the step after N minutes',
};

/** Every setting the plugin knows, as `PLUGIN_*` names. */
export function knownSettings(): string[] {
  const jobFields = Object.values(JOB_SPEC_FIELD_KEBAB).map((kebab) => `job_${kebab.replaceAll('-', '_')}`);
  return [...Object.keys(BASE_SETTINGS), ...jobFields].map((name) => `PLUGIN_${name.toUpperCase()}`);
}

/** What the PLUGIN_* environment asks for, validated; nothing has been done yet. */
export interface PluginPlan {
  rawToken: string;
  tokenSource: string;
  apiUrl: string;
  verify: boolean;
  registries: string[];
  /** Absolute folder to keep Docker's credentials in; undefined = a temporary one, removed at the end. */
  dockerConfig?: string;
  job?: {
    fields: JobSpecFields;
    specFile?: string;
    account?: string;
    wait: boolean;
    follow: boolean;
    timeoutMs?: number;
  };
}

/** The setting's name as the user wrote it in `settings:` (for messages). */
function settingName(variable: string): string {
  return `setting "${variable.slice('PLUGIN_'.length).toLowerCase()}"`;
}

/** Reads and validates every PLUGIN_* setting; throws a usage error naming the setting. */
export function parsePluginSettings(env: NodeJS.ProcessEnv, workspace: string): PluginPlan {
  const known = new Set(knownSettings());
  const unknown = Object.keys(env).filter((name) => name.startsWith('PLUGIN_') && !known.has(name));
  if (unknown.length > 0) {
    throw new ToolkitCiError('usage', `Unknown plugin ${unknown.map(settingName).join(', ')}`, {
      hint: `Known settings: ${[...known].map((name) => name.slice(7).toLowerCase()).join(', ')}`,
    });
  }
  const get = (name: string) => env[`PLUGIN_${name.toUpperCase()}`]?.trim() ?? '';
  const bool = (name: string, fallback: boolean) =>
    booleanSetting(get(name), `PLUGIN_${name.toUpperCase()}`, fallback);

  const fromSetting = env.PLUGIN_TOKEN ?? '';
  const rawToken = fromSetting.trim() !== '' ? fromSetting : (env.EAI_TOKEN ?? '');
  const tokenSource = fromSetting.trim() !== '' ? 'setting "token"' : 'environment variable EAI_TOKEN';
  if (rawToken.trim() === '') {
    throw new ToolkitCiError('usage', 'No token: setting "token" is empty and EAI_TOKEN is not set', {
      hint:
        "Add `token: {from_secret: eai_token}` to the step's settings (a Drone/Woodpecker secret holding the " +
        'Toolkit token); the secret may be unavailable to this event (e.g. pull requests from forks)',
    });
  }

  const apiUrl = (get('api_url') || env.EAI_CONSOLE_URL?.trim() || DEFAULT_API_URL).replace(/\/+$/, '');
  assertApiBaseUrl(apiUrl, 'setting "api_url"');
  const regular = get('registry_host');
  const volatile = get('volatile_registry_host');
  const registries = resolveRegistries(
    get('registry') || 'regular',
    {
      regular: regular ? validateRegistryHost(regular, 'setting "registry_host"') : undefined,
      volatile: volatile ? validateRegistryHost(volatile, 'setting "volatile_registry_host"') : undefined,
    },
    'setting "registry"',
  );
  const dockerConfig = dockerConfigSetting(get('docker_config'), workspace);
  const job = jobSettings(env, get, bool);
  return { rawToken, tokenSource, apiUrl, verify: bool('verify', true), registries, dockerConfig, job };
}

function booleanSetting(value: string, variable: string, fallback: boolean): boolean {
  if (value === '') return fallback;
  if (/^(true|yes|on|1)$/i.test(value)) return true;
  if (/^(false|no|off|0)$/i.test(value)) return false;
  throw new ToolkitCiError(
    'usage',
    `Plugin ${settingName(variable)} must be true or false, not ${JSON.stringify(value)}`,
  );
}

function dockerConfigSetting(value: string, workspace: string): string | undefined {
  if (value === '' || /^(false|no|off|0)$/i.test(value)) return undefined;
  const folder = /^(true|yes|on|1)$/i.test(value) ? DEFAULT_PLUGIN_DOCKER_CONFIG : value;
  if (/[\r\n]/.test(folder))
    throw new ToolkitCiError('usage', 'Plugin setting "docker_config" must be a single line');
  return isAbsolute(folder) ? folder : resolve(workspace, folder);
}

/** The job_* settings, or undefined when none asks for a job. */
function jobSettings(
  env: NodeJS.ProcessEnv,
  get: (name: string) => string,
  bool: (name: string, fallback: boolean) => boolean,
): PluginPlan['job'] {
  const fields: JobSpecFields = {};
  for (const [field, kebab] of Object.entries(JOB_SPEC_FIELD_KEBAB) as [JobSpecField, string][]) {
    const raw = env[`PLUGIN_JOB_${kebab.replaceAll('-', '_').toUpperCase()}`];
    if (raw === undefined || raw.trim() === '') continue;
    fields[field] = listSetting(field, raw);
    // `job_env: [WANDB_API_KEY]` passes the step's own variable (set with from_secret under environment:).
    if (field === 'env') {
      fields.env = (fields.env as string)
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => envItem(line, env, 'setting "job_env"'))
        .join('\n');
    }
  }
  const specFile = get('job_spec') || undefined;
  const extra = ['job_account', 'job_wait', 'job_follow', 'job_timeout_minutes'].filter(
    (name) => get(name) !== '',
  );
  if (Object.keys(fields).length === 0 && specFile === undefined) {
    if (extra.length > 0) {
      throw new ToolkitCiError(
        'usage',
        `Plugin ${extra.map((n) => `setting "${n}"`).join(', ')} given without a job`,
        {
          hint: 'Set job_image (and job_command) or job_spec to submit a job',
        },
      );
    }
    return undefined;
  }
  return {
    fields,
    specFile,
    account: get('job_account') || undefined,
    wait: bool('job_wait', true),
    follow: bool('job_follow', true),
    timeoutMs: timeoutMsFrom(get('job_timeout_minutes') || undefined, 'setting "job_timeout_minutes"'),
  };
}

/**
 * Turns Drone/Woodpecker's encodings of list and map settings into the line-per-item text buildJobSpec reads:
 * a map (`job_env: {A: "1"}`, sent as JSON) becomes `A=1` lines; a list (sent joined by commas) one item per line.
 */
export function listSetting(field: JobSpecField, raw: string): string {
  if (field !== 'env' && field !== 'tags' && field !== 'data') return raw;
  const text = raw.trim();
  if (text.startsWith('{')) {
    let map: unknown;
    try {
      map = JSON.parse(text);
    } catch {
      throw new ToolkitCiError(
        'usage',
        `Plugin setting "job_${field}" starts with "{" but is not a valid map`,
      );
    }
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw new ToolkitCiError('usage', `Plugin setting "job_${field}" must be a map of names to values`);
    }
    return Object.entries(map)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join('\n');
  }
  if (text.includes('\n')) return text;
  // A YAML list arrives as "A=1,B=2": split only before the next NAME= (a value may contain commas).
  if (field === 'data') return text.split(',').join('\n');
  // env items may also be a bare NAME (taken from the step's environment).
  const next = field === 'env' ? /,(?=\s*[A-Za-z_][A-Za-z0-9_]*\s*(?:=|,|$))/ : /,(?=\s*[^=,\s]+=)/;
  return text.split(next).join('\n');
}

/** The workspace: Drone's DRONE_WORKSPACE, Woodpecker's CI_WORKSPACE, else the working directory. */
export function workspaceOf(env: NodeJS.ProcessEnv, cwd: string): string {
  return env.DRONE_WORKSPACE?.trim() || env.CI_WORKSPACE?.trim() || cwd;
}

/** `toolkit-ci plugin`: login (and a job when job_* settings ask for one) from the PLUGIN_* settings. */
export async function runPlugin(ctx: CliContext): Promise<number> {
  const { env } = ctx.io;
  // The token is registered for redaction before anything can print, whatever its shape.
  ctx.secrets.addRaw(env.PLUGIN_TOKEN ?? '');
  ctx.secrets.addRaw(env.EAI_TOKEN ?? '');
  const workspace = workspaceOf(env, ctx.io.cwd);
  const plan = parsePluginSettings(env, workspace);
  const { token, warnings } = parseToken(plan.rawToken, plan.tokenSource);
  ctx.secrets.add(token);
  for (const warning of warnings) ctx.out.warning(warning);
  // The JobSpec is built (and checked) before anything is done, like every other setting.
  const names = Object.fromEntries(
    Object.entries(fieldNames('flag')).map(([field]) => [
      field,
      `setting "job_${JOB_SPEC_FIELD_KEBAB[field as JobSpecField].replaceAll('-', '_')}"`,
    ]),
  ) as Record<JobSpecField, string>;
  const spec = plan.job
    ? await jobSpecFrom(
        ctx,
        plan.job.fields,
        plan.job.specFile && resolve(workspace, plan.job.specFile),
        names,
        'setting "job_spec"',
      )
    : undefined;

  const temporary = plan.dockerConfig === undefined && plan.registries.length > 0;
  const dockerConfig = temporary ? await mkdtemp(join(tmpdir(), 'toolkit-ci-docker-')) : plan.dockerConfig;
  try {
    if (plan.dockerConfig) await prepareFolder(plan.dockerConfig);
    await performLogin(ctx, {
      token,
      apiUrl: plan.apiUrl,
      verify: plan.verify,
      registries: plan.registries,
      dockerConfig,
    });
    if (plan.dockerConfig && plan.registries.length > 0)
      await keepCredentials(ctx, plan.dockerConfig, plan.registries, workspace);
    if (temporary) {
      ctx.out.note(
        'The Docker credentials were checked and not kept: each step runs in its own container. ' +
          'Set docker_config to keep them in the workspace for later steps.',
      );
    }
  } finally {
    if (temporary && dockerConfig) await rm(dockerConfig, { recursive: true, force: true });
  }

  if (!plan.job || !spec) return 0;
  const client = toolkitClient(ctx, plan.apiUrl, token);
  try {
    const jobs = jobClientFor(ctx, client);
    // A stop signal during the submit must still cancel the job once its id is known (see job submit).
    if (plan.job.wait) void ctx.io.stopRequested();
    const submitted = await jobs.submitJob(spec, { account: plan.job.account });
    ctx.out.info(
      `Submitted job ${submitted.fullName ? `${submitted.fullName} (${submitted.id})` : submitted.id}`,
    );
    if (!plan.job.wait) return 0;
    const job = await followToEnd(ctx, jobs, submitted.id, {
      follow: plan.job.follow,
      timeoutMs: plan.job.timeoutMs,
      cancelOnStop: true,
      logTo: ctx.out.stdout,
    });
    reportOutcome(ctx, printableJob(job));
    ctx.out.info(`Job ${submitted.id} SUCCEEDED`);
  } finally {
    await client.close();
  }
  return 0;
}

async function prepareFolder(folder: string): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await chmod(folder, 0o700);
}

/** Makes sure config.json is 0600 and tells the user how later steps use it and how to remove it. */
async function keepCredentials(
  ctx: CliContext,
  folder: string,
  registries: string[],
  workspace: string,
): Promise<void> {
  const file = join(folder, 'config.json');
  try {
    await stat(file);
    await chmod(file, 0o600);
  } catch {
    // docker wrote nothing there (a credential helper in use): nothing to protect.
  }
  const shown = folder.startsWith(`${workspace}/`) ? folder.slice(workspace.length + 1) : folder;
  ctx.out.info(`Docker credentials for ${registries.join(', ')} kept in ${shown} (config.json, mode 0600)`);
  ctx.out.warning(
    `${shown} holds the registry token (base64) for every later step: use it with DOCKER_CONFIG=${shellQuote(folder)}, ` +
      'keep it out of artifacts, caches and images, and remove it in a last step that always runs: ' +
      `rm -rf ${shellQuote(folder)}`,
  );
}
