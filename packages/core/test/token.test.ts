import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { ToolkitCiError } from '../src/errors.js';
import { describeShape, parseToken, Token } from '../src/token.js';

const SOURCE = 'input "token"';
const TRIMMED = 'The token had surrounding whitespace (a trailing newline?); it was trimmed.';

const EMPTY_HINT =
  'Set it from a CI secret that holds a Toolkit token; an empty value usually means the secret is not ' +
  'defined or not available to this job (e.g. pull requests from forks get no secrets)';
const SCHEME_HINT = "Pass only the token, without 'Bearer ' or any header name before it";
const WHITESPACE_HINT =
  'A token is a single word: check that the secret holds only the token, with no spaces or line breaks';
const CONTROL_HINT =
  'A token must be visible ASCII (0x21-0x7E) to fit in an HTTP header; copy the token again from its source';
const NON_ASCII_HINT =
  'A token must be visible ASCII (0x21-0x7E) to fit in an HTTP header; a token copied from a document may ' +
  'have picked up typographic quotes or dashes';
const COLONS_HINT = 'A role key is ACCESS:SECRET joined by exactly one colon; any other token has no colon';
const EMPTY_PART_HINT = 'A role key is ACCESS:SECRET with both parts non-empty';

const T = 'The token from input "token"';

interface Valid {
  input: string;
  kind: 'role-key' | 'opaque';
  value: string;
  access?: string;
  secret?: string;
  warnings: string[];
}

const VALID: Valid[] = [
  { input: 'Q7pLm2vZr9TnWc4xY8sK', kind: 'opaque', value: 'Q7pLm2vZr9TnWc4xY8sK', warnings: [] },
  {
    input: 'AKQ7PLM2VZ:Zr9TnWc4xY8s',
    kind: 'role-key',
    value: 'AKQ7PLM2VZ:Zr9TnWc4xY8s',
    access: 'AKQ7PLM2VZ',
    secret: 'Zr9TnWc4xY8s',
    warnings: [],
  },
  { input: 'Q7pLm2vZr9TnWc4xY8sK\n', kind: 'opaque', value: 'Q7pLm2vZr9TnWc4xY8sK', warnings: [TRIMMED] },
  {
    input: '  AKQ7PLM2VZ:Zr9TnWc4xY8s\r\n',
    kind: 'role-key',
    value: 'AKQ7PLM2VZ:Zr9TnWc4xY8s',
    access: 'AKQ7PLM2VZ',
    secret: 'Zr9TnWc4xY8s',
    warnings: [TRIMMED],
  },
  { input: '\tQ7pLm2vZ\t', kind: 'opaque', value: 'Q7pLm2vZ', warnings: [TRIMMED] },
  // A byte-order mark from a file saved on Windows counts as surrounding whitespace.
  { input: '\uFEFFQ7pLm2vZ', kind: 'opaque', value: 'Q7pLm2vZ', warnings: [TRIMMED] },
  {
    input: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_',
    kind: 'opaque',
    value: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_',
    warnings: [],
  },
  // Every visible ASCII punctuation character but the colon is allowed in an opaque token.
  {
    input: '!"#$%&\'()*+,-./;<=>?@[\\]^_`{|}~',
    kind: 'opaque',
    value: '!"#$%&\'()*+,-./;<=>?@[\\]^_`{|}~',
    warnings: [],
  },
  { input: 'a:b', kind: 'role-key', value: 'a:b', access: 'a', secret: 'b', warnings: [] },
  { input: 'x', kind: 'opaque', value: 'x', warnings: [] },
  // Starts like a scheme, but has no space: a plain token.
  { input: 'tokenQ7pLm2vZ', kind: 'opaque', value: 'tokenQ7pLm2vZ', warnings: [] },
];

