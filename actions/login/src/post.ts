import * as core from '@actions/core';
import { dockerLogout, Secrets } from '../../../packages/core/src/index.js';
import { ActionLog } from '../../common/src/github.js';
import { STATE } from './state.js';

/**
 * The post step: logs out of exactly the registries main logged in to (main records each success as it
 * happens), so entries other steps wrote to config.json stay. A failed logout warns: the job's outcome is
 * decided by the steps that did the work.
 */
export async function runPost(): Promise<void> {
  // The token is not needed here, but EAI_TOKEN (exported by main) is masked in anything post prints.
  const secrets = new Secrets();
  if (process.env.EAI_TOKEN) secrets.add(process.env.EAI_TOKEN);
  const log = new ActionLog(secrets);

  if (core.getState(STATE.logout) === 'false') {
    log.info('logout: false, so the Docker credentials stay for the rest of the job');
    return;
  }
  const registries = parseRegistries(core.getState(STATE.registries));
  if (registries.length === 0) {
    log.info('No registry to log out of');
    return;
  }
  for (const host of registries) {
    try {
      await dockerLogout(host, { secrets });
      log.info(`Logged out of ${host}`);
    } catch (error) {
      log.warning(`Could not log out of ${host}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function parseRegistries(state: string): string[] {
  if (!state) return [];
  try {
    const value: unknown = JSON.parse(state);
    return Array.isArray(value) ? value.filter((host): host is string => typeof host === 'string') : [];
  } catch {
    return [];
  }
}
