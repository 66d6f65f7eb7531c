// `npm run demo`: the project's main job on a fresh clone, with nothing installed. It starts the Toolkit
// emulator, runs actions/login from its committed bundle exactly as the GitHub runner would (runner
// harness: INPUT_* env, GITHUB_ENV/OUTPUT/STATE files, then post), with the emulator's demo token, and
// prints the log GitHub would show (masked), the outputs, what was exported and what Docker holds.
// It is bundled into test/support/dist/ (npm run bundle) so that it runs without node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../packages/emulator/src/index.js';
import { runAction } from './runner.js';

const DEMO_TOKEN = 'demo-access:demo-secret'; // the emulator's demo role key: a demo value, not a secret

/** The checkout's root: the first ancestor holding actions/login (works from src and from the bundle). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'actions', 'login', 'action.yml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('demo: cannot find actions/login/action.yml above this script');
    dir = parent;
  }
  return dir;
}

function hasDockerCli(): boolean {
  return spawnSync('docker', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function dockerHosts(dir: string): Promise<string[]> {
  try {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    return Object.keys(config.auths ?? {});
  } catch {
    return [];
  }
}

const section = (title: string) => console.log(`\n=== ${title} ===`);

const emulator = await startEmulator({ timeScale: 10 });
const dockerConfig = await mkdtemp(join(tmpdir(), 'toolkit-ci-demo-docker-'));
let exitCode = 1;
try {
  const docker = hasDockerCli();
  console.log(
    `Toolkit emulator: API ${emulator.url}, registries ${emulator.registryHost} (regular) and ${emulator.volatileRegistryHost} (volatile)`,
  );
  if (!docker)
    console.log(
      'No docker CLI on PATH: running with "registry: none" (install the docker CLI to see the logins).',
    );
  const withInputs = {
    token: DEMO_TOKEN,
    'api-url': emulator.url,
    registry: docker ? 'both' : 'none',
    'registry-host': emulator.registryHost,
    'volatile-registry-host': emulator.volatileRegistryHost,
  };
  section('workflow step');
  console.log('- uses: ./actions/login\n  with:');
  for (const [name, value] of Object.entries(withInputs)) {
    console.log(`    ${name}: ${name === 'token' ? '${{ secrets.EAI_TOKEN }}' : value}`);
  }

  let hostsBetween: string[] = [];
  const result = await runAction({
    action: join(repoRoot(), 'actions', 'login'),
    with: withInputs,
    env: { DOCKER_CONFIG: dockerConfig },
    betweenSteps: async () => {
      hostsBetween = await dockerHosts(dockerConfig);
    },
  });
  try {
    section(`main step log, as GitHub shows it (exit code ${result.main.exitCode})`);
    console.log(result.main.log.trimEnd());
    section('outputs');
    for (const [name, value] of Object.entries(result.outputs)) console.log(`${name}=${value}`);
    section('exported to later steps (GITHUB_ENV), masked as GitHub masks them');
    for (const [name, value] of Object.entries(result.exportedEnv)) {
      console.log(`${name}=${result.main.masks.includes(value) ? '***' : value}`);
    }
    section('Docker config.json after main');
    console.log(hostsBetween.length ? hostsBetween.join('\n') : '(no registry)');
    section(`post step log (exit code ${result.post?.exitCode})`);
    console.log(result.post?.log.trimEnd() ?? '(no post step)');
    section('Docker config.json after post');
    const after = await dockerHosts(dockerConfig);
    console.log(
      after.length ? after.join('\n') : '(empty: post logged out of exactly what main logged in to)',
    );
    exitCode = result.main.exitCode === 0 && result.post?.exitCode === 0 ? 0 : 1;
  } finally {
    await result.cleanup();
  }
} finally {
  await emulator.close();
  await rm(dockerConfig, { recursive: true, force: true });
}
process.exitCode = exitCode;
