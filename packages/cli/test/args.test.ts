import { describe, expect, it } from '@jest/globals';
import { ToolkitCiError } from '../../core/src/index.js';
import {
  type CommandSpec,
  helpText,
  parseCommand,
  refuseTokenFlag,
  splitCommand,
  tokenFlagValues,
} from '../src/args.js';

const SPEC: CommandSpec = {
  name: 'demo',
  usage: 'ID [options]',
  summary: 'A demo command.',
  options: [
    { name: 'api-url', type: 'string', value: 'URL', description: 'the API' },
    { name: 'env', type: 'string', multiple: true, description: 'a variable' },
    { name: 'json', type: 'boolean', description: 'JSON output' },
  ],
  positionals: [1, 1],
};

function usageError(fn: () => unknown): ToolkitCiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ToolkitCiError);
    expect((error as ToolkitCiError).kind).toBe('usage');
    return error as ToolkitCiError;
  }
  throw new Error('expected a usage error');
}

describe('--token is refused', () => {
  it.each([[['--token', 'abc']], [['--token=abc']], [['login', '--registry', 'none', '--token', 'abc']]])(
    '%j is refused with a message that says how to pass the token',
    (argv) => {
      const error = usageError(() => refuseTokenFlag(argv));
      expect(error.message).toContain('--token is not accepted');
      expect(error.message).toContain('EAI_TOKEN');
      expect(error.message).toContain('--token-file');
      expect(error.message).not.toContain('abc');
    },
  );

  it('--token-env and --token-file are not mistaken for it, nor anything after --', () => {
    expect(() => refuseTokenFlag(['--token-env', 'X', '--token-file', '-', '--', '--token'])).not.toThrow();
  });

  it('tokenFlagValues finds the would-be token in both spellings, to redact it', () => {
    expect(tokenFlagValues(['--token', 'a1', '--token=b2', '--token-env', 'c3'])).toEqual(['a1', 'b2']);
  });

  it('parseCommand refuses it too', () => {
    expect(usageError(() => parseCommand(SPEC, ['x', '--token=abc'])).message).toContain(
      '--token is not accepted',
    );
  });
});

describe('parseCommand', () => {
  it('parses string, repeatable and boolean options and positionals', () => {
    const parsed = parseCommand(SPEC, [
      'id-1',
      '--api-url',
      'http://127.0.0.1:1',
      '--env',
      'A=1',
      '--env=B=2',
      '--json',
    ]);
    expect(parsed.positionals).toEqual(['id-1']);
    expect(parsed.values).toMatchObject({ 'api-url': 'http://127.0.0.1:1', env: ['A=1', 'B=2'], json: true });
  });

  it('names an unknown option, a missing value and wrong positionals', () => {
    expect(usageError(() => parseCommand(SPEC, ['x', '--nope'])).message).toMatch(/unknown option --nope/);
    expect(usageError(() => parseCommand(SPEC, ['x', '--api-url'])).message).toMatch(
      /--api-url needs a value/,
    );
    expect(usageError(() => parseCommand(SPEC, [])).message).toMatch(/needs ID/);
    expect(usageError(() => parseCommand(SPEC, ['a', 'b'])).message).toMatch(/unexpected argument "b"/);
  });

  it('--help wins over missing positionals', () => {
    expect(parseCommand(SPEC, ['--help']).values.help).toBe(true);
  });
});

describe('splitCommand', () => {
  const kind = (words: string[]) => {
    const name = words.join(' ');
    if (['login', 'job submit', 'job get'].includes(name)) return 'leaf' as const;
    return name === 'job' ? ('group' as const) : undefined;
  };

  it('finds one- and two-word commands and keeps leading options', () => {
    expect(splitCommand(['login', '--registry', 'none'], kind)).toEqual({
      command: ['login'],
      rest: ['--registry', 'none'],
    });
    expect(splitCommand(['job', 'get', 'ID', '--json'], kind)).toEqual({
      command: ['job', 'get'],
      rest: ['ID', '--json'],
    });
    expect(splitCommand(['-q', '--api-url', 'U', 'login'], kind)).toEqual({
      command: ['login'],
      rest: ['-q', '--api-url', 'U'],
    });
    expect(splitCommand(['job'], kind)).toEqual({ command: ['job'], rest: [] });
    expect(splitCommand(['nope', 'x'], kind)).toEqual({ command: [], rest: ['nope', 'x'] });
  });
});

describe('helpText', () => {
  it('lists every option with its value name and the global ones', () => {
    const text = helpText(SPEC);
    expect(text).toMatch(/^Usage: toolkit-ci demo ID \[options\]\n/);
    expect(text).toContain('--api-url URL');
    expect(text).toMatch(/--env VALUE +a variable \(repeatable\)/);
    expect(text).toContain('-h, --help');
    expect(text).toContain('-q, --quiet');
  });
});
