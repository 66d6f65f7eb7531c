/** The CLI's version; test/cli.e2e.test.ts (--version) keeps it equal to packages/cli/package.json's. */
export const VERSION = '0.1.0';
