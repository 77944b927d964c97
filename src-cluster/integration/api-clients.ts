// Test and benchmark side of joining (next to the tests: test-support/ may not import src-cluster): Connect clients for ClusterService/AuthService against a
// running cluster's proxy, pinned to the cluster's host CA as a real service would be, and a
// fresh service key pair to join with. (The production service-side client lives with the
// services; this one only drives the API from tests.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import type { DescService } from '@bufbuild/protobuf';
import { createClient, type Client } from '@connectrpc/connect';
import { createConnectTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { ADMIN_IDENTITY_FILE, type AdminIdentityFile } from '../daemon/admin-identity.ts';
import { formatAuthorizedKey, publicKeyToWire } from '../../src-shared/sshcert/index.ts';

export interface ServiceKeys {
  keyPem: string;
  tlsPublicKeyPem: string;
  sshPublicKey: string;
}

export function newServiceKeys(): ServiceKeys {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    tlsPublicKeyPem: createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }) as string,
    sshPublicKey: formatAuthorizedKey(publicKeyToWire(generateKeyPairSync('ed25519').publicKey), 'host'),
  };
}

export function adminIdentityOf(dataDir: string): AdminIdentityFile {
  return JSON.parse(readFileSync(join(dataDir, ADMIN_IDENTITY_FILE), 'utf8')) as AdminIdentityFile;
}

/**
 * A client of `service` at `address`, trusting only `caPems` for the server; with `cert`, it
 * authenticates with that client certificate (a host certificate after joining). `close()` ends
 * its HTTP/2 connection (the proxy caps connections per source address).
 */
export function apiClient<S extends DescService>(
  service: S,
  address: string,
  caPems: string[],
  cert?: { certPem: string; keyPem: string },
): Client<S> & { close(): void } {
  const baseUrl = `https://${address}`;
  const tls = { ca: caPems, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) };
  const sessionManager = new Http2SessionManager(baseUrl, undefined, tls);
  const client = createClient(service, createConnectTransport({ httpVersion: '2', baseUrl, sessionManager }));
  return Object.assign(client, { close: () => sessionManager.abort() });
}
