import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src-shared/errors.ts';
import { lockOf, sessionEndText } from './session-end.ts';

test('an exit status reads as the shell exiting, 0 as logging out of the server', () => {
  assert.equal(sessionEndText({ exitCode: 0 }), 'Session ended: you logged out of the server (the shell exited).');
  assert.match(sessionEndText({ exitCode: 3 }), /^Session ended: the shell exited with status 3 /);
});

test('a hang-up from the server says why it happens, and names an expired session when it is one', () => {
  const hup = sessionEndText({ exitCode: null, signal: 'HUP' });
  assert.match(hup, /the server closed the connection \(it restarted or shut down, your access was locked/);
  assert.doesNotMatch(hup, /signal HUP/);
  assert.equal(
    sessionEndText({ exitCode: null, signal: 'HUP' }, { sessionExpired: true }),
    'Session ended: your session expired. Log in again, then reconnect.',
  );
});

test('other signals are worded; an unknown one keeps its name', () => {
  assert.equal(
    sessionEndText({ exitCode: null, signal: 'KILL' }),
    'Session ended: the shell was killed on the server (signal KILL).',
  );
  assert.equal(
    sessionEndText({ exitCode: null, signal: 'USR1' }),
    'Session ended: the shell was stopped by signal USR1.',
  );
});

test('a lock in error.details wins over the signal; closing it yourself is just "closed"', () => {
  const locked = {
    exitCode: null,
    signal: 'HUP',
    error: {
      code: ErrorCode.ACCESS_DENIED,
      message: 'lock',
      details: { lock: { message: 'laptop stolen', target: 'Device:"SN1"' } },
    },
  };
  assert.deepEqual(lockOf(locked), { message: 'laptop stolen', target: 'Device:"SN1"' });
  assert.equal(sessionEndText(locked), 'Session ended: locked by your administrator: laptop stolen');
  assert.equal(
    lockOf({ exitCode: null, error: { code: ErrorCode.ACCESS_DENIED, message: 'x', details: { lock: 'no' } } }),
    undefined,
  );
  assert.equal(sessionEndText({ exitCode: null }, { closedByUser: true }), 'Session closed.');
  assert.equal(sessionEndText({ exitCode: null }), 'Session ended: the connection to the server closed.');
});

test('a database client run on this computer ends as that program, not as a server logout', () => {
  const ctx = { localProgram: 'psql' };
  assert.equal(sessionEndText({ exitCode: 0 }, ctx), 'Session ended: psql exited.');
  assert.equal(sessionEndText({ exitCode: 2 }, ctx), 'Session ended: psql exited with status 2.');
  assert.equal(
    sessionEndText({ exitCode: null, signal: 'HUP' }, ctx),
    'Session ended: psql was stopped by signal HUP.',
  );
});
