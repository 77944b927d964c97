// A recording stand-in for the parts of the `electron` module main.cjs uses, so the real bundle
// can be loaded and driven in plain Node (no Electron binary exists in CI). It models only what
// the shell calls; anything else is missing on purpose, so new Electron calls show up as failures.
import { EventEmitter } from 'node:events';
import { MessageChannel } from 'node:worker_threads';

type Handler = (...args: never[]) => unknown;

export interface FakeWebContents extends EventEmitter {
  windowOpenHandler?: (details: { url: string }) => { action: string };
  sent: Array<[string, ...unknown[]]>;
  mainFrame: FakeFrame;
}

export interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
  sent: Array<[string, ...unknown[]]>;
  posted: Array<[string, unknown, unknown[]]>;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  postMessage(channel: string, message: unknown, transfer?: unknown[]): void;
}

export function fakeFrame(url: string, parent: FakeFrame | null = null): FakeFrame {
  return {
    url,
    parent,
    sent: [],
    posted: [],
    isDestroyed: () => false,
    send(channel, ...args) {
      this.sent.push([channel, ...args]);
    },
    postMessage(channel, message, transfer = []) {
      this.posted.push([channel, message, transfer]);
    },
  };
}

/** Electron's MessagePortMain shape over a node:worker_threads port. */
class FakeMessagePortMain extends EventEmitter {
  constructor(readonly port: import('node:worker_threads').MessagePort) {
    super();
    port.on('message', (data) => this.emit('message', { data, ports: [] }));
    port.on('close', () => this.emit('close'));
  }
  postMessage(data: unknown) {
    this.port.postMessage(data);
  }
  start() {
    this.port.start();
  }
  close() {
    this.port.close();
  }
}

export function createFakeElectron() {
  const rec = {
    paths: new Map<string, string>(),
    quit: 0,
    exitCode: undefined as number | undefined,
    singleInstanceLock: 0,
    sandboxEnabled: false,
    windows: [] as Array<{ options: Record<string, unknown>; loaded: string[]; webContents: FakeWebContents }>,
    menu: undefined as unknown,
    errorBoxes: [] as Array<[string, string]>,
    openedExternal: [] as string[],
    invokeHandlers: new Map<string, Handler>(),
    onHandlers: new Map<string, Handler>(),
    headersListener: undefined as undefined | { filter: unknown; listener: Handler },
    permissionRequest: undefined as undefined | Handler,
    permissionCheck: undefined as undefined | Handler,
    privilegedSchemes: [] as unknown[],
    /** Set before whenReady resolved? Electron requires registerSchemesAsPrivileged before 'ready'. */
    schemesRegisteredBeforeReady: false,
    protocolHandlers: new Map<string, (request: Request) => Promise<Response>>(),
  };
  let ready = false;

  const app = Object.assign(new EventEmitter(), {
    isPackaged: false,
    setName: () => undefined,
    getName: () => 'Gatehouse',
    getVersion: () => '0.0.0-test',
    getPath: (name: string) => rec.paths.get(name) ?? `/nonexistent/${name}`,
    setPath: (name: string, p: string) => void rec.paths.set(name, p),
    enableSandbox: () => void (rec.sandboxEnabled = true),
    requestSingleInstanceLock: () => (rec.singleInstanceLock++, true),
    whenReady: () => ((ready = true), Promise.resolve()),
    isReady: () => true,
    quit: () => void rec.quit++,
    exit: (code: number) => void (rec.exitCode = code),
  });

  class BrowserWindow extends EventEmitter {
    static all: BrowserWindow[] = [];
    static getAllWindows = () => BrowserWindow.all;
    readonly webContents: FakeWebContents;
    constructor(options: Record<string, unknown>) {
      super();
      const wc = Object.assign(new EventEmitter(), {
        sent: [] as Array<[string, ...unknown[]]>,
        mainFrame: fakeFrame('about:blank'),
        isDestroyed: () => false,
        setWindowOpenHandler(h: (details: { url: string }) => { action: string }) {
          (wc as FakeWebContents).windowOpenHandler = h;
        },
        send(channel: string, ...args: unknown[]) {
          (wc as FakeWebContents).sent.push([channel, ...args]);
        },
      }) as unknown as FakeWebContents;
      this.webContents = wc;
      const entry = { options, loaded: [] as string[], webContents: wc };
      rec.windows.push(entry);
      BrowserWindow.all.push(this);
      app.emit('web-contents-created', {}, wc);
      this.loadURL = (url: string) => {
        entry.loaded.push(url);
        wc.mainFrame.url = url;
        return Promise.resolve();
      };
    }
    loadURL: (url: string) => Promise<void>;
    isDestroyed = () => false;
    isMinimized = () => false;
    restore() {}
    focus() {}
    show() {}
  }

  const electron = {
    app,
    BrowserWindow,
    Menu: {
      buildFromTemplate: (t: unknown) => ({ template: t }),
      setApplicationMenu: (m: unknown) => void (rec.menu = m),
    },
    dialog: {
      showErrorBox: (title: string, body: string) => void rec.errorBoxes.push([title, body]),
      showMessageBox: () => Promise.resolve({ response: 0 }),
    },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => {
        rec.privilegedSchemes.push(...schemes);
        rec.schemesRegisteredBeforeReady = !ready;
      },
      handle: (scheme: string, handler: (request: Request) => Promise<Response>) =>
        void rec.protocolHandlers.set(scheme, handler),
    },
    shell: { openExternal: (url: string) => (rec.openedExternal.push(url), Promise.resolve()) },
    session: {
      defaultSession: Object.assign(new EventEmitter(), {
        webRequest: {
          onHeadersReceived: (filter: unknown, listener: Handler) => void (rec.headersListener = { filter, listener }),
        },
        setPermissionRequestHandler: (h: Handler) => void (rec.permissionRequest = h),
        setPermissionCheckHandler: (h: Handler) => void (rec.permissionCheck = h),
      }),
    },
    ipcMain: {
      handle: (channel: string, h: Handler) => void rec.invokeHandlers.set(channel, h),
      removeHandler: (channel: string) => void rec.invokeHandlers.delete(channel),
      on: (channel: string, h: Handler) => void rec.onHandlers.set(channel, h),
      off: (channel: string) => void rec.onHandlers.delete(channel),
    },
    MessageChannelMain: class {
      readonly port1: FakeMessagePortMain;
      readonly port2: FakeMessagePortMain;
      constructor() {
        const { port1, port2 } = new MessageChannel();
        this.port1 = new FakeMessagePortMain(port1);
        this.port2 = new FakeMessagePortMain(port2);
      }
    },
  };
  return { electron, rec, BrowserWindow };
}
