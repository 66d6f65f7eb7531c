/**
 * The only way the CLI prints. None of the CIs it serves has a masker the CLI can call at run time
 * (GitHub's `::add-mask::` has no equivalent in GitLab, Jenkins, Buildkite, CircleCI, Drone or Woodpecker),
 * so every byte goes through `Secrets.redact` here, before it reaches the process's stdout or stderr.
 */
import type { Secrets } from '../../core/src/index.js';

/** Where text ends up: process.stdout/stderr, or a string collector in tests. */
export interface TextSink {
  write(text: string): unknown;
}

/** Past this many characters without a newline, a writer emits what it safely can (a log with no line breaks). */
const MAX_PENDING_CHARS = 64 * 1024;

/**
 * Redacts a stream of text written in arbitrary chunks. `Secrets.redact` only sees whole strings, so a form
 * split across two writes would escape it: the writer holds text back until a newline (no form contains
 * one: a token has no whitespace, its encodings neither), and a very long line is cut only where no form
 * can straddle the cut.
 */
export class RedactingWriter implements TextSink {
  #pending = '';

  constructor(
    private readonly sink: TextSink,
    private readonly secrets: Secrets,
  ) {}

  /** Queues `text`; every complete line is redacted and written at once. */
  write(text: string): void {
    this.#pending += text;
    const lastNewline = this.#pending.lastIndexOf('\n');
    if (lastNewline !== -1) {
      this.#emit(this.#pending.slice(0, lastNewline + 1));
      this.#pending = this.#pending.slice(lastNewline + 1);
    }
    if (this.#pending.length > MAX_PENDING_CHARS) {
      const cut = safeCut(this.#pending, this.secrets.forms);
      this.#emit(this.#pending.slice(0, cut));
      this.#pending = this.#pending.slice(cut);
    }
  }

  /** Writes what is left (a last line without a newline), redacted. */
  flush(): void {
    if (this.#pending === '') return;
    this.#emit(this.#pending);
    this.#pending = '';
  }

  #emit(text: string): void {
    if (text !== '') this.sink.write(this.secrets.redact(text));
  }
}

/**
 * The largest prefix of `text` that can be redacted on its own: it keeps back the last (longest form - 1)
 * characters, which may be the start of a form that continues in the next write, and moves the cut before
 * any whole form that straddles it.
 */
export function safeCut(text: string, forms: readonly string[]): number {
  const longest = forms.reduce((max, form) => Math.max(max, form.length), 0);
  let cut = Math.max(0, text.length - Math.max(0, longest - 1));
  for (let moved = true; moved && cut > 0; ) {
    moved = false;
    for (const form of forms) {
      const from = Math.max(0, cut - form.length + 1);
      const at = text.indexOf(form, from);
      if (at !== -1 && at < cut && at + form.length > cut) {
        cut = at;
        moved = true;
      }
    }
  }
  return cut;
}

export interface OutputOptions {
  stdout: TextSink;
  stderr: TextSink;
  secrets: Secrets;
  /** -q: leave out progress messages (results, warnings and errors still print). */
  quiet?: boolean;
}

/**
 * The CLI's printer: results and progress on stdout, warnings and errors on stderr, all redacted.
 * `stdout`/`stderr` are raw streams for a command's own content (a job log, an API body) that still pass
 * through redaction.
 */
export class Output {
  readonly stdout: RedactingWriter;
  readonly stderr: RedactingWriter;
  readonly secrets: Secrets;
  readonly quiet: boolean;

  constructor(options: OutputOptions) {
    this.secrets = options.secrets;
    this.stdout = new RedactingWriter(options.stdout, options.secrets);
    this.stderr = new RedactingWriter(options.stderr, options.secrets);
    this.quiet = options.quiet ?? false;
  }

  /** A command's result (a job id, an identity): always printed, on stdout. */
  result(line: string): void {
    this.stdout.write(`${line}\n`);
  }

  /** A progress message on stdout, left out with --quiet. */
  info(line: string): void {
    if (!this.quiet) this.stdout.write(`${line}\n`);
  }

  /** A progress message on stderr (retries, notes), left out with --quiet; keeps stdout for results. */
  note(line: string): void {
    if (!this.quiet) this.stderr.write(`${line}\n`);
  }

  warning(line: string): void {
    this.stderr.write(`toolkit-ci: warning: ${line}\n`);
  }

  error(line: string): void {
    this.stderr.write(`toolkit-ci: error: ${line}\n`);
  }

  /** Writes whatever is still held back by the redacting writers. */
  flush(): void {
    this.stdout.flush();
    this.stderr.flush();
  }
}
