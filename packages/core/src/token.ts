import { ToolkitCiError } from './errors.js';

/** `role-key` is `ACCESS:SECRET`; `opaque` is any other token (a personal or in-job token). */
export type TokenKind = 'role-key' | 'opaque';

const REDACTED = '[redacted token]';

/**
 * A validated Toolkit token. The value lives in private fields and is exposed only through getters, so
 * printing, JSON-encoding, spreading or inspecting a Token by accident never shows it: only `.value`
 * (and `.access`/`.secret` for a role key) give it out, on purpose.
 */
export class Token {
  readonly #value: string;
  readonly #access?: string;
  readonly #secret?: string;
  readonly kind: TokenKind;

  /** Validates `value` exactly as given (no trimming; use parseToken for raw input) and throws on a bad one. */
  constructor(value: string, source?: string) {
    const problem = findProblem(value);
    if (problem) throw tokenError(problem, value, source);
    this.#value = value;
    const colon = value.indexOf(':');
    if (colon === -1) {
      this.kind = 'opaque';
    } else {
      this.kind = 'role-key';
      this.#access = value.slice(0, colon);
      this.#secret = value.slice(colon + 1);
    }
  }

  /** The token itself, as sent in `Authorization: Bearer …` and to `docker login`. */
  get value(): string {
    return this.#value;
  }

  /** The ACCESS part of a role key; undefined for an opaque token. */
  get access(): string | undefined {
    return this.#access;
  }

  /** The SECRET part of a role key; undefined for an opaque token. */
  get secret(): string | undefined {
    return this.#secret;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

export interface ParsedToken {
  token: Token;
  warnings: string[];
}

export const TRIMMED_WARNING = 'The token had surrounding whitespace (a trailing newline?); it was trimmed.';

/** Parses a raw token from a CI secret: trims surrounding whitespace (with a warning) and validates the rest. */
export function parseToken(raw: string | undefined, source?: string): ParsedToken {
  if (raw === undefined || raw === '') throw tokenError('empty', '', source);
  const trimmed = raw.trim();
  if (trimmed === '') throw tokenError('only-whitespace', raw, source);
  const warnings = trimmed === raw ? [] : [TRIMMED_WARNING];
  return { token: new Token(trimmed, source), warnings };
}

/** Describes a token's shape for messages, e.g. "41 characters, one colon"; never any part of the value. */
export function describeShape(raw: string): string {
  const length = [...raw].length;
  const colons = raw.split(':').length - 1;
  const colonText = colons === 0 ? 'no colon' : colons === 1 ? 'one colon' : `${colons} colons`;
  return `${length} ${length === 1 ? 'character' : 'characters'}, ${colonText}`;
}

type Problem =
  | 'empty'
  | 'only-whitespace'
  | 'scheme'
  | 'whitespace'
  | 'control'
  | 'non-ascii'
  | 'colons'
  | 'empty-part';

// "Bearer x", "Basic x", "token x" or "Authorization: …": someone pasted a whole header or its value.
const SCHEME_PREFIX = /^(?:authorization\s*:|(?:bearer|basic|token)\s+\S)/i;
// C0 controls and DEL, plus the C1 range: none may appear in an HTTP header value.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Header values must be visible ASCII (0x21-0x7E); a space is already refused as whitespace.
const NOT_VISIBLE_ASCII = /[^\u0021-\u007e]/;

/** The first reason `value` cannot be a token, in the order most helpful to the user; undefined if fine. */
function findProblem(value: string): Problem | undefined {
  if (value === '') return 'empty';
  if (value.trim() === '') return 'only-whitespace';
  if (SCHEME_PREFIX.test(value)) return 'scheme';
  if (/\s/.test(value)) return 'whitespace';
  if (CONTROL.test(value)) return 'control';
  if (NOT_VISIBLE_ASCII.test(value)) return 'non-ascii';
  const parts = value.split(':');
  if (parts.length > 2) return 'colons';
  if (parts.length === 2 && (parts[0] === '' || parts[1] === '')) return 'empty-part';
  return undefined;
}

const HEADER_HINT = 'A token must be visible ASCII (0x21-0x7E) to fit in an HTTP header';

/** Builds the usage error for `problem`; the message shows only the source and the shape of `value`. */
function tokenError(problem: Problem, value: string, source?: string): ToolkitCiError {
  const subject = source ? `The token from ${source}` : 'The token';
  const shape = describeShape(value);
  switch (problem) {
    case 'empty':
    case 'only-whitespace':
      return new ToolkitCiError(
        'usage',
        problem === 'empty' ? `${subject} is empty` : `${subject} is empty: only whitespace (${shape})`,
        {
          hint:
            'Set it from a CI secret that holds a Toolkit token; an empty value usually means the secret ' +
            'is not defined or not available to this job (e.g. pull requests from forks get no secrets)',
        },
      );
    case 'scheme':
      return new ToolkitCiError('usage', `${subject} starts with an authorization scheme (${shape})`, {
        hint: "Pass only the token, without 'Bearer ' or any header name before it",
      });
    case 'whitespace':
      return new ToolkitCiError('usage', `${subject} contains whitespace inside it (${shape})`, {
        hint: 'A token is a single word: check that the secret holds only the token, with no spaces or line breaks',
      });
    case 'control':
      return new ToolkitCiError('usage', `${subject} contains a control character (${shape})`, {
        hint: `${HEADER_HINT}; copy the token again from its source`,
      });
    case 'non-ascii':
      return new ToolkitCiError('usage', `${subject} contains a non-ASCII character (${shape})`, {
        hint: `${HEADER_HINT}; a token copied from a document may have picked up typographic quotes or dashes`,
      });
    case 'colons':
      return new ToolkitCiError('usage', `${subject} has more than one colon (${shape})`, {
        hint: 'A role key is ACCESS:SECRET joined by exactly one colon; any other token has no colon',
      });
    case 'empty-part':
      return new ToolkitCiError('usage', `${subject} has an empty part around its colon (${shape})`, {
        hint: 'A role key is ACCESS:SECRET with both parts non-empty',
      });
  }
}
