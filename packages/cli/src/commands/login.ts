import {
  DEFAULT_API_URL,
  dockerLogin,
  dockerLogout,
  type Identity,
  type Token,
} from '../../../core/src/index.js';
import { API_OPTIONS, type CommandSpec, type ParsedCommand, stringValue, TOKEN_OPTIONS } from '../args.js';
import { type CliContext, readToken, resolveApiUrl, resolvePath, toolkitClient } from '../context.js';
import {
  assertExportTargetWritable,
  exportVariables,
  parseExportMode,
  resolveExportTarget,
  type Variables,
} from '../export.js';
import { dockerConfigFrom, REGISTRY_OPTIONS, registriesFrom } from './registries.js';

export const loginSpec: CommandSpec = {
  name: 'login',
  usage: '[options]',
  summary:
    'Verify the Toolkit token (GET /v1/me), log Docker in to the Toolkit registries with the token on stdin, ' +
    'and export EAI_TOKEN for later steps where the CI expects it.',
  options: [
    ...REGISTRY_OPTIONS,
    { name: 'no-verify', type: 'boolean', description: 'skip the GET /v1/me check' },
    {
      name: 'export',
      type: 'string',
      value: 'MODE',
      description:
        'auto (default: CircleCI -> $BASH_ENV, GitHub -> $GITHUB_ENV, else none), bash-env, github-env, ' +
        'dotenv=PATH (mode 0600; the file holds the token) or none',
    },
    ...API_OPTIONS,
    ...TOKEN_OPTIONS,
  ],
  details:
    'The token comes from $EAI_TOKEN (or --token-env NAME, or --token-file PATH|-), never from a flag.\n' +
    'Order: read and check the token, verify it, log in to each registry (undone if one fails), export.',
};

/** Who the token is, as printed: "FULLNAME (account ACCOUNT)". */
export function describeIdentity(identity: Identity): string {
  const name = String(identity.fullName ?? identity.name ?? identity.id);
  return identity.account ? `${name} (account ${identity.account})` : name;
}

export interface LoginPlan {
  token: Token;
  apiUrl: string;
  verify: boolean;
  registries: string[];
  /** Docker's config folder; undefined = docker's default ($DOCKER_CONFIG or ~/.docker). */
  dockerConfig?: string;
}

/**
 * Verifies the token and logs Docker in to each registry. A failed login logs out of the registries this
 * call had already logged in to, so a failing step leaves no credential behind; then the error is thrown.
 */
export async function performLogin(ctx: CliContext, plan: LoginPlan): Promise<{ identity?: Identity }> {
  let identity: Identity | undefined;
  if (plan.verify) {
    const client = toolkitClient(ctx, plan.apiUrl, plan.token);
    try {
      identity = await client.me();
    } finally {
      await client.close();
    }
    ctx.out.info(`Authenticated as ${describeIdentity(identity)}`);
  }
  const loggedIn: string[] = [];
  try {
    for (const host of plan.registries) {
      const { output } = await dockerLogin(host, plan.token, {
        secrets: ctx.secrets,
        dockerConfig: plan.dockerConfig,
        env: ctx.io.env,
      });
      loggedIn.push(host);
      if (output.trim() !== '') ctx.out.note(indent(output.trim()));
      ctx.out.info(`Logged in to ${host}`);
    }
  } catch (error) {
    await rollBack(ctx, loggedIn, plan.dockerConfig);
    throw error;
  }
  return { identity };
}

async function rollBack(
  ctx: CliContext,
  loggedIn: string[],
  dockerConfig: string | undefined,
): Promise<void> {
  for (const host of [...loggedIn].reverse()) {
    try {
      await dockerLogout(host, { secrets: ctx.secrets, dockerConfig, env: ctx.io.env });
      ctx.out.note(`Logged out of ${host} (the login failed)`);
    } catch (error) {
      ctx.out.warning(
        `could not log out of ${host}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

function indent(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => `  ${line}`)
    .join('\n');
}

/** `toolkit-ci login`. */
export async function runLogin(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  // Every flag is checked before the token is used, so a typo fails with nothing done.
  const mode = parseExportMode(stringValue(values, 'export') ?? 'auto');
  const target = resolveExportTarget(mode, ctx.io.env, (path) => resolvePath(ctx, path));
  await assertExportTargetWritable(target);
  const registries = registriesFrom(values);
  const apiUrl = resolveApiUrl(values, ctx.io.env);
  const token = await readToken(values, ctx);
  const dockerConfig = await dockerConfigFrom(values, ctx);

  await performLogin(ctx, { token, apiUrl, verify: values['no-verify'] !== true, registries, dockerConfig });

  const variables: Variables = [
    ['EAI_TOKEN', token.value],
    // Later steps (and the eai CLI) find a non-default console through EAI_CONSOLE_URL.
    ...(apiUrl !== DEFAULT_API_URL ? [['EAI_CONSOLE_URL', apiUrl] as const] : []),
  ];
  const report = await exportVariables(target, variables);
  if (report.message) ctx.out.info(report.message);
  if (report.warning) ctx.out.warning(report.warning);
  if (registries.length === 0 && values['no-verify'] === true && target.kind === 'none') {
    ctx.out.note('Nothing was done: --registry none, --no-verify and no export target');
  }
  return 0;
}
