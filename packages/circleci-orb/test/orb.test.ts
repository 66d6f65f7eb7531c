// The orb's source and its packed form: CircleCI's schema (ajv), the orb's own rules (parameters reach
// scripts through `environment:` only, every run step named, no `set -x`), shellcheck, and versions.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import {
  COMPONENT_KINDS,
  ORB_SRC,
  packOrb,
  packOrbYaml,
  resolveIncludes,
  sourceFiles,
  type Yaml,
} from './support/pack.js';
import { DEFINITION, schemaErrors } from './support/schema.js';
import { usageProblems, WORKFLOW_JOB_KEYS } from './support/usage.js';

const ROOT = new URL('../../../', import.meta.url);
const SCRIPTS = join(ORB_SRC, 'scripts');
const SHELLCHECK = '/usr/bin/shellcheck';

const orb = packOrb();
const files = sourceFiles();
const scripts = readdirSync(SCRIPTS)
  .filter((file) => file.endsWith('.sh'))
  .sort();
const scriptText = (file: string) => readFileSync(join(SCRIPTS, file), 'utf8');

/** Every step list of the orb with where it is, when/unless blocks included. */
function stepLists(): { where: string; steps: unknown[] }[] {
  const lists: { where: string; steps: unknown[] }[] = [];
  const visit = (where: string, steps: unknown[]) => {
    lists.push({ where, steps });
    steps.forEach((step, index) => {
      if (typeof step !== 'object' || step === null) return;
      for (const key of ['when', 'unless']) {
        const block = (step as Yaml)[key] as Yaml | undefined;
        if (block) visit(`${where}[${index}].${key}`, block.steps as unknown[]);
      }
    });
  };
  for (const kind of ['commands', 'jobs'] as const) {
    for (const [name, component] of Object.entries((orb[kind] ?? {}) as Yaml)) {
      visit(`${kind}.${name}`, (component as Yaml).steps as unknown[]);
    }
  }
  return lists;
}

/** Every run step (as an object) of the packed orb. */
function runSteps(): { where: string; run: Yaml }[] {
  return stepLists().flatMap(({ where, steps }) =>
    steps.flatMap((step, index) =>
      typeof step === 'object' && step !== null && 'run' in step
        ? [{ where: `${where}[${index}]`, run: (step as { run: Yaml }).run }]
        : [],
    ),
  );
}

/** The run steps of the source files, includes NOT resolved, with the file they come from. */
function sourceRunSteps(): { where: string; run: Yaml }[] {
  const found: { where: string; run: Yaml }[] = [];
  const walk = (where: string, value: unknown) => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        walk(`${where}[${i}]`, item);
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'run' && typeof item === 'object' && item !== null)
          found.push({ where, run: item as Yaml });
        else walk(`${where}.${key}`, item);
      }
    }
  };
  for (const file of files)
    if (file.kind === 'commands' || file.kind === 'jobs') walk(file.path, file.content.steps);
  return found;
}

describe('the orb against CircleCI schema (ajv, draft-07)', () => {
  it('has the orb development kit layout', () => {
    const kinds = new Set(files.map((file) => file.kind));
    expect([...kinds].sort()).toEqual(['commands', 'examples', 'executors', 'jobs', 'orb']);
    const names = (kind: string) => files.filter((f) => f.kind === kind).map((f) => f.name);
    expect(names('commands')).toEqual(['install', 'login', 'logout', 'run-job']);
    expect(names('jobs')).toEqual(['push-image', 'run-job']);
    expect(names('executors')).toEqual(['default']);
    expect(names('examples').length).toBeGreaterThanOrEqual(3);
    expect(scripts).toEqual(
      expect.arrayContaining([
        'install.sh',
        'login.sh',
        'logout.sh',
        'run-job.sh',
        'build-push.sh',
        'cancel-job.sh',
      ]),
    );
  });

  it.each(files.map((file) => [file.path, file] as const))('%s validates as its kind', (_, file) => {
    expect(schemaErrors(DEFINITION[file.kind], file.content)).toEqual([]);
  });

  it('the packed orb validates as a whole document, parsed back from its YAML text', () => {
    const text = packOrbYaml();
    expect(text).not.toContain('<<include(');
    const reparsed = parse(text) as Yaml;
    expect(reparsed).toEqual(orb);
    expect(schemaErrors('', reparsed)).toEqual([]);
    for (const kind of COMPONENT_KINDS) expect(Object.keys(reparsed[kind] as Yaml).length).toBeGreaterThan(0);
  });

  it('the schema catches the mistakes it should, so a pass means something', () => {
    const commands = orb.commands as Record<string, Yaml>;
    const jobs = orb.jobs as Record<string, Yaml>;
    const mutate = (value: Yaml, change: (copy: Yaml) => void): Yaml => {
      const copy = structuredClone(value);
      change(copy);
      return copy;
    };
    expect(schemaErrors(DEFINITION.commands, commands.login as Yaml)).toEqual([]);
    const badType = mutate(commands.login as Yaml, (c) => {
      ((c.parameters as Yaml).registry as Yaml).type = 'choice';
    });
    expect(schemaErrors(DEFINITION.commands, badType)).not.toEqual([]);
    const noCommand = mutate(commands.login as Yaml, (c) => {
      delete ((c.steps as Yaml[])[1] as { run: Yaml }).run.command;
    });
    expect(schemaErrors(DEFINITION.commands, noCommand)).not.toEqual([]);
    const noExecutor = mutate(jobs['push-image'] as Yaml, (j) => {
      delete j.executor;
    });
    expect(schemaErrors(DEFINITION.jobs, noExecutor)).not.toEqual([]);
    expect(schemaErrors('', { ...orb, version: 2 })).not.toEqual([]);
    expect(schemaErrors(DEFINITION.examples, { description: 'no usage' })).not.toEqual([]);
  });

  it.each(files.filter((f) => f.kind === 'examples').map((file) => [file.name, file] as const))(
    'example %s: its usage validates as a config and uses only what the orb has',
    (_, file) => {
      const usage = file.content.usage as Yaml;
      expect(schemaErrors('', usage)).toEqual([]);
      expect(typeof file.content.description).toBe('string');
      expect(usageProblems(usage, orb)).toEqual([]);
    },
  );
});

