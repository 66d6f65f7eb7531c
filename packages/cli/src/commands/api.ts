import { readFile } from 'node:fs/promises';
import { ToolkitCiError } from '../../../core/src/index.js';
import { API_OPTIONS, type CommandSpec, type ParsedCommand, stringValue, TOKEN_OPTIONS } from '../args.js';
import { type CliContext, readToken, resolveApiUrl, resolvePath, toolkitClient } from '../context.js';

export const apiSpec: CommandSpec = {
  name: 'api',
  usage: 'METHOD PATH [options]',
  summary:
    'Call the Toolkit API with the token and print the answer (JSON pretty-printed). PATH starts with /v1, ' +
    'e.g. toolkit-ci api GET /v1/me',
  options: [
    {
      name: 'data',
      type: 'string',
      value: 'JSON|@FILE',
      description: 'the JSON request body, inline or from a file (@- reads stdin)',
    },
    ...API_OPTIONS,
    ...TOKEN_OPTIONS,
  ],
  positionals: [2, 2],
};

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** `toolkit-ci api METHOD PATH [--data JSON|@FILE]`. */
export async function runApi(ctx: CliContext, { values, positionals }: ParsedCommand): Promise<number> {
  const method = (positionals[0] as string).toUpperCase();
  const path = positionals[1] as string;
  if (!METHODS.includes(method)) {
    throw new ToolkitCiError('usage', `toolkit-ci api: METHOD must be one of ${METHODS.join(', ')}`);
  }
  if (!path.startsWith('/')) {
    throw new ToolkitCiError('usage', 'toolkit-ci api: PATH must start with "/", e.g. /v1/me');
  }
  const data = stringValue(values, 'data');
  if (data === '@-' && stringValue(values, 'token-file') === '-') {
    throw new ToolkitCiError('usage', '--data @- and --token-file - both want stdin', {
      hint: 'Read one of them from a file',
    });
  }
  const apiUrl = resolveApiUrl(values, ctx.io.env);
  const token = await readToken(values, ctx);
  const body = data === undefined ? undefined : await parseBody(ctx, data);
  const client = toolkitClient(ctx, apiUrl, token);
  try {
    const response = await client.request(method, path, body);
    const text = formatBody(response.body);
    if (text !== '') ctx.out.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  } finally {
    await client.close();
  }
  return 0;
}

async function parseBody(ctx: CliContext, data: string): Promise<unknown> {
  let text = data;
  let what = '--data';
  if (data.startsWith('@')) {
    const file = data.slice(1);
    what = file === '-' ? '--data @- (stdin)' : `--data file ${JSON.stringify(file)}`;
    try {
      text = file === '-' ? await ctx.io.readStdin() : await readFile(resolvePath(ctx, file), 'utf8');
    } catch (error) {
      throw new ToolkitCiError('usage', `${what} cannot be read (${(error as NodeJS.ErrnoException).code})`);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    // The body may hold secrets (environment values of a JobSpec): say where, never quote it.
    throw new ToolkitCiError('usage', `${what} is not valid JSON (${text.length} characters)`);
  }
}

function formatBody(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  return JSON.stringify(body, null, 2);
}
