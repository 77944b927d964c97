// The bundled executables (scripts/build-cli.mjs → dist/cli) and their launchers (bin/*.mjs):
// each runs from its bundle with no tsx anywhere in its import graph, prints the same help as
// the sources, starts by loading no npm package, and still finds the files its sources find
// relative to themselves. The bundles are built into a scratch dir inside the repository (the
// bundles resolve npm packages from node_modules at run time, like dist/cli does).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ErrorCode, exitCodeFor } from '../../src-shared/errors.ts';
import { runProgram, type CliOutput } from '../../src-shared/cli/program.ts';
import { gateProgram } from '../../src-main/cli/main.ts';
import { gatectlProgram } from '../../src-cluster/cli/gatectl-program.ts';
import { VERSION } from '../../src-cluster/daemon/version.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD_SCRIPT = join(ROOT, 'scripts', 'build-cli.mjs');
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Metafile {
  outputs: Record<
    string,
    { imports: { path: string; kind: string; external?: boolean }[]; inputs: Record<string, unknown> }
  >;
}

/** Runs a bundle with a clean NODE_OPTIONS, so nothing can preload tsx into it. */
function runBundle(file: string, args: string[]) {
  const r = spawnSync(process.execPath, [file, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NODE_OPTIONS: '', GATEHOUSE_FROM_SOURCE: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What a program writes for `argv` (help and usage go through CliOutput), in this process. */
async function sourceOutput(program: Parameters<typeof runProgram>[0], argv: string[]): Promise<string> {
  let text = '';
  const out: CliOutput = { writeOut: (t) => (text += t), writeErr: (t) => (text += t) };
  assert.equal(await runProgram(program, argv, out), 0);
  return text;
}

/** The npm packages an entry's static import graph loads: what `--version` and `--help` pay for. */
function staticPackages(meta: Metafile, entry: string): string[] {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const walk = (output: string) => {
    if (seen.has(output)) return;
    seen.add(output);
    for (const imp of meta.outputs[output]!.imports) {
      if (imp.kind !== 'import-statement') continue;
      if (imp.external) {
        if (!imp.path.startsWith('node:')) packages.add(imp.path);
      } else walk(imp.path);
    }
  };
  walk(entry);
  return [...packages].sort();
}

describe('bundled executables (dist/cli)', () => {
  let outdir: string;
  let meta: Metafile;
  const outputOf = (name: string) => join(outdir, `${name}.mjs`);
  const metaKey = (name: string) => `${outdir.slice(ROOT.length).split(sep).join('/')}/${name}.mjs`;

  before(() => {
    mkdirSync(join(ROOT, 'dist'), { recursive: true });
    outdir = mkdtempSync(join(ROOT, 'dist', 'cli-test-'));
    const metafile = join(outdir, '..', `${outdir.split(sep).pop()}.meta.json`);
    const r = spawnSync(process.execPath, [BUILD_SCRIPT, '--outdir', outdir, '--metafile', metafile], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    meta = JSON.parse(readFileSync(metafile, 'utf8')) as Metafile;
    rmSync(metafile);
  });
  after(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  test('nothing in the bundles imports tsx, statically or dynamically', () => {
    const tsxImports = Object.entries(meta.outputs).flatMap(([file, o]) =>
      o.imports.filter((i) => i.path === 'tsx' || i.path.startsWith('tsx/')).map((i) => `${file} → ${i.path}`),
    );
    assert.deepEqual(tsxImports, []);
    for (const file of readdirSync(outdir).filter((f) => f.endsWith('.mjs'))) {
      assert.doesNotMatch(readFileSync(join(outdir, file), 'utf8'), /["']tsx(\/[^"']*)?["']/, file);
    }
  });

  test('gate --version, gatehouse --version and the host --help run from the bundles', () => {
    const gate = runBundle(outputOf('gate'), ['--version']);
    assert.equal(gate.status, 0, gate.stderr);
    assert.equal(gate.stdout, `gate ${PACKAGE_VERSION}\n`);
    const gatehouse = runBundle(outputOf('gatehouse'), ['--version']);
    assert.equal(gatehouse.status, 0, gatehouse.stderr);
    assert.equal(gatehouse.stdout, `gatehouse ${VERSION}\n`);
    const host = runBundle(outputOf('app-host'), ['--help']);
    assert.equal(host.status, 0, host.stderr);
    assert.match(host.stdout, /--add-cluster ADDR/);
  });

  test("gatectl --help and gate --help from the bundles are the sources' help, every command listed", async () => {
    const gatectl = runBundle(outputOf('gatectl'), ['--help']);
    assert.equal(gatectl.status, 0, gatectl.stderr);
    assert.equal(gatectl.stdout, await sourceOutput(gatectlProgram(), ['--help']));
    const devicesAdd = runBundle(outputOf('gatectl'), ['devices', 'add', '--help']);
    assert.equal(devicesAdd.stdout, await sourceOutput(gatectlProgram(), ['devices', 'add', '--help']));
    const gate = runBundle(outputOf('gate'), ['--help']);
    assert.equal(gate.status, 0, gate.stderr);
    const noContext = async () => {
      throw new Error('help needs no context');
    };
    assert.equal(gate.stdout, await sourceOutput(gateProgram(noContext), ['--help']));
  });

  test('a command still loads its modules: gatectl reaches for the admin identity it was pointed at', () => {
    const missing = join(tmpdir(), 'gatehouse-no-such-identity.json');
    const r = runBundle(outputOf('gatectl'), ['users', 'ls', '--identity', missing]);
    assert.equal(r.status, exitCodeFor(ErrorCode.NOT_LOGGED_IN), r.stderr);
    assert.match(r.stderr, new RegExp(`admin identity ${missing}: not found`));
  });

  test('--version and --help load no package from node_modules (commander is compiled in; the rest loads per command)', () => {
    for (const name of ['gate', 'gatectl', 'gatehouse']) {
      assert.deepEqual(staticPackages(meta, metaKey(name)), [], name);
    }
  });

  test('--version and --help do not load node:child_process (commander requires it only to spawn)', () => {
    // Node's own list of the builtins this process loaded, printed as it exits.
    const printLoaded = `process.on('exit', () => process.stderr.write(JSON.stringify(process.moduleLoadList)));`;
    for (const [name, flag] of [
      ['gate', '--version'],
      ['gatehouse', '--version'],
      ['gatectl', '--help'],
    ] as const) {
      const script = `${printLoaded} await import(${JSON.stringify(pathToFileURL(outputOf(name)).href)});`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, '--', name, flag], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NODE_OPTIONS: '', GATEHOUSE_FROM_SOURCE: '' },
      });
      assert.equal(r.status, 0, r.stderr);
      const loaded = JSON.parse(r.stderr) as string[];
      assert.ok(loaded.includes('NativeModule fs'), `${name}: no module list (${r.stderr.slice(0, 200)})`);
      assert.deepEqual(
        loaded.filter((m) => /child_process|readline\/promises/.test(m)),
        [],
        `${name} ${flag}`,
      );
    }
  });

  test('gate and gatectl whose reader has closed the pipe end by SIGPIPE, quietly, as coreutils do', async () => {
    for (const name of ['gate', 'gatectl']) {
      const child = spawn(process.execPath, [outputOf(name), '--help'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: '', GATEHOUSE_FROM_SOURCE: '' },
      });
      // The read end closes before the program writes a byte (`cmd | true`): its first write fails.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
      const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      assert.equal(stderr, '', name);
      assert.deepEqual({ code, signal }, { code: null, signal: 'SIGPIPE' }, name);
    }
  });

  test('Connect and protobuf-es are compiled in: no bundle loads them from node_modules', () => {
    const fromNodeModules = Object.entries(meta.outputs).flatMap(([file, o]) =>
      o.imports.filter((i) => i.external && /^@(connectrpc|bufbuild)\//.test(i.path)).map((i) => `${file} → ${i.path}`),
    );
    assert.deepEqual(fromNodeModules, []);
  });

  test("Connect's Node transport does not import node:http (its ES facade would load undici)", () => {
    const transport = Object.entries(meta.outputs).filter(([, o]) =>
      Object.keys(o.inputs).some((input) => /@connectrpc\/connect-node\//.test(input)),
    );
    assert.ok(transport.length > 0, 'no output holds @connectrpc/connect-node');
    for (const [file, o] of transport) {
      const http = o.imports.filter((i) => i.path === 'node:http' || i.path === 'http');
      assert.deepEqual(http, [], `${file} imports node:http`);
    }
  });

  test('paths the sources make relative to themselves point at the same files from the bundle', () => {
    const targets = new Set<string>();
    for (const file of readdirSync(outdir).filter((f) => f.endsWith('.mjs'))) {
      const text = readFileSync(join(outdir, file), 'utf8');
      for (const m of text.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)) {
        targets.add(fileURLToPath(new URL(m[1]!, pathToFileURL(join(outdir, file)))));
      }
    }
    for (const t of targets) assert.ok(t.startsWith(ROOT), `${t} is outside the repository`);
    assert.ok(targets.has(join(ROOT, 'package.json')), 'the version is read from package.json');
    assert.ok(targets.has(join(ROOT, 'native', 'build', 'Release', 'gatehouse_tpm.node')), 'the TPM addon');
    assert.ok(targets.has(ROOT), "the host's repository root (dist/renderer)");
  });
});

describe('bin/*.mjs launchers', () => {
  test('without a bundle they name the command that builds it, with the INTERNAL exit code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-launcher-'));
    try {
      copyLauncher(dir, readFileSync(join(ROOT, '.node-version'), 'utf8'));
      const r = spawnSync(process.execPath, [join(dir, 'bin', 'gate.mjs'), '--version'], {
        encoding: 'utf8',
        env: { ...process.env, GATEHOUSE_FROM_SOURCE: '' },
      });
      assert.equal(r.status, exitCodeFor(ErrorCode.INTERNAL));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^ERROR: gate is not built: .*dist\/cli\/gate\.mjs is missing\./);
      assert.match(r.stderr, /Build it with "npm run build:cli" in /);
      assert.match(r.stderr, /GATEHOUSE_FROM_SOURCE=1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('under another Node than .node-version names they refuse with the command that brings it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-launcher-'));
    try {
      const otherMajor = Number(process.versions.node.split('.')[0]) + 2;
      copyLauncher(dir, `${otherMajor}.0.0\n`);
      const r = spawnSync(process.execPath, [join(dir, 'bin', 'gate.mjs'), '--version'], { encoding: 'utf8' });
      assert.equal(r.status, exitCodeFor(ErrorCode.INTERNAL));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`^ERROR: Gatehouse runs on Node ${otherMajor} LTS`));
      assert.match(r.stderr, /\. scripts\/node-lts\.sh/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('GATEHOUSE_FROM_SOURCE=1 runs the TypeScript sources through tsx', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'gate.mjs'), '--version'], {
      encoding: 'utf8',
      cwd: dirname(ROOT),
      env: { ...process.env, GATEHOUSE_FROM_SOURCE: '1' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `gate ${PACKAGE_VERSION}\n`);
  });
});

/** A launcher (bin/gate.mjs and what it imports) in `dir` with no bundle, pinned to `nodeVersion`. */
function copyLauncher(dir: string, nodeVersion: string): void {
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'scripts'));
  for (const f of ['launch.mjs', 'gate.mjs']) copyFileSync(join(ROOT, 'bin', f), join(dir, 'bin', f));
  copyFileSync(join(ROOT, 'scripts', 'require-node.mjs'), join(dir, 'scripts', 'require-node.mjs'));
  writeFileSync(join(dir, '.node-version'), nodeVersion);
}
