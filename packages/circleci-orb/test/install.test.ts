// The install command, run as CircleCI runs it: how the orb decides to run toolkit-ci (TOOLKIT_CI_CLI,
// npx at the pinned version, or the docker CLI alone) and what it leaves in $BASH_ENV for later steps.
// node and npx are small stand-ins here (no network, no npm registry): what is under test is the choice.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from '@jest/globals';
import { expandCommand, type PlanStep } from './support/circleci.js';
import { packOrb } from './support/pack.js';
import { makeSandbox, type Sandbox } from './support/sandbox.js';

const orb = packOrb();
const ORB_VERSION = '0.1.0';

/** A stand-in `node` answering `node -p ...` with this major version. */
const fakeNode = (major: number) => `echo ${major}`;
/** A stand-in `npx` that records its argv in npx.log next to it and prints a version (or fails). */
const fakeNpx = (ok = true) =>
  `printf '%s\\n' "npx $*" >>"\${0%/*}/npx.log"\n${ok ? 'echo 0.1.0' : 'echo "npm error 404 Not Found" >&2; exit 1'}`;

/** A later step that prints what the earlier ones left for it. */
const probe: PlanStep = {
  type: 'run',
  name: 'probe',
  command: 'echo "mode=${TOOLKIT_CI_MODE} cmd=${TOOLKIT_CI_CMD}"',
  environment: {},
  when: 'on_success',
};

let sandboxes: Sandbox[] = [];
async function sandbox(...args: Parameters<typeof makeSandbox>): Promise<Sandbox> {
  const made = await makeSandbox(...args);
  sandboxes.push(made);
  return made;
}
afterEach(async () => {
  await Promise.all(sandboxes.map((s) => s.cleanup()));
  sandboxes = [];
});

describe('install', () => {
  it('uses TOOLKIT_CI_CLI when set, runs it once to check it, and records it in BASH_ENV', async () => {
    const box = await sandbox({ node: true, bins: { 'my-toolkit-ci': 'echo "9.9.9"' } });
    const result = await box.run([...expandCommand(orb, 'install'), probe], {
      TOOLKIT_CI_CLI: `${box.bin}/my-toolkit-ci`,
    });
    expect(result.failed).toBe(false);
    expect(result.steps[0]?.name).toBe('Set up toolkit-ci');
    expect(result.steps[0]?.stdout).toContain('Using toolkit-ci from TOOLKIT_CI_CLI.');
    expect(result.steps[0]?.stdout).toContain('toolkit-ci 9.9.9');
    expect(await box.bashEnvText()).toBe(
      `export TOOLKIT_CI_MODE=cli\nexport TOOLKIT_CI_CMD=${box.bin}/my-toolkit-ci\n`,
    );
    expect(result.steps[1]?.stdout).toBe(`mode=cli cmd=${box.bin}/my-toolkit-ci\n`);
  });

  it('on Node 20+ runs npx --yes toolkit-ci@VERSION, pinned to the orb version by default', async () => {
    const box = await sandbox({ node: false, bins: { node: fakeNode(20), npx: fakeNpx() } });
    const result = await box.run([...expandCommand(orb, 'install'), probe]);
    expect(result.failed).toBe(false);
    expect(result.steps[0]?.stdout).toContain(`Using toolkit-ci ${ORB_VERSION} through npx (Node 20).`);
    expect(result.steps[1]?.stdout).toBe(`mode=cli cmd=npx --yes toolkit-ci@${ORB_VERSION}\n`);
    expect(await readFile(`${box.bin}/npx.log`, 'utf8')).toBe(
      `npx --yes toolkit-ci@${ORB_VERSION} --version\n`,
    );
  });

  it('passes another pinned version to npx, and runs it once with --version', async () => {
    const box = await sandbox({ node: false, bins: { node: fakeNode(22), npx: fakeNpx() } });
    const result = await box.run(expandCommand(orb, 'install', { version: '1.2.3' }));
    expect(result.failed).toBe(false);
    expect(await readFile(`${box.bin}/npx.log`, 'utf8')).toBe('npx --yes toolkit-ci@1.2.3 --version\n');
    expect(await box.bashEnvText()).toContain('export TOOLKIT_CI_CMD=npx\\ --yes\\ toolkit-ci@1.2.3\n');
  });

  it('without Node chooses the docker CLI alone', async () => {
    const box = await sandbox({ node: false });
    const result = await box.run([...expandCommand(orb, 'install'), probe]);
    expect(result.failed).toBe(false);
    expect(result.steps[0]?.stdout).toContain('No Node on this executor');
    expect(result.steps[1]?.stdout).toBe('mode=docker cmd=\n');
  });

  it('with a Node older than 20 chooses the docker CLI alone and says why', async () => {
    const box = await sandbox({ node: false, bins: { node: fakeNode(18), npx: 'exit 99' } });
    const result = await box.run([...expandCommand(orb, 'install'), probe]);
    expect(result.failed).toBe(false);
    expect(result.steps[0]?.stdout).toContain('Node 18 is older than 20');
    expect(result.steps[1]?.stdout).toBe('mode=docker cmd=\n');
  });

  it('does nothing the second time in a job (each command runs it first)', async () => {
    const box = await sandbox({ node: false });
    await box.run(expandCommand(orb, 'install'));
    const before = await box.bashEnvText();
    const again = await box.run(expandCommand(orb, 'install'));
    expect(again.steps[0]?.stdout).toBe('toolkit-ci is already set up in this job (mode: docker).\n');
    expect(await box.bashEnvText()).toBe(before);
  });

  it('refuses a version that is not pinned, before anything else', async () => {
    const box = await sandbox({ node: false });
    for (const version of ['^1.0.0', 'latest', '1.x', '']) {
      const result = await box.run(expandCommand(orb, 'install', { version }));
      expect([version, result.steps[0]?.code]).toEqual([version, 2]);
      expect(result.steps[0]?.stderr).toContain('exact toolkit-ci version');
    }
    expect(await box.bashEnvText()).toBe('');
  });

  it('fails the step, naming the way out, when npx cannot fetch toolkit-ci', async () => {
    const box = await sandbox({ node: false, bins: { node: fakeNode(20), npx: fakeNpx(false) } });
    const result = await box.run(expandCommand(orb, 'install'));
    expect(result.steps[0]?.code).toBe(1);
    expect(result.steps[0]?.stderr).toContain('could not run toolkit-ci (npx --yes toolkit-ci@0.1.0)');
    expect(result.steps[0]?.stderr).toContain('TOOLKIT_CI_CLI');
    expect(await box.bashEnvText()).toBe('');
  });

  it('fails without BASH_ENV (it is always set in CircleCI)', async () => {
    const box = await sandbox({ node: false });
    const result = await box.run(expandCommand(orb, 'install'), { BASH_ENV: '' });
    expect(result.steps[0]?.code).toBe(2);
    expect(result.steps[0]?.stderr).toContain('BASH_ENV is not set');
  });
});
