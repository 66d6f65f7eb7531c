/**
 * The forms of a token the leak suites look for, defined here from the list and not taken from the
 * product's own `formsOf`: if the product forgot a form, a check built on its list would forget it too.
 */

/** One form, named by how it is derived from the token (never by its value). */
export interface TokenForm {
  kind: string;
  value: string;
}

/** A place a test looked for the token, with its text. */
export interface LeakSink {
  name: string;
  text: string;
}

/** A form found in a sink: names only, so a failing test never prints the token. */
export interface LeakFinding {
  sink: string;
  form: string;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/**
 * raw; each half of ACCESS:SECRET (and their URL-encoded and JSON-escaped forms); base64 of `console:TOKEN`
 * and of the token (padded, unpadded, base64url); URL-encoded; JSON-escaped. Forms equal to one already
 * listed (a token without special characters is its own URL encoding) are listed once, under both names.
 */
export function tokenForms(token: string): TokenForm[] {
  const byValue = new Map<string, string[]>();
  const add = (kind: string, value: string) => {
    if (value === '') return;
    const kinds = byValue.get(value) ?? [];
    kinds.push(kind);
    byValue.set(value, kinds);
  };
  add('raw', token);
  const parts = token.split(':');
  if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') {
    for (const [name, part] of [
      ['access', parts[0]],
      ['secret', parts[1]],
    ] as const) {
      add(name, part);
      add(`${name} url-encoded`, encodeURIComponent(part));
      add(`${name} json-escaped`, jsonEscaped(part));
    }
  }
  for (const [name, text] of [
    ['base64(console:token)', `console:${token}`],
    ['base64(token)', token],
  ] as const) {
    add(name, base64(text));
    add(`${name} unpadded`, base64(text).replace(/=+$/, ''));
    add(`${name} base64url`, base64url(text));
  }
  add('url-encoded', encodeURIComponent(token));
  add('json-escaped', jsonEscaped(token));
  return [...byValue].map(([value, kinds]) => ({ kind: kinds.join(' = '), value }));
}

/** Every form found in every sink. */
export function findForms(forms: TokenForm[], sinks: LeakSink[]): LeakFinding[] {
  const findings: LeakFinding[] = [];
  for (const sink of sinks) {
    for (const form of forms)
      if (sink.text.includes(form.value)) findings.push({ sink: sink.name, form: form.kind });
  }
  return findings;
}

/** Raw stdout without the `::add-mask::` commands: the one place a form may be printed. */
export function withoutMaskCommands(stdout: string): string {
  return stdout
    .split(/\r?\n/)
    .filter((line) => !line.trimStart().startsWith('::add-mask::'))
    .join('\n');
}
