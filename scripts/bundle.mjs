// Builds every committed bundle with ncc (minified ESM), or with --check rebuilds them into a temporary
// folder and fails when a committed dist/ differs (a source change without `npm run bundle`).
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

/** Entry point → the dist folder it is bundled into. */
export const BUNDLES = [
  ['actions/login/src/index.ts', 'actions/login/dist'],
  ['actions/job/src/index.ts', 'actions/job/dist'],
  ['packages/emulator/src/bin.ts', 'packages/emulator/dist'],
  ['test/support/demo.ts', 'test/support/dist'],
  ['packages/cli/src/index.ts', 'packages/cli/dist'],
];

async function build(entry, outDir) {
  await rm(outDir, { recursive: true, force: true });
  await run(join(root, 'node_modules/.bin/ncc'), ['build', join(root, entry), '-o', outDir, '-m', '-q'], {
    cwd: root,
  });
}

async function listFiles(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

async function diff(committedDir, builtDir) {
  const [committed, built] = await Promise.all([listFiles(committedDir), listFiles(builtDir)]);
  const problems = [];
  for (const file of new Set([...committed, ...built])) {
    if (!committed.includes(file)) problems.push(`${file} is missing from the committed bundle`);
    else if (!built.includes(file)) problems.push(`${file} is committed but no longer built`);
    else {
      const [a, b] = await Promise.all([readFile(join(committedDir, file)), readFile(join(builtDir, file))]);
      if (!a.equals(b)) problems.push(`${file} differs from a fresh build`);
    }
  }
  return problems;
}

// Two at a time: the machines have two cores and ncc is CPU-bound.
async function inPairs(items, fn) {
  const results = [];
  for (let i = 0; i < items.length; i += 2) {
    results.push(...(await Promise.all(items.slice(i, i + 2).map((item, j) => fn(item, i + j)))));
  }
  return results;
}

const check = process.argv.includes('--check');
if (!check) {
  await inPairs(BUNDLES, ([entry, out]) => build(entry, join(root, out)));
  console.log(`Built ${BUNDLES.map(([, out]) => out).join(', ')}`);
} else {
  const tmp = await mkdtemp(join(tmpdir(), 'toolkit-ci-dist-'));
  try {
    const problems = (
      await inPairs(BUNDLES, async ([entry, out], index) => {
        const builtDir = join(tmp, String(index));
        await build(entry, builtDir);
        return (await diff(join(root, out), builtDir)).map((problem) => `${out}/${problem}`);
      })
    ).flat();
    if (problems.length) {
      console.error(`check-dist: the committed bundles are stale:\n  ${problems.join('\n  ')}`);
      console.error('Run `npm run bundle` and commit dist/.');
      process.exit(1);
    }
    console.log(`check-dist: ${BUNDLES.length} bundles match their sources`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
