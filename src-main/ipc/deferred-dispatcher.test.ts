import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type { IpcResult } from './contract.ts';
import { deferredDispatcher } from './deferred-dispatcher.ts';
import type { IpcDispatcher, IpcEventListener } from './dispatcher.ts';

/** A real-enough dispatcher: answers invoke with the channel, keeps event listeners, attaches "t1". */
function recordingDispatcher() {
  const listeners = new Set<IpcEventListener>();
  const calls: string[] = [];
  const dispatcher: IpcDispatcher = {
    async invoke(channel) {
      calls.push(channel);
      return { ok: true, value: `answer to ${channel}` };
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    attachTerminal(terminalId) {
      if (terminalId !== 't1') throw new GatehouseError(ErrorCode.NOT_FOUND, `no terminal ${terminalId}`);
      return { write() {}, pause() {}, resume() {}, parsed() {}, detach() {} };
    },
  };
  return { dispatcher, listeners, calls };
}

function later<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const errors: string[] = [];
const log = { error: (msg: string) => errors.push(msg) };

describe('deferred dispatcher (the IPC transport is wired before the services exist)', () => {
  test('a call made while the services start is answered once they are there, in order', async () => {
    const real = recordingDispatcher();
    const pending = later<IpcDispatcher>();
    const d = deferredDispatcher(pending.promise, log);
    assert.equal(d.ready, false);
    const first = d.invoke('clusters.list', {});
    const second = d.invoke('app.info', {});
    let answered = false;
    void first.then(() => (answered = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(answered, false, 'nothing can answer before the services are composed');
    pending.resolve(real.dispatcher);
    assert.deepEqual(await first, { ok: true, value: 'answer to clusters.list' });
    assert.deepEqual(await second, { ok: true, value: 'answer to app.info' });
    assert.deepEqual(real.calls, ['clusters.list', 'app.info']);
    assert.equal(d.ready, true);
  });

  test('services that fail to start fail every call with their stable code, not a crash', async () => {
    const d = deferredDispatcher(
      Promise.reject(new GatehouseError(ErrorCode.PROXY_UNTRUSTED, 'the proxy does not present the pinned CA')),
      log,
    );
    const r: IpcResult<unknown> = await d.invoke('clusters.list', {});
    assert.deepEqual(r, {
      ok: false,
      error: { code: ErrorCode.PROXY_UNTRUSTED, message: 'the proxy does not present the pinned CA' },
    });
    assert.equal(d.ready, false);
  });

  test('an event listener added early is subscribed when the services arrive; unsubscribing first keeps it out', async () => {
    const real = recordingDispatcher();
    const pending = later<IpcDispatcher>();
    const d = deferredDispatcher(pending.promise, log);
    const kept: IpcEventListener = () => {};
    const dropped: IpcEventListener = () => {};
    const offKept = d.onEvent(kept);
    d.onEvent(dropped)();
    pending.resolve(real.dispatcher);
    await d.invoke('app.info', {});
    assert.deepEqual([...real.listeners], [kept]);
    offKept();
    assert.equal(real.listeners.size, 0);
  });

  test('no terminal can be attached before the services exist; afterwards attach goes through', async () => {
    const real = recordingDispatcher();
    const pending = later<IpcDispatcher>();
    const d = deferredDispatcher(pending.promise, log);
    assert.throws(
      () => d.attachTerminal('t1', () => {}),
      (e: unknown) => isGatehouseError(e) && e.code === ErrorCode.NOT_FOUND,
    );
    pending.resolve(real.dispatcher);
    await d.invoke('app.info', {});
    assert.doesNotThrow(() => d.attachTerminal('t1', () => {}).detach());
  });

  test('early answers serve the first screen while the services start; other calls wait and say so', async () => {
    const real = recordingDispatcher();
    const pending = later<IpcDispatcher>();
    const waited: string[] = [];
    const d = deferredDispatcher(pending.promise, log, {
      early: { answer: async (channel) => (channel === 'clusters.list' ? ['from the store'] : undefined) },
      onWait: (channel) => waited.push(channel),
    });
    assert.deepEqual(await d.invoke('clusters.list', {}), { ok: true, value: ['from the store'] });
    assert.deepEqual(waited, [], 'nothing had to wait, so the launcher may compose later');
    const login = d.invoke('auth.login', {});
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(waited, ['auth.login'], 'a call that needs the services starts their composition');
    pending.resolve(real.dispatcher);
    assert.deepEqual(await login, { ok: true, value: 'answer to auth.login' });
    assert.deepEqual(await d.invoke('clusters.list', {}), { ok: true, value: 'answer to clusters.list' });
    assert.deepEqual(real.calls, ['auth.login', 'clusters.list'], 'once composed, the services answer everything');
  });
});