const INVALID: Array<{ input: string | undefined; message: string }> = [
  { input: undefined, message: `${T} is empty. ${EMPTY_HINT}` },
  { input: '', message: `${T} is empty. ${EMPTY_HINT}` },
  { input: '  \n\t', message: `${T} is empty: only whitespace (4 characters, no colon). ${EMPTY_HINT}` },
  {
    input: 'Bearer xQ7pLm2vZr9TnWc4',
    message: `${T} starts with an authorization scheme (23 characters, no colon). ${SCHEME_HINT}`,
  },
  {
    input: 'bearer xQ7pLm2vZr9TnWc4\n',
    message: `${T} starts with an authorization scheme (23 characters, no colon). ${SCHEME_HINT}`,
  },
  {
    input: 'Authorization: Bearer xQ7pLm2vZr9TnWc4',
    message: `${T} starts with an authorization scheme (38 characters, one colon). ${SCHEME_HINT}`,
  },
  {
    input: 'Basic Y29uc29sZTp4UTdwTG0ydlpyOVRuV2M0',
    message: `${T} starts with an authorization scheme (38 characters, no colon). ${SCHEME_HINT}`,
  },
  {
    input: 'Q7pLm2vZr9 TnWc4xY8sK',
    message: `${T} contains whitespace inside it (21 characters, no colon). ${WHITESPACE_HINT}`,
  },
  {
    input: 'Q7pLm2vZr9\nTnWc4xY8sK',
    message: `${T} contains whitespace inside it (21 characters, no colon). ${WHITESPACE_HINT}`,
  },
  // Header injection: a CR LF inside the value would start a new header.
  {
    input: 'Q7pLm2vZr9\r\nX-Injected: TnWc4xY8sK',
    message: `${T} contains whitespace inside it (34 characters, one colon). ${WHITESPACE_HINT}`,
  },
  {
    input: 'Q7pLm2vZr9\u00a0TnWc4xY8sK',
    message: `${T} contains whitespace inside it (21 characters, no colon). ${WHITESPACE_HINT}`,
  },
  {
    input: 'Q7pLm2vZr9\u0000TnWc4xY8sK',
    message: `${T} contains a control character (21 characters, no colon). ${CONTROL_HINT}`,
  },
  {
    input: 'Q7pLm2vZr9\u001bTnWc4xY8sK',
    message: `${T} contains a control character (21 characters, no colon). ${CONTROL_HINT}`,
  },
  {
    input: 'Q7pLm2vZr9\u007fTnWc4xY8sK',
    message: `${T} contains a control character (21 characters, no colon). ${CONTROL_HINT}`,
  },
  {
    input: 'Q7pLm2vZr9\u0085TnWc4xY8sK',
    message: `${T} contains a control character (21 characters, no colon). ${CONTROL_HINT}`,
  },
  {
    input: 'Q7pLm2vZr9\u009fTnWc4xY8sK',
    message: `${T} contains a control character (21 characters, no colon). ${CONTROL_HINT}`,
  },
  {
    input: 'Q7pLm2vZr9\u00e9TnWc4xY8sK',
    message: `${T} contains a non-ASCII character (21 characters, no colon). ${NON_ASCII_HINT}`,
  },
  {
    input: '\u201cQ7pLm2vZr9TnWc4xY8sK\u201d',
    message: `${T} contains a non-ASCII character (22 characters, no colon). ${NON_ASCII_HINT}`,
  },
  {
    input: 'Q7pLm2vZr9\u{1F511}TnWc4xY8sK',
    message: `${T} contains a non-ASCII character (21 characters, no colon). ${NON_ASCII_HINT}`,
  },
  {
    input: 'AKQ7PLM2VZ:Zr9TnWc4:xY8sKLmN',
    message: `${T} has more than one colon (28 characters, 2 colons). ${COLONS_HINT}`,
  },
  {
    input: 'AKQ7PLM2VZ::Zr9TnWc4xY8s',
    message: `${T} has more than one colon (24 characters, 2 colons). ${COLONS_HINT}`,
  },
  {
    input: ':Zr9TnWc4xY8s',
    message: `${T} has an empty part around its colon (13 characters, one colon). ${EMPTY_PART_HINT}`,
  },
  {
    input: 'AKQ7PLM2VZ:',
    message: `${T} has an empty part around its colon (11 characters, one colon). ${EMPTY_PART_HINT}`,
  },
  {
    input: ':',
    message: `${T} has an empty part around its colon (1 character, one colon). ${EMPTY_PART_HINT}`,
  },
];

