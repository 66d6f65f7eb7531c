// Bundle-size budgets. Every byte of a step's bundle is read and parsed at the start of every step that
// uses it (and of every post step), so the size is part of each action's cost; the budgets keep it at the
// low end of the 0.6 to 3 MB bundles of the actions users compare this one with (docker/login-action,
// configure-aws-credentials), and make growth a decision.
// A budget covers all the files of a dist/ folder, so a lazily loaded chunk counts too.
// README.md's Development section states the same numbers (checked below).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '../support/nodes.js';

interface Budget {
  /** Matches the dist folder, relative to the repository root. */
  folder: RegExp;
  what: string;
  bytes: number;
}

// MB and KB are decimal (10^6, 10^3 bytes), as in `npm run bench` and README.
const BUDGETS: Budget[] = [
  // actions/login measured 675 KB (minified ncc ESM; about 0.58 MB of it is undici, the rest core,
  // @actions/core and @actions/exec); actions/job 806 KB (the same, plus `yaml` for spec files).
  { folder: /^actions\/[^/]+\/dist$/, what: 'each action', bytes: 900_000 },
  // core + undici + yaml + the commands + the emulator, without @actions/*: 823 KB measured.
  { folder: /^packages\/cli\/dist$/, what: 'the CLI', bytes: 1_000_000 },
  // Node built-ins only: 36 KB measured; past 100 KB it has pulled in a dependency.
  { folder: /^packages\/emulator\/dist$/, what: 'the emulator', bytes: 100_000 },
  // The demo (emulator + runner harness + yaml): 182 KB measured.
  { folder: /^test\/support\/dist$/, what: 'the demo', bytes: 300_000 },
];

/** "1.2 MB" / "100 KB", the way README states a budget. */
function format(bytes: number): string {
  return bytes >= 1_000_000 ? `${bytes / 1_000_000} MB` : `${bytes / 1_000} KB`;
}

function distFolders(): string[] {
  const folders = ['actions', 'packages'].flatMap((parent) => {
    const base = join(REPO_ROOT, parent);
    return existsSync(base) ? readdirSync(base).map((name) => join(base, name, 'dist')) : [];
  });
  folders.push(join(REPO_ROOT, 'test', 'support', 'dist'));
  return folders.filter((folder) => existsSync(folder)).map((folder) => relative(REPO_ROOT, folder));
}

function folderBytes(folder: string): number {
  return readdirSync(join(REPO_ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((total, entry) => total + statSync(join(entry.parentPath, entry.name)).size, 0);
}

const folders = distFolders();

describe('bundle-size budgets', () => {
  it('every action has its bundle built (the budgets are not checked against nothing)', () => {
    const actions = readdirSync(join(REPO_ROOT, 'actions')).filter((name) =>
      existsSync(join(REPO_ROOT, 'actions', name, 'action.yml')),
    );
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(folders).toContain(`actions/${action}/dist`);
  });

  it.each(folders)('%s is within its budget', (folder) => {
    const budget = BUDGETS.find((b) => b.folder.test(folder));
    expect({ folder, hasBudget: budget !== undefined }).toEqual({ folder, hasBudget: true });
    const bytes = folderBytes(folder);
    expect({ folder, bytes, within: bytes <= (budget?.bytes ?? 0) }).toEqual({
      folder,
      bytes,
      within: true,
    });
  });

  it('README states the same budgets', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => l.includes('Bundle sizes')) ?? '';
    const start = readme.indexOf(line);
    const next = readme.indexOf('\n- ', start + 1);
    const paragraph = readme.slice(start, next < 0 ? undefined : next).replace(/\s+/g, ' ');
    expect(line).not.toBe('');
    for (const budget of BUDGETS) expect(paragraph).toContain(`${budget.what} ${format(budget.bytes)}`);
  });
});
