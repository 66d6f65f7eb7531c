import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../../emulator/src/index.js';
import { ToolkitClient } from '../src/client.js';
import { ToolkitCiError } from '../src/errors.js';
import {
  buildJobSpec,
  fieldNames,
  formatDuration,
  jobSpecEnvValues,
  parseDurationSeconds,
  redactJobSpec,
  validateJobSpec,
} from '../src/job-spec.js';
import { loadJobSpecFile } from '../src/job-spec-file.js';
import { JobClient, type JobSpec } from '../src/jobs.js';

const INPUTS = { names: fieldNames('input') };
const FLAGS = { names: fieldNames('flag') };

function usageError(fn: () => unknown): ToolkitCiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ToolkitCiError);
    expect((error as ToolkitCiError).kind).toBe('usage');
    return error as ToolkitCiError;
  }
  throw new Error('expected a usage error');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'job-spec-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('buildJobSpec', () => {
  it('turns every raw field into its JobSpec field', () => {
    const spec = buildJobSpec({
      image: ' registry.example.com/acme.ml/trainer:1.4.0 ',
      command: 'pip install -r requirements.txt\npython train.py --epochs 3\n',
      env: 'MODE=ci\n# a comment\n\nURL=https://x.example.com/?a=b=c\n',
      data: 'acme.ml.dataset@v2/train:/data/train:ro\n',
      cpu: '4',
      mem: '16.5',
      gpu: '1',
      gpuMem: '12',
      gpuModel: 'A100',
      name: 'train_42',
      tags: 'sha=abc123\nbranch = main',
      role: 'acme.ml.runner',
      restartable: 'true',
      preemptable: 'False',
      maxRunTime: '1h30m',
      workdir: '/src',
    });
    expect(spec).toEqual({
      image: 'registry.example.com/acme.ml/trainer:1.4.0',
      command: ['/bin/sh', '-c', 'pip install -r requirements.txt\npython train.py --epochs 3'],
      environmentVars: ['MODE=ci', 'URL=https://x.example.com/?a=b=c'],
      data: ['acme.ml.dataset@v2/train:/data/train:ro'],
      resources: { cpu: 4, mem: 16.5, gpu: 1, gpuMem: 12, gpuModel: 'A100' },
      name: 'train_42',
      tags: [
        { key: 'sha', value: 'abc123' },
        { key: 'branch', value: 'main' },
      ],
      role: 'acme.ml.runner',
      restartable: true,
      preemptable: false,
      maxRunTime: 5400,
      workdir: '/src',
    });
  });

  it('takes a command starting with "[" as a JSON argv', () => {
    expect(buildJobSpec({ image: 'a', command: '["python", "-m", "train", "--lr=0.1"]' }).command).toEqual([
      'python',
      '-m',
      'train',
      '--lr=0.1',
    ]);
  });

  it('treats empty and whitespace-only fields as not set', () => {
    expect(buildJobSpec({ image: 'a', command: '', env: '  \n', cpu: ' ', restartable: '' })).toEqual({
      image: 'a',
    });
  });

  it('merges over a base: fields replaced, env and tags merged by name, resources one by one', () => {
    const base: JobSpec = {
      image: 'base:1',
      command: ['echo', 'base'],
      environmentVars: ['A=1', 'B=2'],
      tags: [{ key: 'team', value: 'ml' }],
      resources: { cpu: 2, mem: 8 },
      options: { keep: true },
    };
    const spec = buildJobSpec({ image: 'override:2', env: 'B=20\nC=3', tags: 'sha=1', mem: '32' }, base);
    expect(spec).toEqual({
      image: 'override:2',
      command: ['echo', 'base'],
      environmentVars: ['A=1', 'B=20', 'C=3'],
      tags: [
        { key: 'team', value: 'ml' },
        { key: 'sha', value: '1' },
      ],
      resources: { cpu: 2, mem: 32 },
      options: { keep: true },
    });
    // the base is not modified
    expect(base.environmentVars).toEqual(['A=1', 'B=2']);
  });

  it('requires an image, naming the input', () => {
    const error = usageError(() => buildJobSpec({ command: 'echo hi' }, undefined, INPUTS));
    expect(error.message).toContain('no image');
    expect(error.message).toContain('input "image"');
  });

  it.each([
    ['name', 'Bad-Name', 'input "name" must match ^[a-z0-9_]+$'],
    ['cpu', '-1', 'input "cpu" must be a number > 0'],
    ['cpu', '0', 'input "cpu" must be a number > 0'],
    ['mem', 'lots', 'input "mem" must be a number > 0'],
    ['gpu', '1.5', 'input "gpu" must be a whole number >= 0'],
    ['gpuMem', '0', 'input "gpu-mem" must be a number > 0'],
    ['restartable', 'yes', 'input "restartable" must be true or false'],
    ['maxRunTime', 'forever', 'input "max-run-time" must be seconds or a duration'],
    ['maxRunTime', '0', 'input "max-run-time" must be seconds or a duration'],
    ['tags', 'novalue', 'input "tags" line 1 must look like key=value'],
    ['data', 'dataset-without-mount', 'input "data" line 1 must look like'],
    ['image', 'a\nb', 'input "image" must be a single line'],
  ] as const)('refuses %s=%j with a message naming the input', (field, value, message) => {
    expect(
      usageError(() => buildJobSpec({ image: 'a', [field]: value }, undefined, INPUTS)).message,
    ).toContain(message);
  });

  it('names CLI flags when asked to', () => {
    expect(usageError(() => buildJobSpec({ image: 'a', gpuMem: 'x' }, undefined, FLAGS)).message).toContain(
      '--gpu-mem must be a number > 0',
    );
  });

  it('never quotes an env value or a command in an error', () => {
    const secret = 'hunter2-very-secret';
    const envError = usageError(() =>
      buildJobSpec({ image: 'a', env: `GOOD=1\nbad line ${secret}` }, undefined, INPUTS),
    );
    expect(envError.message).toContain('input "env" line 2 must look like NAME=VALUE');
    expect(envError.message).not.toContain(secret);
    const commandError = usageError(() =>
      buildJobSpec({ image: 'a', command: `[ "${secret}" ` }, undefined, INPUTS),
    );
    expect(commandError.message).toContain('input "command"');
    expect(commandError.message).not.toContain(secret);
  });

  it('builds a spec the emulator (strict about the JobSpec shape) accepts as is', async () => {
    const emu: EmulatorHandle = await startEmulator({ timeScale: 2 });
    const client = new ToolkitClient({ apiUrl: emu.url, token: 'demo-access:demo-secret' });
    try {
      const spec = buildJobSpec({
        image: 'alpine',
        command: 'echo hi',
        env: 'A=1',
        data: 'acme.ml.d:/data',
        cpu: '1',
        mem: '2',
        gpu: '0',
        gpuMem: '1',
        gpuModel: 'T4',
        name: 'shape_check',
        tags: 'k=v',
        role: 'demo.ci.pusher',
        restartable: 'false',
        preemptable: 'true',
        maxRunTime: '60',
        workdir: '/w',
      });
      const job = await new JobClient(client).submitJob(spec);
      expect(job.jobspec).toEqual(spec);
    } finally {
      await client.close();
      await emu.close();
    }
  });
});

