// The public surface of packages/core. Adapters (actions/*, packages/cli) import from here only.
export * from './client.js';
export * from './docker.js';
export * from './errors.js';
export * from './job-spec.js';
export * from './job-token.js';
export * from './jobs.js';
export * from './registry.js';
export * from './retry.js';
export * from './secrets.js';
export * from './token.js';
