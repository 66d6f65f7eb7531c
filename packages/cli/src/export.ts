/**
 * Hands EAI_TOKEN to the CI's later steps, the way each CI expects: CircleCI sources `$BASH_ENV` before
 * every step, GitHub reads `$GITHUB_ENV`, and anything else can read a dotenv file when asked. The values
 * are written so that the reader gets them back byte for byte whatever they contain (quotes, `$`, `\`).
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, appendFile, chmod, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ToolkitCiError } from '../../core/src/index.js';

export type ExportMode =
  | { kind: 'auto' }
  | { kind: 'bash-env' }
  | { kind: 'github-env' }
  | { kind: 'dotenv'; path: string }
  | { kind: 'none' };

/** Where the variables go once `auto` is resolved; `none` says why when it matters. */
export type ExportTarget =
  | { kind: 'bash-env'; file: string; ci: string }
  | { kind: 'github-env'; file: string }
  | { kind: 'dotenv'; file: string }
  | { kind: 'none'; reason?: string };

export type Variables = ReadonlyArray<readonly [name: string, value: string]>;

const MODES_HELP = 'auto, bash-env, github-env, dotenv=PATH or none';

/**
 * Fails, before anything is done, when the export file's folder is missing or not writable: the export
 * comes after the docker logins, and a login must not be left behind by an export that could never work.
 */
export async function assertExportTargetWritable(target: ExportTarget): Promise<void> {
  if (target.kind === 'none') return;
  const folder = dirname(target.file);
  const usable = await access(folder, constants.W_OK)
    .then(() => stat(folder))
    .then((info) => info.isDirectory())
    .catch(() => false);
  if (!usable) {
    throw new ToolkitCiError(
      'usage',
      `--export ${target.kind}: the folder ${JSON.stringify(folder)} does not exist or cannot be written`,
      { hint: 'Create the folder first, or give a path in a folder this user can write to' },
    );
  }
}

/** Parses `--export`: auto | bash-env | github-env | dotenv=PATH | none. */
export function parseExportMode(text: string): ExportMode {
  const value = text.trim();
  if (value === 'auto' || value === 'bash-env' || value === 'github-env' || value === 'none')
    return { kind: value };
  if (value.startsWith('dotenv=')) {
    const path = value.slice('dotenv='.length).trim();
    if (path !== '') return { kind: 'dotenv', path };
    throw new ToolkitCiError('usage', '--export dotenv= needs a file path', {
      hint: 'e.g. --export dotenv=.toolkit.env',
    });
  }
  throw new ToolkitCiError('usage', `--export must be ${MODES_HELP}, not ${JSON.stringify(value)}`);
}

/**
 * Picks the target: `auto` is CircleCI (CIRCLECI=true and BASH_ENV set) -> bash-env, GitHub (GITHUB_ENV set)
 * -> github-env, otherwise none; an explicit mode whose file variable is missing is a usage error.
 * `resolvePath` makes a dotenv path absolute.
 */
export function resolveExportTarget(
  mode: ExportMode,
  env: NodeJS.ProcessEnv,
  resolvePath: (path: string) => string = (path) => path,
): ExportTarget {
  switch (mode.kind) {
    case 'none':
      return { kind: 'none' };
    case 'dotenv':
      return { kind: 'dotenv', file: resolvePath(mode.path) };
    case 'bash-env':
      if (!env.BASH_ENV) {
        throw new ToolkitCiError('usage', '--export bash-env needs the environment variable BASH_ENV', {
          hint: 'CircleCI sets BASH_ENV in every job; elsewhere use --export dotenv=PATH',
        });
      }
      return { kind: 'bash-env', file: env.BASH_ENV, ci: env.CIRCLECI === 'true' ? 'CircleCI' : 'BASH_ENV' };
    case 'github-env':
      if (!env.GITHUB_ENV) {
        throw new ToolkitCiError('usage', '--export github-env needs the environment variable GITHUB_ENV', {
          hint: 'GitHub Actions sets GITHUB_ENV in every step',
        });
      }
      return { kind: 'github-env', file: env.GITHUB_ENV };
    case 'auto':
      if (env.CIRCLECI === 'true' && env.BASH_ENV)
        return { kind: 'bash-env', file: env.BASH_ENV, ci: 'CircleCI' };
      if (env.CIRCLECI === 'true') {
        return {
          kind: 'none',
          reason: 'CircleCI detected but BASH_ENV is not set, so EAI_TOKEN was not exported',
        };
      }
      if (env.GITHUB_ENV) return { kind: 'github-env', file: env.GITHUB_ENV };
      return { kind: 'none' };
  }
}

