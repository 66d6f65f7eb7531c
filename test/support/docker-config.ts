/** A throw-away DOCKER_CONFIG directory, so a test's `docker login` never touches the user's ~/.docker. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DockerConfigFile extends Record<string, unknown> {
  auths?: Record<string, { auth?: string }>;
}

export interface TempDockerConfig {
  /** Use as DOCKER_CONFIG. */
  dir: string;
  /** config.json, or {} while docker has not written one. */
  read(): Promise<DockerConfigFile>;
  /** The registry hosts config.json holds credentials for. */
  authHosts(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** Creates a temp DOCKER_CONFIG dir, optionally with an initial config.json (mode 0600, like docker). */
export async function tempDockerConfig(initial?: object): Promise<TempDockerConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-docker-config-'));
  const file = join(dir, 'config.json');
  if (initial !== undefined) await writeFile(file, `${JSON.stringify(initial, null, 2)}\n`, { mode: 0o600 });
  const read = async (): Promise<DockerConfigFile> => {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as DockerConfigFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  };
  return {
    dir,
    read,
    authHosts: async () => Object.keys((await read()).auths ?? {}).sort(),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
