import { dockerLogout, exitCodeOf, ToolkitCiError } from '../../../core/src/index.js';
import type { CommandSpec, ParsedCommand } from '../args.js';
import type { CliContext } from '../context.js';
import { dockerConfigFrom, REGISTRY_OPTIONS, registriesFrom } from './registries.js';

export const logoutSpec: CommandSpec = {
  name: 'logout',
  usage: '[options]',
  summary:
    "Remove Docker's credentials for the Toolkit registries (other entries of config.json stay). " +
    'Not being logged in, or having no docker CLI, counts as success. Needs no token.',
  options: REGISTRY_OPTIONS,
};

/** `toolkit-ci logout`: every registry is tried; the first failure decides the exit code. */
export async function runLogout(ctx: CliContext, { values }: ParsedCommand): Promise<number> {
  const registries = registriesFrom(values);
  const dockerConfig = await dockerConfigFrom(values, ctx);
  let exitCode = 0;
  for (const host of registries) {
    try {
      await dockerLogout(host, { secrets: ctx.secrets, dockerConfig, env: ctx.io.env });
      ctx.out.info(`Logged out of ${host}`);
    } catch (error) {
      // No docker CLI means no docker login happened here: a clean-up step has nothing to undo.
      if (
        error instanceof ToolkitCiError &&
        error.kind === 'docker' &&
        /docker CLI was not found/.test(error.message)
      ) {
        ctx.out.warning(`the docker CLI was not found, so there is nothing to log out of (${host})`);
        continue;
      }
      ctx.out.error(error instanceof Error ? error.message : String(error));
      if (exitCode === 0) exitCode = exitCodeOf(error);
    }
  }
  return exitCode;
}
