import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterDevice, CREDENTIAL, myDevice, presentTpm, thisDevice } from '../test-support/device-fixtures.ts';
import { sortMyDevices, thisDeviceScreen } from './this-device-view.ts';

const field = (rows: Array<{ key: string; value: string }>, key: string) => rows.find((r) => r.key === key)?.value;

test('a present TPM shows maker, EK certificate and its connection; an enrolled device is offered only a new token', () => {
  const screen = thisDeviceScreen(
    thisDevice({
      cluster: clusterDevice({
        enrolled: true,
        credentialId: CREDENTIAL,
        credentialMatches: true,
        attestationType: 'ekcert',
        enrolledAt: '2026-12-07T09:00:00Z',
      }),
    }),
    'en-GB',
  );
  assert.equal(field(screen.device, 'asset-tag'), 'PF3ABC');
  assert.equal(field(screen.device, 'os'), 'Debian GNU/Linux 12 (bookworm) (linux)');
  assert.equal(field(screen.tpm.rows, 'tpm-state'), 'Ready');
  assert.equal(field(screen.tpm.rows, 'tpm-manufacturer'), 'IBM · SW   TPM');
  assert.equal(field(screen.tpm.rows, 'tpm-ek-cert'), 'Present');
  assert.equal(screen.cluster?.name, 'demo');
  assert.equal(field(screen.cluster!.rows, 'enrolled'), 'Yes');
  assert.equal(field(screen.cluster!.rows, 'credential-id'), CREDENTIAL);
  assert.equal(field(screen.cluster!.rows, 'attestation-type'), 'ekcert');
  assert.match(field(screen.cluster!.rows, 'enrolled-at')!, /2026/);
  assert.deepEqual([screen.enroll?.token, screen.enroll?.auto], [true, false], 'only a new token, no auto-enroll');
  assert.match(screen.enroll!.why, /is enrolled/);
});

test('TPM states are worded for people, with the reason and the fix main found', () => {
  const perm = thisDeviceScreen(
    thisDevice({
      tpm: {
        state: 'no-permission',
        tcti: 'device:/dev/tpmrm0',
        reason: 'permission denied opening /dev/tpmrm0',
        fix: 'add yourself to the tss group: sudo usermod -aG tss $USER, then log out and in',
      },
    }),
  );
  assert.equal(field(perm.tpm.rows, 'tpm-state'), 'No permission to use the TPM');
  assert.equal(perm.tpm.usable, false);
  assert.equal(perm.tpm.reason, 'Permission denied opening /dev/tpmrm0.');
  assert.match(perm.tpm.fix!, /^Add yourself to the tss group: sudo usermod -aG tss \$USER, then log out and in\.$/);
  assert.equal(field(perm.tpm.rows, 'tpm-manufacturer'), undefined, 'no maker row for a TPM we cannot open');
  const missing = thisDeviceScreen(thisDevice({ tpm: { state: 'missing', tcti: 'device:/dev/tpmrm0' } }));
  assert.equal(field(missing.tpm.rows, 'tpm-state'), 'No TPM found');
  const lib = thisDeviceScreen(thisDevice({ tpm: { state: 'library-missing', tcti: 'device:/dev/tpmrm0' } }));
  assert.equal(field(lib.tpm.rows, 'tpm-state'), 'TPM software is missing');
  const noEk = thisDeviceScreen(thisDevice({ tpm: presentTpm({ ekCertificate: false }) }));
  assert.equal(field(noEk.tpm.rows, 'tpm-ek-cert'), 'None');
});

test('registered, not enrolled: the token box, and auto-enroll only when the cluster offers it', () => {
  const plain = thisDeviceScreen(thisDevice());
  assert.deepEqual([plain.enroll?.token, plain.enroll?.auto], [true, false]);
  assert.equal(plain.enroll?.adminCommand, undefined);
  const auto = thisDeviceScreen(thisDevice({ cluster: clusterDevice({ autoEnrollAvailable: true }) }));
  assert.equal(auto.enroll?.auto, true);
});

test('not registered: the admin command and words to send the helpdesk', () => {
  const screen = thisDeviceScreen(
    thisDevice({ cluster: clusterDevice({ registered: false, autoEnrollAvailable: true }) }),
  );
  assert.equal(screen.enroll?.adminCommand, 'gatectl devices add --asset-tag PF3ABC --os linux --enroll');
  assert.equal(screen.enroll?.auto, false, 'auto-enroll needs a registered device');
  assert.match(screen.enroll!.helpdeskText!, /asset tag PF3ABC, linux/);
  assert.match(screen.enroll!.helpdeskText!, /gatectl devices add/);
  assert.equal(field(screen.cluster!.rows, 'registered'), 'No');
});

test('enrolled with another key than this TPM: offered again, and the credential row says so', () => {
  const screen = thisDeviceScreen(
    thisDevice({ cluster: clusterDevice({ enrolled: true, credentialId: 'ff00', credentialMatches: false }) }),
  );
  assert.match(screen.enroll!.why, /another key/);
  assert.equal(field(screen.cluster!.rows, 'credential-id'), 'ff00 (not this TPM)');
});

test('the session section says whether it is trusted and why not; a lock in force is passed on', () => {
  const screen = thisDeviceScreen(
    thisDevice({
      session: {
        deviceTrusted: false,
        reason: 'Not enrolled.',
        nextStep: 'Enroll below.',
        validUntil: '2030-01-01T00:00:00Z',
      },
      cluster: clusterDevice({ lock: { message: 'stolen', target: 'Device:"d-1"' } }),
    }),
  );
  assert.equal(field(screen.session!.rows, 'session-trusted'), 'No');
  assert.equal(field(screen.session!.rows, 'session-reason'), 'Not enrolled.');
  assert.match(screen.session!.nextStep!, /^Enroll this device above/, "the app's enroll panel, not gate's command");
  const enrolled = thisDeviceScreen(
    thisDevice({
      cluster: clusterDevice({ enrolled: true }),
      session: {
        deviceTrusted: false,
        reason: 'this login has no device fields',
        nextStep: 'log out and log in again',
        validUntil: '2030-01-01T00:00:00Z',
      },
    }),
  );
  assert.equal(field(enrolled.session!.rows, 'session-reason'), 'This login has no device fields.');
  assert.equal(enrolled.session!.nextStep, 'Log out and log in again.', "main's step, as a sentence");
  assert.deepEqual(screen.cluster!.lock, { message: 'stolen', target: 'Device:"d-1"' });
  const noCluster = thisDeviceScreen(thisDevice({ cluster: undefined, session: undefined }));
  assert.equal(noCluster.cluster, undefined);
  assert.equal(noCluster.enroll, undefined);
});

test('my devices: this one first, then by asset tag', () => {
  const sorted = sortMyDevices([
    myDevice({ id: 'b', assetTag: 'B', thisDevice: false }),
    myDevice({ id: 'a', assetTag: 'A', thisDevice: false }),
    myDevice({ id: 'z', assetTag: 'Z', thisDevice: true }),
  ]);
  assert.deepEqual(
    sorted.map((d) => d.id),
    ['z', 'a', 'b'],
  );
});
