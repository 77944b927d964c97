// The kept TPM session's lifetime: reused across leases, closed when idle, after a failed TPM
// call, when the stored AK changed and at close(); and which TCTIs keep one at all.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { behindResourceManager } from './device-trust.ts';
import { TpmSessionCache, type TpmSession } from './tpm-sessions.ts';

const AK_A = Buffer.from('ak-a');
const AK_B = Buffer.from('ak-b');

/** Sessions that count opens and closes; `failQuote` makes the next quote fail like a reset TPM. */
function fakeTpm(akPublic: () => Buffer) {
  const state = { opened: 0, closed: 0, failQuote: false };
  const open = async (): Promise<TpmSession> => {
    state.opened++;
    const id = state.opened;
    return {
      ekCertificate: async () => null,
      ekPublic: async () => Buffer.from('ek'),
      attestationKey: async () => {
        const pub = akPublic();
        return {
          public: pub,
          private: Buffer.from('priv'),
          creationData: Buffer.alloc(0),
          creationAttest: Buffer.alloc(0),
          creationSignature: Buffer.alloc(0),
        };
      },
      activateCredential: async () => Buffer.alloc(0),
      quote: async () => {
        if (state.failQuote) throw new GatehouseError(ErrorCode.TPM_ERROR, `session ${id}: TPM_RC_INITIALIZE`);
        return { attest: Buffer.from(`attest ${id}`), signature: Buffer.alloc(0) };
      },
      readPcrs: async () => new Map(),
      close: async () => {
        state.closed++;
      },
    };
  };
  return { state, open };
}

function cacheWith(idleMs = 60_000) {
  let stored: Buffer | null = AK_A;
  const tpm = fakeTpm(() => stored ?? AK_A);
  const cache = new TpmSessionCache({ open: tpm.open, storedAkPublic: () => stored, idleMs });
  return { cache, tpm, setStored: (b: Buffer | null) => (stored = b) };
}

test('a released session is handed out again without opening the TPM anew', async () => {
  const { cache, tpm } = cacheWith();
  const first = await cache.lease();
  await first.attestationKey();
  await first.close();
  const second = await cache.lease();
  assert.equal((await second.quote(Buffer.from('n'), [0])).attest.toString(), 'attest 1');
  await second.close();
  assert.deepEqual([tpm.state.opened, tpm.state.closed], [1, 0]);
  assert.equal(cache.warm, true);
  await cache.close();
  assert.deepEqual([tpm.state.opened, tpm.state.closed], [1, 1]);
});

test('two leases at once share the session; closing one lease twice releases it once', async () => {
  const { cache, tpm } = cacheWith();
  const a = await cache.lease();
  const b = await cache.lease();
  await a.close();
  await a.close();
  await cache.close(); // b still holds it: closed at b's release
  assert.equal(tpm.state.closed, 0);
  await b.close();
  assert.deepEqual([tpm.state.opened, tpm.state.closed], [1, 1]);
});

test('a failed TPM call retires the session: closed at release, the next lease opens a new one', async () => {
  const { cache, tpm } = cacheWith();
  const first = await cache.lease();
  tpm.state.failQuote = true;
  await assert.rejects(first.quote(Buffer.from('n'), [0]), /TPM_RC_INITIALIZE/);
  assert.equal(cache.warm, false);
  await first.close();
  assert.equal(tpm.state.closed, 1);
  tpm.state.failQuote = false;
  const second = await cache.lease();
  assert.equal((await second.quote(Buffer.from('n'), [0])).attest.toString(), 'attest 2');
  await second.close();
  await cache.close();
});

test('a session whose AK is no longer the stored one is not handed out again', async () => {
  const { cache, tpm, setStored } = cacheWith();
  const first = await cache.lease();
  await first.attestationKey();
  await first.close();
  setStored(AK_B); // e.g. an enrollment made a new AK
  const second = await cache.lease();
  assert.deepEqual([tpm.state.opened, tpm.state.closed], [2, 1]);
  await second.close();
  setStored(null); // the AK file removed: the kept one is stale too
  await (await cache.lease()).close();
  assert.deepEqual([tpm.state.opened, tpm.state.closed], [2, 1], 'AK not read yet in session 2: still kept');
  await cache.close();
});

test('an unused session closes after idleMs; a lease in between keeps it', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { cache, tpm } = cacheWith(1000);
    await (await cache.lease()).close();
    mock.timers.tick(999);
    await (await cache.lease()).close();
    mock.timers.tick(999);
    assert.equal(tpm.state.closed, 0);
    mock.timers.tick(1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([tpm.state.opened, tpm.state.closed], [1, 1]);
    assert.equal(cache.warm, false);
  } finally {
    mock.timers.reset();
  }
});

test('after close() every lease is its own session, closed with the lease', async () => {
  const { cache, tpm } = cacheWith();
  await cache.close();
  await (await cache.lease()).close();
  await (await cache.lease()).close();
  assert.deepEqual([tpm.state.opened, tpm.state.closed], [2, 2]);
});

test('a failed open is reported and not kept', async () => {
  let fail = true;
  const tpm = fakeTpm(() => AK_A);
  const cache = new TpmSessionCache({
    open: () => (fail ? Promise.reject(new GatehouseError(ErrorCode.TPM_UNAVAILABLE, 'no TPM')) : tpm.open()),
    storedAkPublic: () => AK_A,
    idleMs: 1000,
  });
  await assert.rejects(cache.lease(), /no TPM/);
  fail = false;
  await (await cache.lease()).close();
  assert.equal(tpm.state.opened, 1);
  await cache.close();
});

test('idle times outside 1 ms..1 day are refused', () => {
  const tpm = fakeTpm(() => AK_A);
  for (const idleMs of [0, -1, Number.NaN, 2 * 24 * 60 * 60 * 1000]) {
    assert.throws(() => new TpmSessionCache({ open: tpm.open, storedAkPublic: () => null, idleMs }), RangeError);
  }
});

test('sessions are kept only behind a resource manager', () => {
  assert.equal(behindResourceManager('device:/dev/tpmrm0'), true);
  assert.equal(behindResourceManager('tabrmd:bus_type=session'), true);
  assert.equal(behindResourceManager('device:/dev/tpm0'), false);
  assert.equal(behindResourceManager('swtpm:host=127.0.0.1,port=2321'), false);
});
