import { describe, expect, it } from '@jest/globals';
import { parseScript, scriptOf } from '../src/index.js';
import { envOf } from '../src/script.js';

describe('scriptOf', () => {
  it('takes the -c argument of a shell', () => {
    expect(scriptOf(['/bin/sh', '-c', 'echo a'])).toBe('echo a');
    expect(scriptOf(['sh', '-c', 'echo b'])).toBe('echo b');
    expect(scriptOf(['bash', '-lc', 'echo c'])).toBe('echo c');
    expect(scriptOf(['/usr/bin/bash', '-e', '-c', 'echo d'])).toBe('echo d');
  });

  it('joins any other argv, and an empty command is an empty script', () => {
    expect(scriptOf(['echo', 'hello', 'world'])).toBe('echo hello world');
    expect(scriptOf(['python', 'train.py'])).toBe('python train.py');
    expect(scriptOf(undefined)).toBe('');
    expect(scriptOf([])).toBe('');
  });
});

describe('parseScript', () => {
  it('splits on lines, ; and && into echo/sleep/exit steps', () => {
    expect(parseScript('echo one\necho two; sleep 2 && exit 3')).toEqual([
      { op: 'echo', text: 'one' },
      { op: 'echo', text: 'two' },
      { op: 'sleep', seconds: 2 },
      { op: 'exit', code: 3 },
    ]);
  });

  it('strips quotes and expands $VAR and braced variables from the environment', () => {
    const env = { NAME: 'world', EMPTY: '' };
    expect(
      parseScript(`echo "hello $NAME" 'literal $NAME' \${NAME}! "\${MISSING:-fallback}" $UNSET.`, env),
    ).toEqual([{ op: 'echo', text: 'hello world literal $NAME world! fallback .' }]);
  });

  it('keeps separators inside quotes and ignores comments and redirections', () => {
    expect(parseScript('echo "a; b && c" # not run; exit 1\necho err >&2')).toEqual([
      { op: 'echo', text: 'a; b && c' },
      { op: 'echo', text: 'err' },
    ]);
  });

  it('drops unknown commands and never runs the right side of ||', () => {
    expect(parseScript('pip install x; python train.py || exit 9; interrupt; echo done')).toEqual([
      { op: 'interrupt' },
      { op: 'echo', text: 'done' },
    ]);
  });

  it('reads exit codes like sh: default 0, wraps to 0..255, non-numeric is 2', () => {
    expect(parseScript('exit')).toEqual([{ op: 'exit', code: 0 }]);
    expect(parseScript('exit 256')).toEqual([{ op: 'exit', code: 0 }]);
    expect(parseScript('exit -1')).toEqual([{ op: 'exit', code: 255 }]);
    expect(parseScript('exit abc')).toEqual([{ op: 'exit', code: 2 }]);
  });

  it('reads fractional sleeps and treats a bad one as no sleep', () => {
    expect(parseScript('sleep 0.5; sleep nope')).toEqual([
      { op: 'sleep', seconds: 0.5 },
      { op: 'sleep', seconds: 0 },
    ]);
  });
});

describe('envOf', () => {
  it('splits K=V items on the first = and lets a later item win', () => {
    expect(envOf(['A=1', 'B=x=y', 'A=2'])).toEqual({ A: '2', B: 'x=y' });
    expect(envOf(undefined)).toEqual({});
  });
});
