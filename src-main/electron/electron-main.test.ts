// Builds the real main.cjs bundle with scripts/build-electron.mjs and runs it in plain Node against
// a recording fake of the electron module: window options, navigation/window-open guards,
// permissions, CSP, and IPC through the real dispatcher and main services. What it cannot show is
// Chromium enforcing those settings; that needs the Electron binary (see e2e/).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { requestChannels } from '../ipc/contract.ts';
import { INVOKE_CHANNEL, TERMINAL_ATTACH_CHANNEL, TERMINAL_PORT_CHANNEL } from './bridge-protocol.ts';
import { createFakeElectron, fakeFrame } from './test-support/electron-fake.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-electron-main-'));
const outdir = join(dir, 'dist', 'electron');
const home = join(dir, 'home');
const appIndexUrl = 'app://gatehouse/index.html';
const fake = createFakeElectron();
type ModuleWithLoad = typeof Module & { _load: (request: string, ...rest: unknown[]) => unknown };
const realLoad = (Module as ModuleWithLoad)._load;
const savedHome = process.env.GATEHOUSE_HOME;

before(async () => {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build-electron.mjs'), '--outdir', outdir], {
    encoding: 'utf8',
  });
  assert.equal(build.status, 0, `build failed:\n${build.stdout}\n${build.stderr}`);
  // The renderer the app:// protocol serves (Vite's output in a real build).
  mkdirSync(join(dir, 'dist', 'renderer'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'renderer', 'index.html'), '<!doctype html><title>Gatehouse</title>');
  writeFileSync(join(dir, 'dist', 'secret.txt'), 'not for the page');
  // The bundle sits in a temp dir: the packages it leaves external (node-pty, ssh2, ...) resolve
  // from the repository's node_modules, as they do from the packaged app's.
  const repoRequire = createRequire(join(ROOT, 'package.json'));
  (Module as ModuleWithLoad)._load = function (request: string, ...rest: unknown[]) {
    if (request === 'electron') return fake.electron;
    const bare = !/^(\.|\/|node:)/.test(request) && !isBuiltin(request);
    return realLoad.call(this, bare ? repoRequire.resolve(request) : request, ...rest);
  };
  process.env.GATEHOUSE_HOME = home;
  createRequire(import.meta.url)(join(outdir, 'main.cjs'));
  // start() awaits whenReady; let the microtasks that open the window run.
  for (let i = 0; i < 50 && fake.rec.windows.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
});

after(async () => {
  // before-quit closes the services, then quits.
  const quitEvent = { preventDefault: () => undefined };
  fake.electron.app.emit('before-quit', quitEvent);
  for (let i = 0; i < 100 && fake.rec.quit === 0; i++) await new Promise((r) => setTimeout(r, 10));
  (Module as ModuleWithLoad)._load = realLoad;
  if (savedHome === undefined) delete process.env.GATEHOUSE_HOME;
  else process.env.GATEHOUSE_HOME = savedHome;
  rmSync(dir, { recursive: true, force: true });
});

const invoke = (frame: ReturnType<typeof fakeFrame> | null, channel: unknown, input?: unknown) =>
  (fake.rec.invokeHandlers.get(INVOKE_CHANNEL) as (e: unknown, c: unknown, i: unknown) => Promise<unknown>)(
    { senderFrame: frame },
    channel,
    input,
  );

test('the preload bundle requires nothing but electron and carries no zod', () => {
  const preload = readFileSync(join(outdir, 'preload.cjs'), 'utf8');
  assert.deepEqual([...new Set([...preload.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))], ['electron']);
  assert.doesNotMatch(preload, /ZodError|zod/i);
});

test('one locked instance, sandbox for every renderer, profile under GATEHOUSE_HOME, no error box', () => {
  assert.deepEqual(fake.rec.errorBoxes, []);
  assert.equal(fake.rec.singleInstanceLock, 1);
  assert.equal(fake.rec.sandboxEnabled, true);
  assert.equal(fake.rec.paths.get('userData'), join(home, 'electron-profile'));
  assert.ok(fake.rec.menu, 'an application menu is set');
});

test('one window loading app://gatehouse/index.html with the secure web preferences', () => {
  assert.equal(fake.rec.windows.length, 1);
  const [win] = fake.rec.windows;
  assert.deepEqual(win!.loaded, [appIndexUrl]);
  const prefs = win!.options.webPreferences as Record<string, unknown>;
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.devTools, false, 'GATEHOUSE_DEV is not set');
  assert.equal(prefs.preload, join(outdir, 'preload.cjs'));
  assert.deepEqual(prefs.additionalArguments, [`--gatehouse-channels=${requestChannels.join(',')}`]);
});

test('IPC from the app page reaches the real dispatcher and services', async () => {
  const app = fakeFrame(appIndexUrl);
  assert.deepEqual(await invoke(app, 'app.info', {}), {
    ok: true,
    value: { version: '0.0.0-test', host: 'electron', platform: process.platform },
  });
  assert.deepEqual(await invoke(app, 'clusters.list', {}), { ok: true, value: [] });
  const bad = (await invoke(app, 'clusters.add', { proxy: 'a b' })) as { ok: boolean; error: { code: string } };
  assert.equal(bad.ok, false);
  assert.equal(bad.error.code, 'BAD_REQUEST');
  const unknown = (await invoke(app, 'fs.readFile', {})) as { error: { code: string } };
  assert.equal(unknown.error.code, 'BAD_REQUEST');
  const notString = (await invoke(app, 42, {})) as { error: { code: string } };
  assert.equal(notString.error.code, 'BAD_REQUEST');
});

