// Organizations, accounts and roles the emulator knows. They come into being from the tokens' identities
// (a role `acme.ml.ci` brings organization `acme` and account `acme.ml`), with stable ids from their names.
import { nameUuid } from './ids.js';
import type { Policy } from './policy.js';

export interface Account {
  id: string;
  name: string;
  /** `org.account` */
  fullName: string;
  organizationId: string;
  organizationName: string;
  urn: string;
}

export interface Role {
  id: string;
  name: string;
  /** `org.account.role` */
  fullName: string;
  account: Account;
  urn: string;
  /** The policies every key of this role carries (those of the first token that named the role). */
  policies: Policy[];
}

/** The account a dotted identity name lives in: `org.acct.role` -> `org.acct`; a user `org.user` owns `org.user`. */
export function homeAccountName(fullName: string): string {
  const parts = fullName.split('.');
  if (parts.length >= 3) return parts.slice(0, 2).join('.');
  if (parts.length === 2) return fullName;
  return `demo.${fullName}`;
}

export class Directory {
  private readonly accounts = new Map<string, Account>();
  private readonly roles = new Map<string, Role>();

  /** The account named `org.account`, created on first use. */
  ensureAccount(fullName: string): Account {
    const existing = this.accounts.get(fullName);
    if (existing) return existing;
    const [organizationName = 'demo', name = 'default'] = fullName.split('.');
    const organizationId = nameUuid('organization', organizationName);
    const id = nameUuid('account', fullName);
    const account: Account = {
      id,
      name,
      fullName,
      organizationId,
      organizationName,
      urn: `${organizationId}:account:${id}`,
    };
    this.accounts.set(fullName, account);
    return account;
  }

  /** An account by id or by full name. */
  findAccount(idOrName: string): Account | undefined {
    return this.accounts.get(idOrName) ?? [...this.accounts.values()].find((a) => a.id === idOrName);
  }

  /** The role named `org.account.role`, created on first use with these policies. */
  ensureRole(fullName: string, id: string, policies: Policy[]): Role {
    const existing = this.roles.get(fullName);
    if (existing) return existing;
    const account = this.ensureAccount(homeAccountName(fullName));
    const role: Role = {
      id,
      name: fullName.split('.').at(-1)!,
      fullName,
      account,
      urn: `${account.organizationId}:role:${id}`,
      policies,
    };
    this.roles.set(fullName, role);
    return role;
  }

  /** A role by id or by full name. */
  findRole(idOrName: string): Role | undefined {
    return this.roles.get(idOrName) ?? [...this.roles.values()].find((r) => r.id === idOrName);
  }

  /** The first role defined (job tokens act as it). */
  firstRole(): Role | undefined {
    return this.roles.values().next().value;
  }
}