describe('validateJobSpec', () => {
  it('refuses unknown fields (a typo such as "env" fails loudly)', () => {
    const error = usageError(() => validateJobSpec({ image: 'a', env: ['A=1'] }));
    expect(error.message).toContain('unknown field "env"');
    expect(error.message).toContain('environmentVars');
  });

  it.each([
    [{ image: '' }, 'jobspec.image'],
    [{ image: 'a', command: 'echo hi' }, 'jobspec.command must be an array of strings'],
    [{ image: 'a', environmentVars: ['1BAD=x'] }, 'jobspec.environmentVars item 1 must look like NAME=VALUE'],
    [{ image: 'a', name: 'UPPER' }, 'jobspec.name'],
    [{ image: 'a', resources: { cpu: 0 } }, 'jobspec.resources.cpu must be a number > 0'],
    [{ image: 'a', resources: { gpu: 0.5 } }, 'jobspec.resources.gpu must be an integer >= 0'],
    [{ image: 'a', resources: { gpus: 1 } }, 'unknown field "gpus"'],
    [{ image: 'a', maxRunTime: 1.5 }, 'jobspec.maxRunTime'],
    [{ image: 'a', restartable: 'yes' }, 'jobspec.restartable must be true or false'],
    [{ image: 'a', tags: [{ key: 'k' }] }, 'jobspec.tags'],
    [[], 'must be an object'],
  ])('refuses %j', (spec, message) => {
    expect(usageError(() => validateJobSpec(spec)).message).toContain(message);
  });

  it('answers a valid spec unchanged', () => {
    const spec = { image: 'a', interactive: false, bid: 3, resources: { cudaVersion: '12.1' } };
    expect(validateJobSpec(spec)).toBe(spec);
  });
});