test('IPC from anything but the app top-level document is refused', async (t) => {
  t.mock.method(console, 'warn', () => undefined);
  for (const frame of [
    fakeFrame('https://evil.example/'),
    fakeFrame('file:///etc/passwd'),
    fakeFrame(`file://${join(dir, 'dist', 'renderer', 'index.html')}`),
    fakeFrame('app://gatehouse/other.html'),
    fakeFrame(appIndexUrl, fakeFrame(appIndexUrl)),
    null,
  ]) {
    const r = (await invoke(frame, 'app.info', {})) as { ok: boolean; error: { code: string } };
    assert.equal(r.ok, false);
    assert.equal(r.error.code, 'ACCESS_DENIED');
  }
});

test('attaching to an unknown terminal answers with the error and no port', async () => {
  const frame = fakeFrame(appIndexUrl);
  const attach = fake.rec.onHandlers.get(TERMINAL_ATTACH_CHANNEL) as (e: unknown, msg: unknown) => void;
  attach({ senderFrame: frame }, { requestId: 1, terminalId: 't99' });
  assert.deepEqual(frame.posted, []);
  assert.equal(frame.sent.length, 1);
  const [channel, reply] = frame.sent[0] as [string, { requestId: number; error: { code: string } }];
  assert.equal(channel, TERMINAL_PORT_CHANNEL);
  assert.equal(reply.requestId, 1);
  assert.equal(reply.error.code, 'NOT_FOUND');
  // Untrusted or malformed requests get no answer at all.
  const other = fakeFrame('https://evil.example/');
  attach({ senderFrame: other }, { requestId: 2, terminalId: 't1' });
  attach({ senderFrame: frame }, { requestId: 'x', terminalId: 't1' });
  assert.equal(other.sent.length + other.posted.length, 0);
  assert.equal(frame.sent.length, 1);
});

test('navigation away is blocked; allowlisted links open in the OS browser; window.open is denied', () => {
  const wc = fake.rec.windows[0]!.webContents;
  const navigate = (url: string) => {
    let prevented = false;
    wc.emit('will-navigate', { url, preventDefault: () => (prevented = true) });
    return prevented;
  };
  assert.equal(navigate(`${appIndexUrl}#/servers`), false);
  assert.equal(navigate('https://evil.example/'), true);
  assert.equal(navigate('file:///etc/passwd'), true);
  assert.equal(navigate('https://github.com/gatehouse'), true);
  assert.deepEqual(wc.windowOpenHandler!({ url: 'https://evil.example/' }), { action: 'deny' });
  assert.deepEqual(wc.windowOpenHandler!({ url: 'https://gatehouse.dev/docs' }), { action: 'deny' });
  assert.deepEqual(fake.rec.openedExternal, ['https://github.com/gatehouse', 'https://gatehouse.dev/docs']);
  let prevented = false;
  wc.emit('will-attach-webview', { preventDefault: () => (prevented = true) });
  assert.equal(prevented, true);
});

test('every permission is denied; file:// documents get a policy under which nothing runs', () => {
  let granted: boolean | undefined;
  (fake.rec.permissionRequest as (wc: unknown, p: string, cb: (g: boolean) => void) => void)({}, 'media', (g) => {
    granted = g;
  });
  assert.equal(granted, false);
  assert.equal((fake.rec.permissionCheck as () => boolean)(), false);
  const { filter, listener } = fake.rec.headersListener!;
  assert.deepEqual(filter, { urls: ['file://*/*'] });
  let headers: Record<string, string[]> | undefined;
  (listener as (d: unknown, cb: (r: { responseHeaders?: Record<string, string[]> }) => void) => void)(
    { url: 'file:///etc/passwd', resourceType: 'mainFrame', responseHeaders: {} },
    (r) => (headers = r.responseHeaders),
  );
  assert.deepEqual(headers!['Content-Security-Policy'], ["default-src 'none'; sandbox"]);
});

test('app:// is privileged before ready and serves dist/renderer with the CSP, nothing outside it', async () => {
  assert.equal(fake.rec.schemesRegisteredBeforeReady, true);
  assert.deepEqual(fake.rec.privilegedSchemes, [
    { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
  const handler = fake.rec.protocolHandlers.get('app')!;
  const page = await handler(new Request(appIndexUrl));
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(page.headers.get('content-security-policy')!, /^default-src 'none'; script-src 'self'/);
  assert.match(await page.text(), /<title>Gatehouse<\/title>/);
  for (const url of [
    'app://gatehouse/%2e%2e/secret.txt',
    'app://gatehouse/..%2fsecret.txt',
    'app://other/index.html',
  ]) {
    const refused = await handler(new Request(url));
    assert.equal(refused.status, 404, url);
  }
});
