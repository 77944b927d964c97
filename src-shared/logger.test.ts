import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, SECRET_FIELD_NAMES, createLogger, createMemoryLogger, type LogFields } from './logger.ts';

const TIME = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z`;

test('text lines keep the daemon format: time, padded level, [component], message, k=v fields', () => {
  const log = createMemoryLogger('debug');
  log.info('node started', { addr: '127.0.0.1:3022', n: 3, note: 'two words', empty: '', gone: undefined });
  log.warn('careful');
  assert.match(
    log.lines[0]!,
    new RegExp(`^${TIME} INFO  \\[gatehouse\\] node started addr=127.0.0.1:3022 n=3 note="two words" empty=""$`),
  );
  assert.match(log.lines[1]!, new RegExp(`^${TIME} WARN  \\[gatehouse\\] careful$`));
});

test('json lines: one object per line, message before the fields, errors and bigints as text', () => {
  const log = createMemoryLogger('debug', 'json');
  log.error('write failed', { error: new Error('disk full'), serial: 12345678901234567890n, ok: false });
  const rec = JSON.parse(log.lines[0]!) as LogFields;
  assert.deepEqual(
    { ...rec, time: 'T' },
    {
      level: 'error',
      time: 'T',
      component: 'gatehouse',
      message: 'write failed',
      error: 'disk full',
      serial: '12345678901234567890',
      ok: false,
    },
  );
  assert.match(String(rec.time), new RegExp(`^${TIME}$`));
  assert.deepEqual(Object.keys(rec).slice(2), ['component', 'message', 'error', 'serial', 'ok']);
});

test('the level filters, and child() names another component on the same sink', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'warn', component: 'auth', write: (l) => lines.push(l) });
  log.debug('hidden');
  log.info('hidden too');
  log.warn('shown');
  log.child('proxy').error('from the proxy');
  log.child('proxy').child('node').error('from the node');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /WARN {2}\[auth\] shown$/);
  assert.match(lines[1]!, /ERROR \[proxy\] from the proxy$/);
  assert.match(lines[2]!, /ERROR \[node\] from the node$/);
});

test('passwords, tokens, keys, certificates and OTPs never reach the output, in either format', () => {
  const secrets: LogFields = {
    password: 'hunter2-pass',
    token: 'tok-3f9a-join',
    join_token: 'jt-77aa',
    private_key: '-----BEGIN PRIVATE KEY-----MC4CAQ',
    privateKey: 'pk-camel-secret',
    key_pem: 'pem-secret-body',
    certificate: 'ssh-ed25519-cert-v01@openssh.com AAAAsecretcert',
    otp: '492817',
    authorization: 'Bearer abc.def.ghi',
  };
  for (const format of ['text', 'json'] as const) {
    const log = createMemoryLogger('debug', format);
    log.info('login attempt', { user: 'alice', ...secrets, request: { password: 'nested-pass', user: 'bob' } });
    const out = log.lines.join('\n');
    for (const value of [...Object.values(secrets), 'nested-pass']) {
      assert.ok(!out.includes(String(value)), `${format}: "${String(value)}" leaked: ${out}`);
    }
    assert.ok(out.includes('alice') && out.includes('bob'), `${format}: ordinary fields must stay: ${out}`);
    assert.ok(out.includes(REDACTED));
  }
});

test('every listed secret field name is redacted, top level and one level down', () => {
  const log = createMemoryLogger('debug', 'json');
  for (const name of SECRET_FIELD_NAMES) log.info('x', { [name]: `v-${name}`, wrap: { [name]: `w-${name}` } });
  for (const [i, name] of SECRET_FIELD_NAMES.entries()) {
    const rec = JSON.parse(log.lines[i]!) as LogFields;
    assert.equal(rec[name], REDACTED, name);
    assert.deepEqual(rec.wrap, { [name]: REDACTED }, name);
  }
});
