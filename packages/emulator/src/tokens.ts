// Every token the emulator accepts, with who it is, what it may do, and whether it is still good.
import { type Account, type Directory, homeAccountName, type Role } from './directory.js';
import { nameUuid, randomHex } from './ids.js';
import { type Policy, parsePolicy } from './policy.js';
import type { AuthOutcome, Identity, TokenConfig, TokenKind } from './types.js';

/** Who is calling: what /v1/me answers plus what the emulator needs to decide. */
export interface Principal {
  kind: TokenKind;
  identity: Identity;
  /** The account jobs are submitted to by POST /v1/job. */
  account: Account;
  policies: Policy[];
}

export interface RoleKeyInfo {
  role: Role;
  access: string;
  client: string;
  details: string;
  created: string;
}

interface TokenRecord {
  principal: Principal;
  expiresAt?: number;
  revoked: boolean;
  /** config: from options/addToken (kept by reset); api: made by POST role key; job: from GET /v1/token. */
  origin: 'config' | 'api' | 'job';
  roleKey?: RoleKeyInfo;
}

export type AuthResult =
  | { outcome: 'valid'; principal: Principal }
  | { outcome: Exclude<AuthOutcome, 'valid' | 'forbidden'>; principal?: undefined };

const DEFAULT_TTL_SECONDS = 3600;
const ALL_POWERFUL = ['*:*@*'];

function parsePolicies(texts: readonly string[]): Policy[] {
  return texts.map((text) => {
    const policy = parsePolicy(text);
    // The text is a policy, never a token, so it may appear in an error.
    if (!policy) throw new Error(`invalid policy '${text}': expected <type>:<verb>@<urn>`);
    return policy;
  });
}

function defaultFullName(kind: TokenKind, name: string | undefined): string {
  if (kind === 'personal') return `demo.${name ?? 'demo_user'}`;
  return `demo.ci.${name ?? 'pusher'}`;
}

export class TokenStore {
  private readonly records = new Map<string, TokenRecord>();

  constructor(
    private readonly directory: Directory,
    private readonly now: () => number,
    private readonly jobTokenTtl: number,
  ) {}

  /** Registers a configured token (options.tokens, addToken). A later registration of the same token wins. */
  add(config: TokenConfig): void {
    if (typeof config.token !== 'string' || config.token.length === 0 || /\s/.test(config.token)) {
      throw new Error('a TokenConfig needs a non-empty token without whitespace');
    }
    const policies = parsePolicies(config.permissions ?? ALL_POWERFUL);
    const principal = this.principalFor(config.kind, config.identity ?? {}, policies);
    const ttl = config.expiresInSeconds ?? (config.kind === 'role' ? undefined : DEFAULT_TTL_SECONDS);
    const record: TokenRecord = {
      principal,
      revoked: false,
      origin: 'config',
      expiresAt: ttl === undefined ? undefined : this.now() + ttl * 1000,
    };
    const role = config.kind === 'role' ? this.directory.findRole(principal.identity.fullName) : undefined;
    const colon = config.token.indexOf(':');
    if (role && colon > 0) {
      record.roleKey = {
        role,
        access: config.token.slice(0, colon),
        client: 'configured',
        details: 'configured in the emulator options',
        created: principal.identity.created,
      };
    }
    this.records.set(config.token, record);
  }

  private principalFor(kind: TokenKind, partial: Partial<Identity>, policies: Policy[]): Principal {
    const fullName = partial.fullName ?? defaultFullName(kind, partial.name);
    const account = this.directory.ensureAccount(homeAccountName(fullName));
    const isUser = kind === 'personal';
    const id = partial.id ?? nameUuid(isUser ? 'user' : 'role', fullName);
    if (!isUser) this.directory.ensureRole(fullName, id, policies);
    const name = partial.name ?? fullName.split('.').at(-1)!;
    const identity: Identity = {
      id,
      name,
      fullName,
      mail: partial.mail ?? (isUser ? `${name}@example.com` : ''),
      account: partial.account ?? account.id,
      organization: partial.organization ?? account.organizationId,
      urn: partial.urn ?? `${account.organizationId}:${isUser ? 'user' : 'role'}:${id}`,
      created: partial.created ?? new Date(this.now()).toISOString(),
      creator: partial.creator ?? nameUuid('user', `${account.organizationName}.admin`),
      tags: partial.tags ?? [],
    };
    return { kind, identity, account, policies };
  }

