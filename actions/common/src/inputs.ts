import { assertSafeApiUrl, ToolkitCiError } from '../../../packages/core/src/index.js';

/** Reads one raw input; the GitHub adapter passes `core.getInput`, tests pass a plain map. */
export type InputReader = (name: string) => string;

/**
 * A boolean input. GitHub's own `getBooleanInput` accepts the YAML 1.2 core schema words only; the same
 * words are accepted here, but the error names the input and the fix instead of quoting the spec.
 */
export function booleanInput(read: InputReader, name: string): boolean {
  const value = read(name).trim();
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new ToolkitCiError('usage', `Input "${name}" must be true or false, got ${describe(value)}`, {
    hint: `Set "${name}: true" or "${name}: false", or remove it to use the default`,
  });
}

/** One of a fixed set of words (case-insensitive). */
export function choiceInput<T extends string>(read: InputReader, name: string, choices: readonly T[]): T {
  const value = read(name).trim().toLowerCase();
  const found = choices.find((choice) => choice === value);
  if (found) return found;
  throw new ToolkitCiError(
    'usage',
    `Input "${name}" must be one of ${choices.join(', ')}, got ${describe(value)}`,
    {
      hint: `Set "${name}" to one of: ${choices.join(', ')}`,
    },
  );
}

/** An optional single-line input: '' when unset; a newline inside is refused. */
export function lineInput(read: InputReader, name: string): string {
  const value = read(name).trim();
  if (/[\r\n]/.test(value)) {
    throw new ToolkitCiError('usage', `Input "${name}" must be a single line`, {
      hint: `Remove the line break from "${name}"`,
    });
  }
  return value;
}

/** `job-token-url`: '' (derive it from api-url) or a safe URL, and only meaningful with `token-source: job`. */
export function jobTokenUrlInput(read: InputReader, tokenSource: 'input' | 'job'): string {
  const url = lineInput(read, 'job-token-url');
  if (!url) return '';
  if (tokenSource !== 'job') {
    throw new ToolkitCiError('usage', 'Input "job-token-url" is only used with "token-source: job"', {
      hint: 'Remove "job-token-url", or set "token-source: job"',
    });
  }
  assertSafeApiUrl(url, 'input "job-token-url"');
  return url;
}

// Values quoted in errors are non-secret inputs; still, keep them short.
function describe(value: string): string {
  if (value === '') return 'an empty value';
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
