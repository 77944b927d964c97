#!/usr/bin/env node
// Stops with a clear message when this checkout is run by a Node other than the LTS it is built
// for (.node-version). The native modules (better-sqlite3, ssh2's crypto, node-pty, the TPM addon)
// are compiled for the Node that ran `npm install`; another Node fails later with an opaque
// NODE_MODULE_VERSION error. `npm test`, `npm start` and the postinstall step run this first.
import { readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);

/** The major version this project runs on, from .node-version (e.g. "24.22.3" → 24). */
export function wantedNodeMajor() {
  const pinned = readFileSync(new URL('.node-version', root), 'utf8').trim();
  const major = Number(pinned.split('.')[0]);
  if (!Number.isInteger(major) || major <= 0) throw new Error(`.node-version has no version: "${pinned}"`);
  return { pinned, major };
}

/** undefined when `version` (process.versions.node) is on the wanted major, else the message. */
export function nodeMismatch(version, wanted) {
  if (Number(version.split('.')[0]) === wanted.major) return undefined;
  return (
    `Gatehouse runs on Node ${wanted.major} LTS (.node-version: ${wanted.pinned}); this is Node ${version}.\n` +
    `Run \`. scripts/node-lts.sh\` in this shell (it brings Node ${wanted.pinned} from the npm registry); ` +
    `if \`npm install\` ran with another Node, run it again so the native modules are built for this one.`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const problem = nodeMismatch(process.versions.node, wantedNodeMajor());
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
