import { randomUUID } from 'node:crypto';
import * as core from '@actions/core';
import { type Masker, Secrets } from '../../../packages/core/src/index.js';
import { ActionLog } from '../../common/src/github.js';

/**
 * Environment values shorter than this are not registered with the masker: a value such as `1`, `ci` or
 * `dev` is no secret, and masking it would turn every `1` of the log (exit codes included) into `***`.
 */
export const MIN_MASKED_ENV_VALUE_LENGTH = 4;
const NOT_SECRET_WORDS = new Set(['true', 'false', 'null', 'none', 'yes']);

/**
 * The job step's log. On top of ActionLog (every message redacted of every token form) it
 * - hides the job's environment values (they may be secrets) in everything printed, and registers them with
 *   the runner's masker (`addEnvValues`);
 * - prints the job's own log lines inside a `::stop-commands::` window with a random end token, so a job
 *   cannot issue workflow commands (`::add-mask::`, `::error::`, `::stop-commands::` …) into this step; the
 *   window is closed before this step issues a command of its own, and opened again for the next job line.
 */
export class JobLog {
  readonly secrets: Secrets;
  readonly #actionLog: ActionLog;
  readonly #envValues = new Set<string>();
  #sortedEnvValues: string[] = [];
  #windowToken: string | undefined;

  constructor() {
    // Commands (add-mask) must not be issued inside the window: close it before registering a new form.
    const masker: Masker = (form) => {
      this.closeWindow();
      core.setSecret(form);
    };
    this.secrets = new Secrets(masker);
    this.#actionLog = new ActionLog(this.secrets);
  }

  /** Registers the job's environment values (those long enough to be secrets) with the masker and the redaction. */
  addEnvValues(values: readonly string[]): void {
    for (const value of values) {
      const trimmed = value.trim();
      if (trimmed.length < MIN_MASKED_ENV_VALUE_LENGTH || NOT_SECRET_WORDS.has(trimmed.toLowerCase()))
        continue;
      for (const form of [value, trimmed, ...trimmed.split(/\r?\n/).map((line) => line.trim())]) {
        if (form.length < MIN_MASKED_ENV_VALUE_LENGTH || this.#envValues.has(form)) continue;
        this.closeWindow();
        core.setSecret(form);
        this.#envValues.add(form);
      }
    }
    this.#sortedEnvValues = [...this.#envValues].sort((a, b) => b.length - a.length);
  }

  /** Every token form and every registered env value replaced by '***'. */
  redact(text: string): string {
    let out = text;
    for (const value of this.#sortedEnvValues) out = out.split(value).join('***');
    return this.secrets.redact(out);
  }

  /** One line of the job's own output: redacted, and unable to act as a workflow command. */
  jobLine(line: string): void {
    if (this.#windowToken === undefined) {
      this.#windowToken = randomUUID();
      process.stdout.write(`::stop-commands::${this.#windowToken}\n`);
    }
    core.info(this.redact(line));
  }

  /** Ends the stop-commands window, if open, so this step's own commands work again. */
  closeWindow(): void {
    if (this.#windowToken === undefined) return;
    process.stdout.write(`::${this.#windowToken}::\n`);
    this.#windowToken = undefined;
  }

  info(message: string): void {
    this.#actionLog.info(this.#envRedact(message));
  }

  warning(message: string): void {
    this.closeWindow();
    this.#actionLog.warning(this.#envRedact(message));
  }

  debug(message: string): void {
    this.closeWindow();
    this.#actionLog.debug(this.#envRedact(message));
  }

  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.closeWindow();
    return this.#actionLog.group(this.#envRedact(title), async () => {
      try {
        return await fn();
      } finally {
        this.closeWindow();
      }
    });
  }

  /** Marks the step failed with a redacted message. */
  fail(error: unknown): void {
    this.closeWindow();
    const message = error instanceof Error ? error.message : String(error);
    this.#actionLog.fail(this.#envRedact(message));
  }

  #envRedact(text: string): string {
    let out = text;
    for (const value of this.#sortedEnvValues) out = out.split(value).join('***');
    return out;
  }
}