function errorOf(run: () => unknown): ToolkitCiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ToolkitCiError) return error;
    throw error;
  }
  throw new Error('expected a ToolkitCiError');
}

/** Pieces of an input that must never show up in a message: the whole, each colon half, each length half. */
function piecesOf(input: string): string[] {
  const value = input.trim();
  const middle = Math.floor(value.length / 2);
  const pieces = [value, ...value.split(':'), value.slice(0, middle), value.slice(middle)];
  // Pieces shorter than 4 characters (like "a") would match any English text; the table's inputs are long.
  return pieces.filter((piece) => piece.length >= 4);
}

describe('parseToken', () => {
  it.each(VALID)('accepts $input', ({ input, kind, value, access, secret, warnings }) => {
    const parsed = parseToken(input, SOURCE);
    expect(parsed.token.kind).toBe(kind);
    expect(parsed.token.value).toBe(value);
    expect(parsed.token.access).toBe(access);
    expect(parsed.token.secret).toBe(secret);
    expect(parsed.warnings).toEqual(warnings);
    for (const warning of parsed.warnings) {
      for (const piece of piecesOf(input)) expect(warning).not.toContain(piece);
    }
  });

  it.each(INVALID)('refuses $input', ({ input, message }) => {
    const error = errorOf(() => parseToken(input, SOURCE));
    expect(error.kind).toBe('usage');
    expect(error.message).toBe(message);
  });

  it('never puts the input or any half of it in an error message', () => {
    let checked = 0;
    for (const { input } of INVALID) {
      if (input === undefined) continue;
      const error = errorOf(() => parseToken(input, SOURCE));
      for (const piece of piecesOf(input)) {
        expect(error.message).not.toContain(piece);
        expect(error.hint ?? '').not.toContain(piece);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('words its messages without a source when none is given', () => {
    expect(errorOf(() => parseToken('')).message).toBe(`The token is empty. ${EMPTY_HINT}`);
    expect(errorOf(() => parseToken('a:b:c')).message).toBe(
      `The token has more than one colon (5 characters, 2 colons). ${COLONS_HINT}`,
    );
  });
});

describe('Token', () => {
  const { token } = parseToken('AKQ7PLM2VZ:Zr9TnWc4xY8s');

  it('never shows its value when printed, serialised, spread or inspected by accident', () => {
    const outputs = [
      String(token),
      `${token}`,
      JSON.stringify(token),
      JSON.stringify({ token }),
      inspect(token),
      inspect({ nested: { token } }, { depth: 5, showHidden: true }),
      JSON.stringify({ ...token }),
      Object.keys(token).join(','),
    ];
    for (const output of outputs) {
      for (const piece of ['AKQ7PLM2VZ', 'Zr9TnWc4xY8s']) expect(output).not.toContain(piece);
    }
    expect(String(token)).toBe('[redacted token]');
    expect(JSON.stringify({ token })).toBe('{"token":"[redacted token]"}');
    expect(inspect(token)).toBe('[redacted token]');
  });

  it('validates in its constructor too, without trimming', () => {
    expect(new Token('Q7pLm2vZ').kind).toBe('opaque');
    expect(errorOf(() => new Token('Q7pLm2vZ\n', 'the file')).message).toBe(
      `The token from the file contains whitespace inside it (9 characters, no colon). ${WHITESPACE_HINT}`,
    );
  });
});

describe('describeShape', () => {
  it.each([
    ['', '0 characters, no colon'],
    ['x', '1 character, no colon'],
    ['AKQ7PLM2VZ:Zr9TnWc4xY8s', '23 characters, one colon'],
    ['a:b:c:d', '7 characters, 3 colons'],
    ['\u{1F511}ab', '3 characters, no colon'],
  ])('describes %j as %s', (raw, shape) => {
    expect(describeShape(raw)).toBe(shape);
  });
});