  /** Classifies an `Authorization: Bearer …` header value (the API's scheme). */
  authenticateBearer(header: string | undefined): AuthResult {
    if (header === undefined || header === '') return { outcome: 'none' };
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) return { outcome: 'invalid' };
    return this.check(match[1]!);
  }

  /** Classifies an `Authorization: Basic …` header value (the registry's scheme, user `console`). */
  authenticateBasic(header: string | undefined): AuthResult {
    if (header === undefined || header === '') return { outcome: 'none' };
    const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
    if (!match) return { outcome: 'invalid' };
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0 || decoded.slice(0, colon) !== 'console') return { outcome: 'invalid' };
    return this.check(decoded.slice(colon + 1));
  }

  private check(token: string): AuthResult {
    const record = this.records.get(token);
    if (!record) return { outcome: 'invalid' };
    if (record.revoked) return { outcome: 'revoked' };
    if (record.expiresAt !== undefined && record.expiresAt <= this.now()) return { outcome: 'expired' };
    return { outcome: 'valid', principal: record.principal };
  }

  /** A fresh in-job token acting as the first configured role (the demo pusher when none is). */
  issueJobToken(): string {
    const role = this.directory.firstRole();
    const principal = this.principalFor(
      'job',
      { fullName: role?.fullName ?? 'demo.ci.pusher', id: role?.id },
      role?.policies ?? parsePolicies(ALL_POWERFUL),
    );
    const token = `job-${randomHex(24)}`;
    this.records.set(token, {
      principal,
      revoked: false,
      origin: 'job',
      expiresAt: this.now() + this.jobTokenTtl * 1000,
    });
    return token;
  }

  /** Makes a new key of a role; the returned secret is shown once, as the real API does. */
  createRoleKey(role: Role, details: string): RoleKeyInfo & { secret: string } {
    const access = randomHex(10);
    const secret = randomHex(20);
    const principal = this.principalFor('role', { fullName: role.fullName, id: role.id }, role.policies);
    const info: RoleKeyInfo = {
      role,
      access,
      client: 'toolkit-emulator',
      details,
      created: new Date(this.now()).toISOString(),
    };
    this.records.set(`${access}:${secret}`, { principal, revoked: false, origin: 'api', roleKey: info });
    return { ...info, secret };
  }

  /** The keys of a role that are not revoked. */
  roleKeys(role: Role): RoleKeyInfo[] {
    return [...this.records.values()]
      .filter((r) => r.roleKey?.role.id === role.id && !r.revoked)
      .map((r) => r.roleKey!);
  }

  /** Revokes a role key by its access part; false when the role has no such live key. */
  revokeRoleKey(role: Role, access: string): boolean {
    for (const record of this.records.values()) {
      if (record.roleKey?.role.id === role.id && record.roleKey.access === access && !record.revoked) {
        record.revoked = true;
        return true;
      }
    }
    return false;
  }

  /** True when the text is a token or a part of a role key the emulator knows (for journal redaction). */
  isSecretFragment(text: string): boolean {
    if (text === '') return false;
    for (const token of this.records.keys()) {
      if (token === text || token.split(':').includes(text)) return true;
    }
    return false;
  }

  /** Drops API-made keys and job tokens and undoes revocations of configured tokens. */
  reset(): void {
    for (const [token, record] of this.records) {
      if (record.origin === 'config') record.revoked = false;
      else this.records.delete(token);
    }
  }
}
