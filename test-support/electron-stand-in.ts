// A stand-in for the Electron distribution electron-builder unpacks (electronDist), for machines
// that cannot download Electron's binary: what node_modules/electron has (LICENSE, version), plus
// an `electron` executable that is a shell script carrying Electron's fuse wire, so
// electron-builder's electronFuses step (@electron/fuses) can flip the fuses and a test can read
// them back. The script refuses to run: it only proves the package's layout.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** @electron/fuses' marker: the fuse wire follows it (version byte, length byte, one byte per fuse). */
export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Fuse wire version 1 with its eight fuses in Electron's shipped states (FuseV1Options order). */
const WIRE_VERSION = 1;
const SHIPPED_FUSES = '10110001'; // RunAsNode on, cookies unencrypted, NODE_OPTIONS on, --inspect on, ...

export interface StandIn {
  dir: string;
  version: string;
  executable: string;
}

/** Writes the stand-in distribution into `dir` for the Electron installed under `root`. */
export function makeElectronStandIn(root: string, dir: string): StandIn {
  const electronDir = join(root, 'node_modules', 'electron');
  if (!existsSync(join(electronDir, 'package.json'))) {
    throw new Error(`no node_modules/electron under ${root}: run npm install first`);
  }
  const version = (JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')) as { version: string }).version;
  mkdirSync(join(dir, 'resources'), { recursive: true });
  copyFileSync(join(electronDir, 'LICENSE'), join(dir, 'LICENSE'));
  writeFileSync(join(dir, 'version'), version);
  const wire = Buffer.concat([
    Buffer.from(FUSE_SENTINEL, 'latin1'),
    Buffer.from([WIRE_VERSION, SHIPPED_FUSES.length]),
    Buffer.from(SHIPPED_FUSES, 'latin1'),
  ]);
  const script = Buffer.concat([
    Buffer.from(
      '#!/bin/sh\n' +
        `echo "stand-in for Electron ${version}: this package was built without Electron's binary" >&2\n` +
        'exit 1\n# ',
      'latin1',
    ),
    wire,
    Buffer.from('\n', 'latin1'),
  ]);
  const executable = join(dir, 'electron');
  writeFileSync(executable, script);
  chmodSync(executable, 0o755);
  return { dir, version, executable };
}
