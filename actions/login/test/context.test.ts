import { describe, expect, it } from '@jest/globals';
import { ToolkitCiError } from '../../../packages/core/src/index.js';
import { parseLoginInputs } from '../src/context.js';

// The defaults action.yml gives every input; a test overrides some.
const DEFAULTS: Record<string, string> = {
  token: 'access:secret',
  'token-source': 'input',
  'job-token-url': '',
  registry: 'regular',
  'api-url': 'https://console.elementai.com',
  'registry-host': '',
  'volatile-registry-host': '',
  verify: 'true',
  'export-env': 'true',
  logout: 'true',
};
const parse = (inputs: Record<string, string>) =>
  parseLoginInputs((name) => ({ ...DEFAULTS, ...inputs })[name] ?? '');

describe('parseLoginInputs', () => {
  it('parses the defaults', () => {
    const inputs = parse({});
    expect(inputs).toMatchObject({
      tokenSource: 'input',
      apiUrl: 'https://console.elementai.com',
      registries: ['registry.console.elementai.com'],
      verify: true,
      exportEnv: true,
      logout: true,
      warnings: [],
    });
    expect(inputs.token?.kind).toBe('role-key');
  });

  it('resolves both with overridden hosts, and trims a trailing slash of api-url', () => {
    const inputs = parse({
      registry: 'both',
      'registry-host': 'Reg.Example.com:5000',
      'volatile-registry-host': '127.0.0.1:5001',
      'api-url': 'http://127.0.0.1:8080/',
    });
    expect(inputs.registries).toEqual(['reg.example.com:5000', '127.0.0.1:5001']);
    expect(inputs.apiUrl).toBe('http://127.0.0.1:8080');
  });

  it('warns about a trimmed token', () => {
    expect(parse({ token: 'access:secret\n' }).warnings).toHaveLength(1);
  });

  it('accepts token-source: job without a token', () => {
    const inputs = parse({
      token: '',
      'token-source': 'job',
      'job-token-url': 'https://internal.example.com/v1/token',
    });
    expect(inputs.token).toBeUndefined();
    expect(inputs.jobTokenUrl).toBe('https://internal.example.com/v1/token');
  });

  it.each([
    [{ token: '' }, /input "token"/i],
    [{ token: 'a b' }, /input "token"/i],
    [{ 'token-source': 'file' }, /Input "token-source" must be one of input, job, got "file"/],
    [{ 'token-source': 'job' }, /"token" and "token-source: job" were both given/],
    [
      { 'job-token-url': 'https://x.example.com/v1/token' },
      /"job-token-url" is only used with "token-source: job"/,
    ],
    [{ verify: 'yes' }, /Input "verify" must be true or false, got "yes"/],
    [{ 'export-env': '' }, /Input "export-env" must be true or false, got an empty value/],
    [{ logout: '1' }, /Input "logout" must be true or false/],
    [{ 'api-url': 'http://console.example.com' }, /input "api-url"/i],
    [{ 'api-url': 'ftp://console.example.com' }, /input "api-url"/i],
    [{ 'api-url': 'https://a\nhttps://b' }, /Input "api-url" must be a single line/],
    [{ registry: 'regualr' }, /input "registry"/i],
    [{ registry: 'none,regular' }, /input "registry"/i],
    [{ registry: 'https://reg.example.com' }, /input "registry"/i],
    [{ 'registry-host': 'reg.example.com/path' }, /input "registry-host"/i],
    [{ 'volatile-registry-host': 'bad host' }, /input "volatile-registry-host"/i],
  ])('refuses %j', (inputs, message) => {
    let caught: unknown;
    try {
      parse(inputs);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ToolkitCiError);
    expect((caught as ToolkitCiError).kind).toBe('usage');
    expect((caught as Error).message).toMatch(message);
  });
});
