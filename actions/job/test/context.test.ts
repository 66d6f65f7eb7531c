import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_API_URL, JOB_SPEC_FIELD_KEBAB, ToolkitCiError } from '../../../packages/core/src/index.js';
import { parseJobInputs } from '../src/context.js';

const ACTION_YML = new URL('../action.yml', import.meta.url);

async function actionInputs(): Promise<Record<string, { default?: string; description?: string }>> {
  return (parseYaml(await readFile(ACTION_YML, 'utf8')) as { inputs: Record<string, { default?: string }> })
    .inputs;
}

/** The inputs as the runner hands them over: action.yml's defaults, some overridden. */
async function reader(overrides: Record<string, string>): Promise<(name: string) => string> {
  const inputs = await actionInputs();
  const values: Record<string, string> = Object.fromEntries(
    Object.entries(inputs).map(([name, spec]) => [name, String(spec.default ?? '')]),
  );
  Object.assign(values, overrides);
  return (name: string) => {
    if (!(name in inputs))
      throw new Error(`the action read input "${name}", which action.yml does not declare`);
    return values[name] ?? '';
  };
}

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

describe('action.yml', () => {
  it('declares every JobSpec field as an input, each with a description and a default', async () => {
    const inputs = await actionInputs();
    for (const input of Object.values(JOB_SPEC_FIELD_KEBAB)) expect(Object.keys(inputs)).toContain(input);
    for (const [name, spec] of Object.entries(inputs)) {
      expect([name, typeof spec.description]).toEqual([name, 'string']);
      expect([name, typeof spec.default]).toEqual([name, 'string']);
    }
  });
});

describe('parseJobInputs', () => {
  it('parses the defaults with a token input', async () => {
    const inputs = parseJobInputs(await reader({ token: 'access:secret', image: 'alpine' }));
    expect(inputs).toMatchObject({
      tokenSource: 'input',
      tokenOrigin: 'input "token"',
      apiUrl: DEFAULT_API_URL,
      wait: true,
      followLogs: true,
      cancelOnAbort: true,
      timeoutMs: undefined,
      specFile: '',
      account: '',
      poll: {},
    });
    expect(inputs.token?.kind).toBe('role-key');
    expect(inputs.fields.image).toBe('alpine');
  });

  it('falls back to EAI_TOKEN and EAI_CONSOLE_URL (what actions/login exports)', async () => {
    const inputs = parseJobInputs(await reader({}), {
      EAI_TOKEN: 'exported-token',
      EAI_CONSOLE_URL: 'https://console.example.com/',
    });
    expect(inputs.tokenOrigin).toBe('EAI_TOKEN');
    expect(inputs.token?.value).toBe('exported-token');
    expect(inputs.apiUrl).toBe('https://console.example.com');
  });

  it('prefers the inputs over the environment', async () => {
    const inputs = parseJobInputs(
      await reader({ token: 'from-input', 'api-url': 'https://other.example.com' }),
      {
        EAI_TOKEN: 'exported-token',
        EAI_CONSOLE_URL: 'https://console.example.com',
      },
    );
    expect(inputs.token?.value).toBe('from-input');
    expect(inputs.apiUrl).toBe('https://other.example.com');
  });

  it('refuses a missing token, saying where one comes from', async () => {
    const read = await reader({});
    const error = usageError(() => parseJobInputs(read, {}));
    expect(error.message).toContain('input "token" is empty and EAI_TOKEN is not set');
    expect(error.message).toContain('actions/login');
  });

  it('needs no token with token-source: job, and refuses both', async () => {
    const read = await reader({ 'token-source': 'job', 'job-token-url': 'http://127.0.0.1:9/v1/token' });
    expect(parseJobInputs(read, { EAI_TOKEN: 'ignored-here' }).token).toBeUndefined();
    const both = usageError(() =>
      parseJobInputs((n) => (n === 'token' ? 'x' : n === 'token-source' ? 'job' : ''), {}),
    );
    expect(both.message).toContain('both given');
  });

  it.each([
    ['30', 1_800_000],
    ['0.5', 30_000],
  ])('reads timeout-minutes %s', async (minutes, ms) => {
    expect(parseJobInputs(await reader({ token: 't', 'timeout-minutes': minutes })).timeoutMs).toBe(ms);
  });

  it.each(['0', '-1', 'soon'])('refuses timeout-minutes %j', async (minutes) => {
    const read = await reader({ token: 't', 'timeout-minutes': minutes });
    expect(usageError(() => parseJobInputs(read)).message).toContain('Input "timeout-minutes"');
  });

  it('refuses a plain-http api-url that is not loopback, naming where it came from', async () => {
    const read = await reader({ token: 't' });
    expect(
      usageError(() => parseJobInputs(read, { EAI_CONSOLE_URL: 'http://console.example.com' })).message,
    ).toContain('EAI_CONSOLE_URL');
  });

  it('reads the poll pace knobs', async () => {
    const read = await reader({ token: 't' });
    expect(
      parseJobInputs(read, { TOOLKIT_CI_POLL_INITIAL_MS: '20', TOOLKIT_CI_POLL_MAX_MS: '100' }).poll,
    ).toEqual({
      initialDelayMs: 20,
      maxDelayMs: 100,
    });
    expect(usageError(() => parseJobInputs(read, { TOOLKIT_CI_POLL_INITIAL_MS: '1' })).message).toContain(
      'TOOLKIT_CI_POLL_INITIAL_MS',
    );
  });
});
