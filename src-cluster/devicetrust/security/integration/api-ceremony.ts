// Test-only: the real DeviceTrustService API of a running `gatehouse start`, called the way any
// client can — Connect over HTTP/2 + mTLS with the certificates `gate login` stored — without the
// product's client code, so a test can send exactly what an attacker would.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { DeviceTrustService } from '../../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import type { GatehouseError } from '../../../../src-shared/errors.ts';
import type { ClusterProcess } from '../../../../test-support/cluster-process.ts';
import { fromConnectError } from '../../../api/errors.ts';
import { Ceremony } from '../../integration/ceremony-driver.ts';

export interface UserSession {
  device: Client<typeof DeviceTrustService>;
  sshCertificate: string;
  tlsCertificatePem: string;
}

/** The DeviceTrustService as `user` (logged in with `gate login` into cluster.home) reaches it. */
export function userSession(cluster: ClusterProcess, user: string): UserSession {
  const dir = join(cluster.home, 'profiles', cluster.proxyAddr.replace(':', '_'), user);
  const ca = cluster.gatectl(['auth', 'export', '--type=tls-host']);
  if (ca.status !== 0) throw new Error(`gatectl auth export failed: ${ca.stderr}`);
  const tlsCertificatePem = readFileSync(join(dir, 'tls.crt'), 'utf8');
  const transport = createConnectTransport({
    httpVersion: '2',
    baseUrl: `https://${cluster.proxyAddr}`,
    nodeOptions: { ca: ca.stdout, cert: tlsCertificatePem, key: readFileSync(join(dir, 'key'), 'utf8') },
  });
  return {
    device: createClient(DeviceTrustService, transport),
    sshCertificate: readFileSync(join(dir, 'key-cert.pub'), 'utf8').trim(),
    tlsCertificatePem,
  };
}

/** One bidi call driven message by message; errors arrive as the GatehouseError the server sent. */
export function apiCeremony<Req, Res>(call: (requests: AsyncIterable<Req>) => AsyncIterable<Res>): Ceremony<Req, Res> {
  return new Ceremony<Req, Res>(async function* (requests) {
    try {
      // Connect calls throw() on the request iterator, which the test's push stream lacks: wrap it.
      const asGenerator = (async function* () {
        for await (const request of requests) yield request;
      })();
      for await (const response of call(asGenerator)) yield response;
    } catch (e) {
      throw fromConnectError(e) satisfies GatehouseError;
    }
  });
}
