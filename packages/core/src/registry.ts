import { isIPv4, isIPv6 } from 'node:net';
import { ToolkitCiError } from './errors.js';

export const DEFAULT_REGISTRY_HOST = 'registry.console.elementai.com';
export const DEFAULT_VOLATILE_REGISTRY_HOST = 'volatile-registry.console.elementai.com';

/** The hosts behind the words `regular` and `volatile`; both can be overridden for other consoles. */
export interface RegistryHosts {
  regular: string;
  volatile: string;
}

const WORDS = ['regular', 'volatile', 'both', 'none'] as const;
const SPEC_HELP =
  'Use regular, volatile, both, none, or registry hosts such as my-registry.example.com:5000, ' +
  'separated by commas or newlines';
const HOST_HELP =
  'Give a DNS name, an IPv4 address or an IPv6 address in brackets, optionally followed by :port ' +
  '(e.g. registry.example.com, 10.0.0.5:5000, [::1]:5000)';

/** Quotes user input for a message: escapes control characters and cuts very long items. */
function quote(item: string): string {
  return JSON.stringify(item.length > 80 ? `${item.slice(0, 80)}…` : item);
}

function hostError(host: string, what: string | undefined, problem: string, hint: string): ToolkitCiError {
  const where = what ? ` (${what})` : '';
  return new ToolkitCiError('usage', `Registry host ${quote(host)}${where} ${problem}`, { hint });
}

// One DNS label: letters, digits and inner hyphens, at most 63 characters.
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function isDnsName(name: string): boolean {
  if (name.length > 253) return false;
  const labels = name.split('.');
  // An all-numeric dotted name is a mistyped IPv4 address, not a DNS name.
  if (labels.every((label) => /^[0-9]+$/.test(label))) return false;
  return labels.every((label) => DNS_LABEL.test(label));
}

/** Validates a registry host `host[:port]` (DNS name, IPv4 or [IPv6]) and returns it lowercased. */
export function validateRegistryHost(host: string, what?: string): string {
  const item = host.trim();
  if (item === '') throw hostError(item, what, 'is empty', HOST_HELP);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(item);
  if (scheme) {
    const bare = item.slice(scheme[0].length).split('/')[0];
    throw hostError(item, what, `has a scheme`, `Give the host without ${scheme[1]}://, e.g. ${quote(bare)}`);
  }
  if (item.includes('/')) {
    throw hostError(
      item,
      what,
      'has a path',
      `Give only host[:port], e.g. ${quote(item.split('/')[0])}; ` +
        'an image path such as host/org.account/image belongs in the image name',
    );
  }
  if (item.includes('@')) {
    throw hostError(item, what, 'has a user name', 'Give only host[:port]; the token is passed separately');
  }
  if (/\s/.test(item)) throw hostError(item, what, 'contains whitespace', HOST_HELP);

  const lower = item.toLowerCase();
  let name: string;
  let port: string | undefined;
  if (lower.startsWith('[')) {
    const match = /^\[([^\]]*)\](?::(.*))?$/.exec(lower);
    if (!match || !isIPv6(match[1])) throw hostError(item, what, 'is not a valid IPv6 address', HOST_HELP);
    name = `[${match[1]}]`;
    port = match[2];
  } else {
    const colons = lower.split(':').length - 1;
    if (colons > 1) {
      const ipv6Hint = isIPv6(lower) ? `Put an IPv6 address in brackets, e.g. "[${lower}]:5000"` : HOST_HELP;
      throw hostError(item, what, 'has more than one colon', ipv6Hint);
    }
    [name, port] = lower.split(':') as [string, string | undefined];
    if (!isIPv4(name) && !isDnsName(name)) {
      throw hostError(item, what, 'is not a valid host name or IPv4 address', HOST_HELP);
    }
  }
  if (port !== undefined) {
    const number = Number(port);
    if (!/^[1-9][0-9]{0,4}$/.test(port) || number > 65535) {
      throw hostError(item, what, `has an invalid port ${quote(port)}`, 'A port is a number from 1 to 65535');
    }
  }
  return port === undefined ? name : `${name}:${port}`;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("regualr" -> 1). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** The registry word `item` is probably a typo of, if it is a bare label close to one. */
function likelyWord(item: string): string | undefined {
  if (!/^[a-z0-9-]+$/i.test(item)) return undefined;
  const lower = item.toLowerCase();
  return WORDS.find((word) => editDistance(lower, word) <= (word.length <= 4 ? 1 : 2));
}

/** Validates the optional host overrides and fills in the defaults. */
function registryHosts(hosts: Partial<RegistryHosts> | undefined): RegistryHosts {
  const regular = hosts?.regular?.trim();
  const volatile = hosts?.volatile?.trim();
  return {
    regular: regular ? validateRegistryHost(regular, 'the regular registry host') : DEFAULT_REGISTRY_HOST,
    volatile: volatile
      ? validateRegistryHost(volatile, 'the volatile registry host')
      : DEFAULT_VOLATILE_REGISTRY_HOST,
  };
}

/**
 * Turns a registry spec (`regular`, `volatile`, `both`, `none` or hosts, comma or newline separated)
 * into the deduplicated list of hosts to log in to, in the order given.
 */
export function resolveRegistries(spec: string, hosts?: Partial<RegistryHosts>, what?: string): string[] {
  const subject = what ?? 'the registry list';
  const { regular, volatile } = registryHosts(hosts);
  const items = spec
    .split(/[,\r\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) {
    throw new ToolkitCiError('usage', `${capitalize(subject)} names no registry`, { hint: SPEC_HELP });
  }
  const resolved: string[] = [];
  for (const item of items) {
    const word = item.toLowerCase();
    if (word === 'none') {
      if (items.length > 1) {
        throw new ToolkitCiError('usage', `${capitalize(subject)} combines "none" with other registries`, {
          hint: 'Use "none" alone to log in to no registry, or remove it',
        });
      }
      return [];
    }
    if (word === 'regular' || word === 'both') resolved.push(regular);
    if (word === 'volatile' || word === 'both') resolved.push(volatile);
    if (word === 'regular' || word === 'volatile' || word === 'both') continue;
    const typoOf = likelyWord(item);
    if (typoOf) {
      throw new ToolkitCiError('usage', `Unknown registry ${quote(item)} in ${subject}`, {
        hint: `Did you mean "${typoOf}"? ${SPEC_HELP}`,
      });
    }
    resolved.push(validateRegistryHost(item, subject));
  }
  return [...new Set(resolved)];
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
