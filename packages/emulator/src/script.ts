// The tiny command language that decides what an emulated job does (README "Scenarios"):
// `echo`, `sleep`, `exit`, `interrupt`; lines, `;`, `&&` and `||` separate commands. Pure: text in, steps out.

export type Step =
  | { op: 'echo'; text: string }
  | { op: 'sleep'; seconds: number }
  | { op: 'exit'; code: number }
  | { op: 'interrupt' };

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash']);

/** The script a JobSpec command runs: the `-c` argument of a shell, else the argv joined by spaces. */
export function scriptOf(command: readonly string[] | undefined): string {
  if (!command || command.length === 0) return '';
  const program = command[0]!.split('/').at(-1)!;
  if (SHELLS.has(program)) {
    const flag = command.findIndex((arg, i) => i > 0 && /^-[a-z]*c[a-z]*$/.test(arg));
    if (flag > 0) return command[flag + 1] ?? '';
  }
  return command.join(' ');
}

type Connector = ';' | '&&' | '||';

interface SimpleCommand {
  words: string[];
  /** How this command is joined to the one before it. */
  after: Connector;
}

function expand(name: string, env: Readonly<Record<string, string>>): string {
  const withDefault = /^([A-Za-z_][A-Za-z0-9_]*):?-(.*)$/.exec(name);
  if (withDefault) return env[withDefault[1]!] || withDefault[2]!;
  return env[name] ?? '';
}

/** Splits a script into simple commands of words, honouring quotes, escapes, comments and $VAR / ${VAR}. */
function tokenize(script: string, env: Readonly<Record<string, string>>): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let after: Connector = ';';

  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = (next: Connector) => {
    endWord();
    if (words.length > 0) commands.push({ words, after });
    words = [];
    after = next;
  };
  const readVariable = (i: number): [string, number] => {
    if (script[i + 1] === '{') {
      const close = script.indexOf('}', i + 2);
      if (close < 0) return ['$', i + 1];
      return [expand(script.slice(i + 2, close), env), close + 1];
    }
    const match = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9?#$@*]/.exec(script.slice(i + 1));
    if (!match) return ['$', i + 1];
    return [expand(match[0], env), i + 1 + match[0].length];
  };

  let i = 0;
  while (i < script.length) {
    const c = script[i]!;
    if (c === '\n' || c === ';') {
      endCommand(';');
      i++;
    } else if (c === '&' && script[i + 1] === '&') {
      endCommand('&&');
      i += 2;
    } else if (c === '|' && script[i + 1] === '|') {
      endCommand('||');
      i += 2;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      i++;
    } else if (c === '#' && !inWord) {
      while (i < script.length && script[i] !== '\n') i++;
    } else if (c === "'") {
      const close = script.indexOf("'", i + 1);
      const end = close < 0 ? script.length : close;
      word += script.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      while (i < script.length && script[i] !== '"') {
        if (script[i] === '\\' && '"\\$`'.includes(script[i + 1] ?? '')) {
          word += script[i + 1];
          i += 2;
        } else if (script[i] === '$') {
          const [value, next] = readVariable(i);
          word += value;
          i = next;
        } else {
          word += script[i];
          i++;
        }
      }
      i++;
    } else if (c === '\\') {
      if (script[i + 1] === '\n') {
        i += 2; // line continuation
      } else {
        word += script[i + 1] ?? '';
        inWord = true;
        i += 2;
      }
    } else if (c === '$') {
      const [value, next] = readVariable(i);
      word += value;
      inWord = true;
      i = next;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  endCommand(';');
  return commands;
}

const REDIRECTION = /^[0-9]?>(&[0-9])?$|^[0-9]?>&[0-9]$|^&>/;

function toStep(words: string[]): Step | undefined {
  const [name, ...args] = words;
  switch (name) {
    case 'echo':
      return { op: 'echo', text: args.filter((w) => !REDIRECTION.test(w)).join(' ') };
    case 'sleep': {
      const seconds = Number.parseFloat(args[0] ?? '');
      return { op: 'sleep', seconds: Number.isFinite(seconds) && seconds > 0 ? seconds : 0 };
    }
    case 'exit': {
      if (args.length === 0) return { op: 'exit', code: 0 };
      const code = Number.parseInt(args[0]!, 10);
      // Like sh: a non-numeric argument is an error (2); codes wrap to 0..255.
      return { op: 'exit', code: Number.isInteger(code) ? ((code % 256) + 256) % 256 : 2 };
    }
    case 'interrupt':
      return { op: 'interrupt' };
    default:
      return undefined; // unknown commands do nothing and "succeed"
  }
}

/**
 * Parses a script into steps. Every command succeeds in this language, so `a && b` runs b and
 * `a || b` never runs b. Variables come from `env` (unset ones expand to '').
 */
export function parseScript(script: string, env: Readonly<Record<string, string>> = {}): Step[] {
  const steps: Step[] = [];
  for (const command of tokenize(script, env)) {
    if (command.after === '||') continue;
    const step = toStep(command.words);
    if (step) steps.push(step);
  }
  return steps;
}

/** `environmentVars` (`K=V` items) as a map; a later item wins. */
export function envOf(environmentVars: readonly string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of environmentVars ?? []) {
    const eq = item.indexOf('=');
    if (eq > 0) env[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return env;
}