describe("the orb's own rules", () => {
  it('every run step has a name and its command is a script included from src/scripts', () => {
    const steps = sourceRunSteps();
    expect(steps.length).toBe(6);
    for (const { where, run } of steps) {
      expect([where, typeof run.name === 'string' && run.name.trim() !== '']).toEqual([where, true]);
      expect([where, String(run.command)]).toEqual([
        where,
        expect.stringMatching(/^<<include\(scripts\/[a-z-]+\.sh\)>>$/),
      ]);
    }
    expect(runSteps().length).toBe(steps.length);
  });

  it('parameters reach shell only through environment: no << in any packed run command', () => {
    for (const { where, run } of runSteps()) {
      expect([where, String(run.command).includes('<<')]).toEqual([where, false]);
      for (const [key, value] of Object.entries((run.environment ?? {}) as Yaml)) {
        expect([where, key]).toEqual([where, expect.stringMatching(/^PARAM_[A-Z0-9_]+$/)]);
        expect([where, key, String(value)]).toEqual([
          where,
          key,
          expect.stringMatching(/^<<parameters\.[a-z_]+>>$/),
        ]);
      }
    }
  });

  it('each script reads exactly the PARAM_* variables its steps pass', () => {
    for (const { where, run } of sourceRunSteps()) {
      const script = /scripts\/([a-z-]+\.sh)/.exec(String(run.command))?.[1] as string;
      const read = [...new Set(scriptText(script).match(/\bPARAM_[A-Z0-9_]+/g) ?? [])].sort();
      const passed = Object.keys((run.environment ?? {}) as Yaml).sort();
      expect([where, script, passed]).toEqual([where, script, read]);
    }
  });

  it('every << parameters.x >> is declared and every declared parameter is used', () => {
    for (const kind of ['commands', 'jobs', 'executors'] as const) {
      for (const [name, raw] of Object.entries(orb[kind] as Yaml)) {
        const component = raw as Yaml;
        const declared = Object.keys((component.parameters ?? {}) as Yaml).sort();
        const { parameters: _, ...rest } = component;
        const used = [
          ...new Set([...JSON.stringify(rest).matchAll(/<<\s*parameters\.([a-z_]+)\s*>>/g)].map((m) => m[1])),
        ];
        expect([`${kind}.${name}`, used.sort()]).toEqual([`${kind}.${name}`, declared]);
        for (const [param, spec] of Object.entries((component.parameters ?? {}) as Yaml)) {
          expect([`${kind}.${name}.${param}`, typeof (spec as Yaml).description]).toEqual([
            `${kind}.${name}.${param}`,
            'string',
          ]);
        }
      }
    }
  });

  it("job parameters avoid the names a workflow's job entry reserves", () => {
    for (const [name, job] of Object.entries(orb.jobs as Yaml)) {
      for (const param of Object.keys((job as Yaml).parameters as Yaml)) {
        expect([name, param, WORKFLOW_JOB_KEYS.includes(param)]).toEqual([name, param, false]);
      }
    }
  });

  it('the token is an env_var_name parameter defaulting to EAI_TOKEN and registry an enum, everywhere', () => {
    for (const kind of ['commands', 'jobs'] as const) {
      for (const [name, component] of Object.entries(orb[kind] as Yaml)) {
        const params = ((component as Yaml).parameters ?? {}) as Record<string, Yaml>;
        if (params.token_env_var)
          expect([name, params.token_env_var.type, params.token_env_var.default]).toEqual([
            name,
            'env_var_name',
            'EAI_TOKEN',
          ]);
        if (params.registry) expect([name, params.registry.type]).toEqual([name, 'enum']);
      }
    }
    expect(((orb.commands as Yaml).login as Yaml).parameters).toHaveProperty('token_env_var');
  });

  it('the run-job job passes every parameter of the run-job command through', () => {
    const commandParams = Object.keys((((orb.commands as Yaml)['run-job'] as Yaml).parameters ?? {}) as Yaml);
    const job = (orb.jobs as Yaml)['run-job'] as Yaml;
    const invocation = (job.steps as Yaml[]).find((step) => 'run-job' in step)?.['run-job'] as Yaml;
    expect(Object.keys(invocation).sort()).toEqual([...commandParams].sort());
    for (const param of commandParams) {
      expect(invocation[param]).toBe(`<<parameters.${param}>>`);
      expect((job.parameters as Yaml)[param]).toEqual(
        (((orb.commands as Yaml)['run-job'] as Yaml).parameters as Yaml)[param],
      );
    }
  });

  it('scripts: a bash shebang, no set -x, no CircleCI << >> syntax, shared blocks identical', () => {
    for (const file of scripts) {
      const text = scriptText(file);
      expect([file, text.startsWith('#!/bin/bash\n')]).toEqual([file, true]);
      expect([file, /set\s+-[a-wyz]*x|set\s+-o\s+xtrace|\bbash\s+-x/.test(text)]).toEqual([file, false]);
      // CircleCI would read << ... >> in an included script as parameter syntax: here-docs are out too.
      expect([file, text.includes('<<')]).toEqual([file, false]);
    }
    const block = (text: string, marker: string) => {
      const start = text.indexOf(`# --- ${marker}`);
      const end = text.indexOf(`# --- end ${marker} ---`);
      return start < 0 || end < 0 ? undefined : text.slice(start, end);
    };
    for (const [marker, users] of [
      ['registry hosts', ['login.sh', 'logout.sh', 'build-push.sh']],
      ['token variable', ['login.sh', 'run-job.sh']],
    ] as const) {
      const blocks = users.map((file) => block(scriptText(file), marker));
      expect(blocks[0]).toBeDefined();
      for (const other of blocks) expect(other).toBe(blocks[0]);
    }
  });

  it('shellcheck is clean on every script', () => {
    const run = spawnSync(
      SHELLCHECK,
      ['--shell=bash', '--severity=style', ...scripts.map((f) => join(SCRIPTS, f))],
      {
        encoding: 'utf8',
      },
    );
    expect(run.error).toBeUndefined();
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('resolveIncludes refuses an include inside a longer value and one outside src/', () => {
    expect(() => resolveIncludes({ command: 'echo; <<include(scripts/login.sh)>>' })).toThrow('whole value');
    expect(() => resolveIncludes({ command: '<<include(../package.json)>>' })).toThrow('outside src/');
    expect(resolveIncludes({ a: ['<<include(scripts/install.sh)>>'] }).a[0]).toBe(scriptText('install.sh'));
  });
});

describe('versions', () => {
  const orbVersion = (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;

  it("every version parameter defaults to the orb's version, which is the CLI's, and examples use it", () => {
    const cliPackage = new URL('packages/cli/package.json', ROOT);
    const cliVersion = (JSON.parse(readFileSync(cliPackage, 'utf8')) as { version: string }).version;
    expect(orbVersion).toBe(cliVersion);
    let seen = 0;
    for (const kind of ['commands', 'jobs'] as const) {
      for (const [name, component] of Object.entries(orb[kind] as Yaml)) {
        const version = (((component as Yaml).parameters ?? {}) as Record<string, Yaml>).version;
        if (!version) continue;
        seen++;
        expect([name, version.default]).toEqual([name, orbVersion]);
      }
    }
    expect(seen).toBe(5);
    for (const file of files.filter((f) => f.kind === 'examples')) {
      expect(Object.values((file.content.usage as Yaml).orbs as Yaml)).toContain(
        `toolkit-ci/toolkit-ci@${orbVersion}`,
      );
    }
  });
});
