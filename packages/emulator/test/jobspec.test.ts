import { describe, expect, it } from '@jest/globals';
import { DEFAULT_MAX_RUN_TIME, validateJobSpec } from '../src/jobspec.js';

const problem = (body: unknown) => {
  const check = validateJobSpec(body);
  return check.ok ? undefined : check.message;
};

describe('validateJobSpec', () => {
  it('accepts a full JobSpec and adds the 48 h maxRunTime of a non-preemptable job', () => {
    const check = validateJobSpec({
      image: 'registry.console.elementai.com/acme.ml/trainer:1.4.0',
      command: ['python', 'train.py'],
      environmentVars: ['A=1', 'B='],
      data: ['acme.ml.data@1/sub:/data:ro'],
      workdir: '/work',
      name: 'train_1',
      role: 'acme.ml.ci',
      tags: [{ key: 'ci', value: 'yes' }],
      resources: {
        cpu: 2,
        mem: 4.5,
        gpu: 1,
        gpuMem: 16,
        gpuModel: 'V100',
        gpuTensorCores: true,
        cudaVersion: '11.0',
      },
      preemptable: false,
      restartable: true,
      interactive: false,
      bid: 0,
      options: { anything: 1 },
    });
    expect(check.ok).toBe(true);
    expect(check.ok && check.spec.maxRunTime).toBe(DEFAULT_MAX_RUN_TIME);
    expect(validateJobSpec({ image: 'x', preemptable: true }).ok && 'no default').toBe('no default');
  });

  it('names the field and the rule it broke', () => {
    expect(problem(undefined)).toBe('the request body must be a JSON object (a JobSpec)');
    expect(problem({})).toBe('jobspec.image is required (a non-empty string)');
    expect(problem({ image: 3 })).toBe('jobspec.image must be a string');
    expect(problem({ image: 'x', name: 'Bad-Name' })).toBe('jobspec.name must match ^[a-z0-9_]+$');
    expect(problem({ image: 'x', command: 'echo hi' })).toBe('jobspec.command must be an array of strings');
    expect(problem({ image: 'x', environmentVars: ['OK=1', 'no equals'] })).toBe(
      'jobspec.environmentVars item 1 must look like NAME=VALUE',
    );
    expect(problem({ image: 'x', resources: { gpu: 1.5 } })).toBe(
      'jobspec.resources.gpu must be an integer >= 0',
    );
    expect(problem({ image: 'x', resources: { cpu: '2' } })).toBe(
      'jobspec.resources.cpu must be a number >= 0',
    );
    expect(problem({ image: 'x', resources: { gpus: 1 } })).toMatch(
      /^jobspec.resources has an unknown field 'gpus'/,
    );
    expect(problem({ image: 'x', maxRunTime: 1.5 })).toBe('jobspec.maxRunTime must be an integer > 0');
    expect(problem({ image: 'x', tags: [{ key: 'a' }] })).toBe(
      'jobspec.tags item 0 must be {key: string, value: string}',
    );
    expect(problem({ image: 'x', env: ['A=1'] })).toBe("jobspec has an unknown field 'env'");
  });

  it('never puts an environment value in its message', () => {
    const message = problem({ image: 'x', environmentVars: ['bad value super-secret-value'] });
    expect(message).not.toContain('super-secret-value');
  });
});
