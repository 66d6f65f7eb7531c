import type { TokenConfig } from './types.js';

/**
 * The tokens an emulator accepts unless told otherwise. Obvious demo values, never real ones: they are
 * printed by the CLI and written in docs on purpose.
 */
export const DEMO_TOKENS: TokenConfig[] = [
  {
    token: 'demo-access:demo-secret',
    kind: 'role',
    identity: { fullName: 'demo.ci.pusher' },
    permissions: ['*:*@*'],
  },
  {
    token: 'demo-personal-token',
    kind: 'personal',
    identity: { fullName: 'demo.demo_user', mail: 'demo_user@example.com' },
    permissions: ['*:*@*'],
  },
  {
    token: 'demo-readonly:demo-secret',
    kind: 'role',
    identity: { fullName: 'demo.ci.reader' },
    permissions: ['*:get@*'],
  },
];
