import { Token } from './token.js';

/** Registers one string with the CI's log masker (e.g. GitHub's `core.setSecret`). */
export type Masker = (form: string) => void;

export const REDACTION = '***';

/** The ways a string can be re-encoded on its way into a log: URL-encoded and JSON-escaped. */
function encodings(text: string): string[] {
  return [encodeURIComponent(text), JSON.stringify(text).slice(1, -1)];
}

/** Base64 with and without its '=' padding (some tools log it unpadded), and its URL-safe variant. */
function base64Forms(text: string): string[] {
  const padded = Buffer.from(text, 'utf8').toString('base64');
  return [padded, padded.replace(/=+$/, ''), Buffer.from(text, 'utf8').toString('base64url')];
}

/**
 * Every form in which `secret` can show up in output, deduplicated, longest first: the secret itself,
 * each half of an `ACCESS:SECRET` role key, base64 of `console:SECRET` (Docker's config.json `auth`),
 * base64 of the secret, and the URL-encoded and JSON-escaped forms of the secret and of each half.
 */
export function formsOf(secret: string): string[] {
  if (secret === '') return [];
  const forms = [secret];
  const parts = secret.split(':');
  if (parts.length === 2) {
    for (const part of parts) {
      if (part !== '') forms.push(part, ...encodings(part));
    }
  }
  forms.push(...base64Forms(`console:${secret}`), ...base64Forms(secret), ...encodings(secret));
  return longestFirst(new Set(forms.filter((form) => form !== '')));
}

function longestFirst(forms: Iterable<string>): string[] {
  // Array.prototype.sort is stable, so forms of equal length keep their insertion order.
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * The set of every form of every secret the project knows. Each new form is handed to the CI's masker
 * once, and `redact` hides all of them in text the project prints itself.
 */
export class Secrets {
  readonly #masker?: Masker;
  readonly #forms = new Set<string>();
  #sorted: string[] = [];

  constructor(masker?: Masker) {
    this.#masker = masker;
  }

  /** Adds a secret (or a Token's value) and registers each of its forms not seen before with the masker. */
  add(secret: string | Token): void {
    const value = secret instanceof Token ? secret.value : secret;
    let added = false;
    for (const form of formsOf(value)) {
      if (this.#forms.has(form)) continue;
      this.#forms.add(form);
      added = true;
      this.#masker?.(form);
    }
    if (added) this.#sorted = longestFirst(this.#forms);
  }

  /**
   * Adds a raw secret value whatever its shape, before any parsing: a value the token parser will refuse
   * (a line break inside, a stray space) is still a secret, so its trimmed form and each of its lines are
   * registered too. Adapters call this first thing, so nothing can print before the masker knows it.
   */
  addRaw(raw: string): void {
    const trimmed = raw.trim();
    if (trimmed === '') return;
    this.add(trimmed);
    for (const line of trimmed.split(/\r?\n/)) {
      if (line.trim() !== '') this.add(line.trim());
    }
  }

  /** All forms of all secrets, longest first. */
  get forms(): readonly string[] {
    return this.#sorted;
  }

  /**
   * Replaces every occurrence of every form with '***'. Longer forms win over shorter ones they contain
   * (a role key becomes one '***', not '***:***'), and where occurrences overlap their whole union is
   * hidden, so no fragment of either survives and a form containing '*' cannot match across a
   * replacement.
   *
   * It works on whole strings only: a form split across two separate writes (the end of one chunk, the
   * start of the next) is not its concern. Callers must redact complete lines or buffers.
   */
  redact(text: string): string {
    if (this.#sorted.length === 0 || text === '') return text;
    const hidden = new Uint8Array(text.length);
    let any = false;
    for (const form of this.#sorted) {
      // Step by one character so overlapping occurrences of the same form are all found.
      for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) {
        hidden.fill(1, at, at + form.length);
        any = true;
      }
    }
    if (!any) return text;
    let out = '';
    let start = 0;
    for (let i = 0; i <= text.length; i++) {
      const inRun = i < text.length && hidden[i] === 1;
      const runStarts = inRun && (i === 0 || hidden[i - 1] === 0);
      const runEnds = !inRun && i > 0 && hidden[i - 1] === 1;
      if (runStarts) out += text.slice(start, i);
      if (runEnds) {
        out += REDACTION;
        start = i;
      }
    }
    return out + text.slice(start);
  }
}
