import * as core from '@actions/core';
import { dockerLogout, Secrets } from '../../../packages/core/src/index.js';
import { ActionLog, rawInput } from '../../common/src/github.js';
import { STATE } from './state.js';

/**
 * The post step: logs out of exactly the registries main logged in to (main records each success as it
 * happens), so entries other steps wrote to config.json stay. A failed logout warns: the job's outcome is
 * decided by the steps that did the work.
 */
export async function runPost(): Promise<void> {
  // The token is not needed here, but the runner hands post the inputs again (INPUT_TOKEN) and main may have
  // exported EAI_TOKEN: both are redacted in anything post prints and kept out of docker's environment
  // (main may have failed before exporting, or been cancelled half-way, with logins still to undo).
  const secrets = new Secrets();
  for (const value of [process.env.EAI_TOKEN, rawInput('token')]) {
    if (value?.trim()) secrets.add(value.trim());
  }
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
