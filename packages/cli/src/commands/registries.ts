/** The registry flags shared by login, logout and the plugin, turned into the hosts to act on. */
import { mkdir } from 'node:fs/promises';
import { resolveRegistries, validateRegistryHost } from '../../../core/src/index.js';
import { type OptionSpec, type ParsedValues, stringValue } from '../args.js';
import { type CliContext, resolvePath } from '../context.js';

export const REGISTRY_OPTIONS: OptionSpec[] = [
  {
    name: 'registry',
    type: 'string',
    value: 'SPEC',
    description: 'regular (default), volatile, both, none, or host[:port] names, comma separated',
  },
  {
    name: 'registry-host',
    type: 'string',
    value: 'HOST',
    description: 'the host "regular" stands for (default registry.console.elementai.com)',
  },
  {
    name: 'volatile-registry-host',
    type: 'string',
    value: 'HOST',
    description: 'the host "volatile" stands for (default volatile-registry.console.elementai.com)',
  },
  {
    name: 'docker-config',
    type: 'string',
    value: 'DIR',
    description:
      "Docker's config folder to write the credentials to (default $DOCKER_CONFIG, else ~/.docker)",
  },
];

/** The registry hosts from --registry, --registry-host and --volatile-registry-host, in the order given. */
export function registriesFrom(values: ParsedValues): string[] {
  const regular = stringValue(values, 'registry-host')?.trim();
  const volatile = stringValue(values, 'volatile-registry-host')?.trim();
  return resolveRegistries(
    stringValue(values, 'registry')?.trim() || 'regular',
    {
      regular: regular ? validateRegistryHost(regular, '--registry-host') : undefined,
      volatile: volatile ? validateRegistryHost(volatile, '--volatile-registry-host') : undefined,
    },
    '--registry',
  );
}

/** --docker-config as an absolute folder (created 0700 when missing), or undefined to use Docker's default. */
export async function dockerConfigFrom(values: ParsedValues, ctx: CliContext): Promise<string | undefined> {
  const dir = stringValue(values, 'docker-config')?.trim();
  if (dir === undefined || dir === '') return undefined;
  const path = resolvePath(ctx, dir);
  await mkdir(path, { recursive: true, mode: 0o700 });
  return path;
}
