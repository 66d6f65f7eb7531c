import { describe, expect, it } from '@jest/globals';
import { ToolkitCiError } from '../src/errors.js';
import {
  DEFAULT_REGISTRY_HOST,
  DEFAULT_VOLATILE_REGISTRY_HOST,
  resolveRegistries,
  validateRegistryHost,
} from '../src/registry.js';

const R = DEFAULT_REGISTRY_HOST;
const V = DEFAULT_VOLATILE_REGISTRY_HOST;
const WHAT = 'input "registry"';

const SPEC_HELP =
  'Use regular, volatile, both, none, or registry hosts such as my-registry.example.com:5000, ' +
  'separated by commas or newlines';
const HOST_HELP =
  'Give a DNS name, an IPv4 address or an IPv6 address in brackets, optionally followed by :port ' +
  '(e.g. registry.example.com, 10.0.0.5:5000, [::1]:5000)';
const PORT_HELP = 'A port is a number from 1 to 65535';

function errorOf(run: () => unknown): ToolkitCiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ToolkitCiError) return error;
    throw error;
  }
  throw new Error('expected a ToolkitCiError');
}

describe('resolveRegistries', () => {
  it.each<[string, string[]]>([
    ['regular', [R]],
    ['volatile', [V]],
    ['both', [R, V]],
    ['none', []],
    ['  NONE \n', []],
    ['Regular', [R]],
    ['volatile, regular', [V, R]],
    ['regular\nvolatile\n', [R, V]],
    ['regular\r\nvolatile', [R, V]],
    ['both, regular, volatile', [R, V]],
    ['regular,,volatile,', [R, V]],
    [`regular, ${R.toUpperCase()}`, [R]],
    ['127.0.0.1:5000', ['127.0.0.1:5000']],
    ['Registry.Example.COM', ['registry.example.com']],
    ['[::1]:5000, [::1]', ['[::1]:5000', '[::1]']],
    ['[2001:DB8::1]:443', ['[2001:db8::1]:443']],
    ['localhost:65535', ['localhost:65535']],
    ['my-registry.internal:1, volatile', ['my-registry.internal:1', V]],
    ['registry', ['registry']],
  ])('resolves %j', (spec, hosts) => {
    expect(resolveRegistries(spec, {}, WHAT)).toEqual(hosts);
  });

  it('uses the overriding hosts for the words, validated and lowercased', () => {
    const hosts = { regular: ' Regular.Example:5000 ', volatile: '10.0.0.7:5001' };
    expect(resolveRegistries('both', hosts, WHAT)).toEqual(['regular.example:5000', '10.0.0.7:5001']);
    expect(resolveRegistries('volatile', { regular: '' }, WHAT)).toEqual([V]);
    expect(resolveRegistries('regular, regular.example:5000', hosts, WHAT)).toEqual(['regular.example:5000']);
  });

  it.each<[string, string]>([
    ['', `Input "registry" names no registry. ${SPEC_HELP}`],
    [' ,\n, ', `Input "registry" names no registry. ${SPEC_HELP}`],
    ['regualr', `Unknown registry "regualr" in input "registry". Did you mean "regular"? ${SPEC_HELP}`],
    ['REGULER', `Unknown registry "REGULER" in input "registry". Did you mean "regular"? ${SPEC_HELP}`],
    ['volatil', `Unknown registry "volatil" in input "registry". Did you mean "volatile"? ${SPEC_HELP}`],
    ['regular, bothh', `Unknown registry "bothh" in input "registry". Did you mean "both"? ${SPEC_HELP}`],
    ['non', `Unknown registry "non" in input "registry". Did you mean "none"? ${SPEC_HELP}`],
    [
      'none, regular',
      'Input "registry" combines "none" with other registries. Use "none" alone to log in to no registry, or remove it',
    ],
    [
      'https://registry.example.com',
      'Registry host "https://registry.example.com" (input "registry") has a scheme. ' +
        'Give the host without https://, e.g. "registry.example.com"',
    ],
    [
      'http://127.0.0.1:5000/v2/',
      'Registry host "http://127.0.0.1:5000/v2/" (input "registry") has a scheme. ' +
        'Give the host without http://, e.g. "127.0.0.1:5000"',
    ],
    [
      'registry.example.com/acme.ml/trainer',
      'Registry host "registry.example.com/acme.ml/trainer" (input "registry") has a path. Give only ' +
        'host[:port], e.g. "registry.example.com"; an image path such as host/org.account/image belongs in ' +
        'the image name',
    ],
    [
      'console@registry.example.com',
      'Registry host "console@registry.example.com" (input "registry") has a user name. Give only ' +
        'host[:port]; the token is passed separately',
    ],
    [
      'registry.example.com:0',
      `Registry host "registry.example.com:0" (input "registry") has an invalid port "0". ${PORT_HELP}`,
    ],
    [
      'registry.example.com:65536',
      `Registry host "registry.example.com:65536" (input "registry") has an invalid port "65536". ${PORT_HELP}`,
    ],
    [
      'registry.example.com:http',
      `Registry host "registry.example.com:http" (input "registry") has an invalid port "http". ${PORT_HELP}`,
    ],
    [
      'registry.example.com:',
      `Registry host "registry.example.com:" (input "registry") has an invalid port "". ${PORT_HELP}`,
    ],
    [
      'registry.example.com:05000',
      `Registry host "registry.example.com:05000" (input "registry") has an invalid port "05000". ${PORT_HELP}`,
    ],
    [
      '[::1]:99999',
      `Registry host "[::1]:99999" (input "registry") has an invalid port "99999". ${PORT_HELP}`,
    ],
    [
      '::1',
      'Registry host "::1" (input "registry") has more than one colon. Put an IPv6 address in brackets, ' +
        'e.g. "[::1]:5000"',
    ],
    ['[::g]', `Registry host "[::g]" (input "registry") is not a valid IPv6 address. ${HOST_HELP}`],
    [
      'reg_istry.example.com',
      `Registry host "reg_istry.example.com" (input "registry") is not a valid host name or IPv4 address. ${HOST_HELP}`,
    ],
    [
      '-registry.example.com',
      `Registry host "-registry.example.com" (input "registry") is not a valid host name or IPv4 address. ${HOST_HELP}`,
    ],
    [
      'registry..example.com',
      `Registry host "registry..example.com" (input "registry") is not a valid host name or IPv4 address. ${HOST_HELP}`,
    ],
    [
      '10.0.0.256',
      `Registry host "10.0.0.256" (input "registry") is not a valid host name or IPv4 address. ${HOST_HELP}`,
    ],
    [
      'registry example.com',
      `Registry host "registry example.com" (input "registry") contains whitespace. ${HOST_HELP}`,
    ],
  ])('refuses %j', (spec, message) => {
    const error = errorOf(() => resolveRegistries(spec, {}, WHAT));
    expect(error.kind).toBe('usage');
    expect(error.message).toBe(message);
  });

  it('validates the overriding hosts even when the spec does not use them', () => {
    const error = errorOf(() => resolveRegistries('regular', { volatile: 'https://volatile.example' }, WHAT));
    expect(error.kind).toBe('usage');
    expect(error.message).toBe(
      'Registry host "https://volatile.example" (the volatile registry host) has a scheme. ' +
        'Give the host without https://, e.g. "volatile.example"',
    );
    expect(errorOf(() => resolveRegistries('both', { regular: 'registry.example:0' })).message).toBe(
      `Registry host "registry.example:0" (the regular registry host) has an invalid port "0". ${PORT_HELP}`,
    );
  });

  it('names the list generically when no input name is given', () => {
    expect(errorOf(() => resolveRegistries('')).message).toBe(
      `The registry list names no registry. ${SPEC_HELP}`,
    );
    expect(resolveRegistries('both')).toEqual([R, V]);
  });
});

describe('validateRegistryHost', () => {
  it('returns the lowercase host[:port]', () => {
    expect(validateRegistryHost(' Registry.Example.com:5000 ')).toBe('registry.example.com:5000');
    expect(validateRegistryHost('192.168.1.20')).toBe('192.168.1.20');
    expect(validateRegistryHost('[FE80::1]')).toBe('[fe80::1]');
  });

  it('refuses what could be taken for a command-line option', () => {
    expect(errorOf(() => validateRegistryHost('--password=x')).message).toBe(
      `Registry host "--password=x" is not a valid host name or IPv4 address. ${HOST_HELP}`,
    );
  });

  it('refuses an empty host and cuts a very long one in its message', () => {
    expect(errorOf(() => validateRegistryHost('  ', 'input "registry-host"')).message).toBe(
      `Registry host "" (input "registry-host") is empty. ${HOST_HELP}`,
    );
    const long = `${'a'.repeat(100)}.example.com/x`;
    expect(errorOf(() => validateRegistryHost(long)).message).toContain(`"${'a'.repeat(80)}…"`);
  });
});
