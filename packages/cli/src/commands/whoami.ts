import { API_OPTIONS, type CommandSpec, type ParsedCommand, TOKEN_OPTIONS } from '../args.js';
import { type CliContext, readToken, resolveApiUrl, toolkitClient } from '../context.js';
import { describeIdentity } from './login.js';

export const whoamiSpec: CommandSpec = {
  name: 'whoami',
  usage: '[options]',
  summary:
    'Print who the token is (GET /v1/me): "FULLNAME (account ACCOUNT)", or the whole answer with --json.',
  options: [
    { name: 'json', type: 'boolean', description: 'print the GET /v1/me answer as JSON' },
    ...API_OPTIONS,
    ...TOKEN_OPTIONS,
  ],
};

/** `toolkit-ci whoami`. */
export async function runWhoami(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  const apiUrl = resolveApiUrl(values, ctx.io.env);
  const token = await readToken(values, ctx);
  const client = toolkitClient(ctx, apiUrl, token);
  try {
    const identity = await client.me();
    ctx.out.result(values.json ? JSON.stringify(identity, null, 2) : describeIdentity(identity));
  } finally {
    await client.close();
  }
  return 0;
}