/** `value` as one bash word that expands to exactly `value`: single quotes, each `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** One `export NAME='VALUE'` line for a file bash sources (CircleCI's $BASH_ENV). */
export function bashExportLine(name: string, value: string): string {
  assertExportable(name, value);
  return `export ${name}=${shellQuote(value)}\n`;
}

/**
 * A `$GITHUB_ENV` entry in the heredoc form GitHub documents (`NAME<<DELIM`, value, `DELIM`), with a random
 * delimiter that the value cannot contain (it has no line break).
 */
export function githubEnvEntry(
  name: string,
  value: string,
  delimiter = `ghadelimiter_${randomUUID()}`,
): string {
  assertExportable(name, value);
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

// Characters every dotenv reader (docker --env-file, docker compose, dotenv, `set -a; . FILE`) takes literally.
const DOTENV_PLAIN = /^[A-Za-z0-9_.:/+=@%,~^-]*$/;

/**
 * One `NAME=VALUE` dotenv line: the value bare when it has only plain characters, else single-quoted, else
 * (it holds a `'`) double-quoted with `\`, `"`, `$` and backquote escaped, as a POSIX shell reads it.
 */
export function dotenvLine(name: string, value: string): string {
  assertExportable(name, value);
  if (DOTENV_PLAIN.test(value)) return `${name}=${value}\n`;
  if (!value.includes("'")) return `${name}='${value}'\n`;
  return `${name}="${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"\n`;
}

function assertExportable(name: string, value: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new ToolkitCiError('usage', `cannot export ${name}: not a variable name`);
  // A line break would end the entry early and let the rest be read as another variable.
  if (/[\r\n\0]/.test(value)) {
    throw new ToolkitCiError(
      'usage',
      `cannot export ${name}: its value contains a line break or a NUL character`,
    );
  }
}

/** What exportVariables did, for the CLI to report (no value in it). */
export interface ExportReport {
  target: ExportTarget;
  names: string[];
  /** A sentence for the log, e.g. "Exported EAI_TOKEN to $BASH_ENV (CircleCI): ...". */
  message?: string;
  /** Set for a dotenv file: it holds the secret in clear text. */
  warning?: string;
}

/** Writes `variables` to `target`: appends to $BASH_ENV/$GITHUB_ENV, (re)writes a dotenv file with mode 0600. */
export async function exportVariables(target: ExportTarget, variables: Variables): Promise<ExportReport> {
  const names = variables.map(([name]) => name);
  const list = names.join(' and ');
  switch (target.kind) {
    case 'none':
      return { target, names: [], message: target.reason };
    case 'bash-env':
      // Created 0600 when missing; CircleCI's own file keeps its mode.
      await appendFile(target.file, variables.map(([n, v]) => bashExportLine(n, v)).join(''), {
        mode: 0o600,
      });
      return {
        target,
        names,
        message: `Exported ${list} to $BASH_ENV (${target.ci}): later steps of this job see it`,
      };
    case 'github-env':
      await appendFile(target.file, variables.map(([n, v]) => githubEnvEntry(n, v)).join(''), {
        mode: 0o600,
      });
      return { target, names, message: `Exported ${list} to $GITHUB_ENV: later steps of this job see it` };
    case 'dotenv':
      await writeDotenv(target.file, variables);
      return {
        target,
        names,
        message: `Wrote ${list} to ${target.file} (mode 0600)`,
        warning:
          `${target.file} holds the token in clear text: keep it out of artifacts, caches and images, ` +
          `and delete it when the job is done (rm -f ${shellQuote(target.file)})`,
      };
  }
}

/**
 * Replaces the variables' lines in a dotenv file (other lines are kept) through a 0600 temp file renamed
 * over it, so the file is never readable by others, not even for a moment, and never half-written.
 */
async function writeDotenv(file: string, variables: Variables): Promise<void> {
  let kept: string[] = [];
  try {
    const names = new Set(variables.map(([name]) => name));
    kept = (await readFile(file, 'utf8')).split('\n').filter(
      (line) =>
        line !== '' &&
        !names.has(
          line
            .replace(/^export\s+/, '')
            .split('=')[0]
            ?.trim() ?? '',
        ),
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(file, error);
  }
  const text = [...kept.map((line) => `${line}\n`), ...variables.map(([n, v]) => dotenvLine(n, v))].join('');
  const temp = join(dirname(file), `.${randomUUID()}.tmp`);
  try {
    await writeFile(temp, text, { mode: 0o600, flag: 'wx' });
    await chmod(temp, 0o600);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw fileError(file, error);
  }
}

function fileError(file: string, error: unknown): ToolkitCiError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new ToolkitCiError('usage', `cannot write the dotenv file ${JSON.stringify(file)} (${code})`, {
    hint: 'Give a path in a folder that exists and is writable',
  });
}
