import * as core from '@actions/core';
import { Secrets } from '../../../packages/core/src/index.js';

/**
 * The one place the actions print. Every message passes through `Secrets.redact` before it reaches
 * stdout: the runner's masking only applies to the log it shows, while the raw stream (and anything that
 * captures it, such as a self-hosted runner's diagnostics) must not carry a secret either.
 */
export class ActionLog {
  constructor(readonly secrets: Secrets) {}

  info(message: string): void {
    core.info(this.secrets.redact(message));
  }
  warning(message: string): void {
    core.warning(this.secrets.redact(message));
  }
  debug(message: string): void {
    core.debug(this.secrets.redact(message));
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    return core.group(this.secrets.redact(title), fn);
  }
  /** Marks the step failed with a redacted message. */
  fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    core.setFailed(this.secrets.redact(message));
  }
}

/** A Secrets set whose every form is registered with the runner (`::add-mask::`) as it is added. */
export function maskedSecrets(): Secrets {
  return new Secrets((form) => core.setSecret(form));
}

/** Reads an input without trimming, so a token's surrounding whitespace can be reported, then trimmed. */
export function rawInput(name: string): string {
  return core.getInput(name, { trimWhitespace: false });
}

/** Whether this process is the post step. main saves `isPost` in state; only post can see it. */
export function isPostStep(): boolean {
  return core.getState('isPost') === 'true';
}