describe('loadJobSpecFile', () => {
  it('reads YAML and merges inputs over it', async () => {
    const file = join(dir, 'job.yml');
    await writeFile(
      file,
      [
        'image: registry.example.com/acme.ml/trainer:1.0',
        'command: [python, train.py]',
        'environmentVars:',
        '  - MODE=file',
        '  - KEEP=1',
        'resources:',
        '  cpu: 2',
        '  mem: 8',
        'restartable: true',
        '',
      ].join('\n'),
    );
    const base = await loadJobSpecFile(file);
    expect(base.command).toEqual(['python', 'train.py']);
    const spec = buildJobSpec(
      { image: 'registry.example.com/acme.ml/trainer:2.0', env: 'MODE=input', gpu: '1' },
      base,
    );
    expect(spec).toEqual({
      image: 'registry.example.com/acme.ml/trainer:2.0',
      command: ['python', 'train.py'],
      environmentVars: ['MODE=input', 'KEEP=1'],
      resources: { cpu: 2, mem: 8, gpu: 1 },
      restartable: true,
    });
  });

  it('reads JSON, and a file without an image is fine until the merge', async () => {
    const file = join(dir, 'job.json');
    await writeFile(file, JSON.stringify({ command: ['echo', 'hi'], name: 'from_json' }));
    const base = await loadJobSpecFile(file);
    expect(base).toEqual({ command: ['echo', 'hi'], name: 'from_json' });
    expect(usageError(() => buildJobSpec({}, base, INPUTS)).message).toContain('no image');
    expect(buildJobSpec({ image: 'alpine' }, base, INPUTS).image).toBe('alpine');
  });

  it('names the file in its errors, without quoting its content', async () => {
    const bad = join(dir, 'bad.yml');
    await writeFile(bad, 'image: a\nname: Not_Valid\n');
    await expect(loadJobSpecFile(bad)).rejects.toThrow(`spec file "${bad}": jobspec.name must match`);
    const broken = join(dir, 'broken.yml');
    await writeFile(broken, 'image: a\nenvironmentVars: [TOKEN=sekrit-value\n');
    const error = (await loadJobSpecFile(broken).catch((e: unknown) => e)) as ToolkitCiError;
    expect(error.kind).toBe('usage');
    expect(error.message).toMatch(/is not valid YAML/);
    expect(error.message).not.toContain('sekrit-value');
    const brokenJson = join(dir, 'broken.json');
    await writeFile(brokenJson, '{"environmentVars": ["TOKEN=sekrit-value"');
    const jsonError = (await loadJobSpecFile(brokenJson).catch((e: unknown) => e)) as ToolkitCiError;
    expect(jsonError.message).toContain('is not valid JSON');
    expect(jsonError.message).not.toContain('sekrit-value');
    await expect(loadJobSpecFile(join(dir, 'missing.yml'))).rejects.toThrow('does not exist');
  });
});

describe('redactJobSpec and jobSpecEnvValues', () => {
  const spec: JobSpec = {
    image: 'a',
    environmentVars: ['API_KEY=s3cr3t=with=equals', 'EMPTY=', 'MODE=ci'],
    command: ['echo', 'hi'],
  };

  it('hides every environment value and keeps the names', () => {
    const printed = redactJobSpec(spec);
    expect(printed.environmentVars).toEqual(['API_KEY=***', 'EMPTY=***', 'MODE=***']);
    expect(JSON.stringify(printed)).not.toContain('s3cr3t');
    expect(printed.command).toEqual(['echo', 'hi']);
    // the spec itself is untouched
    expect(spec.environmentVars?.[0]).toBe('API_KEY=s3cr3t=with=equals');
  });

  it('lists the non-empty values to mask', () => {
    expect(jobSpecEnvValues(spec)).toEqual(['s3cr3t=with=equals', 'ci']);
  });
});

describe('durations', () => {
  it.each([
    ['3600', 3600],
    ['90m', 5400],
    ['1h30m', 5400],
    ['2d', 172800],
    ['45s', 45],
    ['1D2H', 93600],
  ])('parses %s', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it.each(['', 'h', '1.5h', '-3', 'forever'])('refuses %j', (text) => {
    expect(parseDurationSeconds(text)).toBeUndefined();
  });

  it.each([
    [0, '0s'],
    [12.4, '12s'],
    [240, '4m 0s'],
    [3723, '1h 2m 3s'],
    [183600, '2d 3h 0m 0s'],
    [-5, '0s'],
    [Number.NaN, '0s'],
  ])('formats %p as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
