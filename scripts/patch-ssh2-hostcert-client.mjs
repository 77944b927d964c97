#!/usr/bin/env node
// Lets the ssh2 CLIENT accept OpenSSH host certificates (scripts/patch-ssh2.mjs adds them to the
// server; an ssh2 1.17 client cannot negotiate them). Gatehouse nodes are trusted through their
// host certificate signed by the cluster's SSH host CA, so the client must ask for one.
//
// After this patch a client may list cert host-key algorithms, e.g.
//   algorithms: { serverHostKey: ['ssh-ed25519-cert-v01@openssh.com', 'ecdsa-sha2-nistp256-cert-v01@openssh.com'] }
// hostVerifier(key) then receives the certificate blob (K_S), which the caller must verify (CA,
// type host, principal, validity); ssh2 checks the exchange-hash signature with the certified key.
//
// Idempotent (markers show each edit is in), exact string replacements found after a named
// anchor, and it fails loudly when the expected source text is missing.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const mark = (id) => `/* gatehouse-patch:${id} */`;
const CERT_RE = String.raw`/-cert-v01@openssh\.com$/`;

const PATCHES = [
  {
    id: 'client-hostkey-cert-algos',
    file: 'lib/client.js',
    anchor: '      algorithms.serverHostKey =\n',
    find: '                              SUPPORTED_SERVER_HOST_KEY);\n',
    replace:
      `                              SUPPORTED_SERVER_HOST_KEY.concat( ${mark('client-hostkey-cert-algos')}\n` +
      "                                SUPPORTED_SERVER_HOST_KEY.map((a) => a + '-cert-v01@openssh.com')));\n",
  },
  {
    id: 'kex-client-cert-ks-type',
    file: 'lib/protocol/kex.js',
    anchor: 'if (hostPubKeyType !== this.negotiated.serverHostKey) {',
    find: "              switch (this.negotiated.serverHostKey) {\n                case 'rsa-sha2-256':\n",
    replace:
      '              switch (this.negotiated.serverHostKey) {\n' +
      `                ${mark('kex-client-cert-ks-type')}\n` +
      '                // An RSA host certificate (K_S "ssh-rsa-cert-v01@...") serves every rsa-sha2 cert algorithm.\n' +
      "                case 'rsa-sha2-256-cert-v01@openssh.com':\n" +
      "                case 'rsa-sha2-512-cert-v01@openssh.com':\n" +
      "                  if (hostPubKeyType === 'ssh-rsa-cert-v01@openssh.com')\n" +
      '                    break;\n' +
      '                  return doFatalError(\n' +
      '                    this._protocol,\n' +
      "                    'Host key does not match negotiated type',\n" +
      "                    'handshake',\n" +
      '                    DISCONNECT_REASON.KEY_EXCHANGE_FAILED\n' +
      '                  );\n' +
      "                case 'rsa-sha2-256':\n",
  },
  {
    id: 'kex-client-cert-sig-type',
    file: 'lib/protocol/kex.js',
    anchor: '      if (!isServer) {\n        bufferParser.init(this._sig, 0);\n',
    find: '        if (sigType !== negotiated.serverHostKey) {\n',
    replace:
      `        ${mark('kex-client-cert-sig-type')}\n` +
      '        // With a host certificate the signature names the base algorithm (PROTOCOL.certkeys).\n' +
      `        if (sigType !== negotiated.serverHostKey.replace(${CERT_RE}, '')) {\n`,
  },
  {
    id: 'kex-client-cert-parse-key',
    file: 'lib/protocol/kex.js',
    anchor: '        let parsedHostKey;\n',
    find:
      '          const name = bufferParser.readString(true);\n' +
      '          const hostKey = this._hostKey.slice(bufferParser.pos());\n',
    replace:
      `          let name = bufferParser.readString(true); ${mark('kex-client-cert-parse-key')}\n` +
      '          // A host certificate carries the key fields after its nonce: verify with that key.\n' +
      `          if (typeof name === 'string' && ${CERT_RE}.test(name)) {\n` +
      `            name = name.replace(${CERT_RE}, '');\n` +
      '            bufferParser.readString();\n' +
      '          }\n' +
      '          const hostKey = this._hostKey.slice(bufferParser.pos());\n',
  },
  {
    id: 'kex-client-cert-hash-algo',
    file: 'lib/protocol/kex.js',
    anchor: '          parsedHostKey = parseDERKey(hostKey, name);\n',
    find: '        switch (this.negotiated.serverHostKey) {\n',
    replace:
      `        ${mark('kex-client-cert-hash-algo')}\n` +
      `        switch (this.negotiated.serverHostKey.replace(${CERT_RE}, '')) {\n`,
  },
];

function ssh2Dir() {
  const i = process.argv.indexOf('--dir');
  if (i !== -1 && process.argv[i + 1]) return process.argv[i + 1];
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('ssh2/package.json'));
}

export function patchSsh2HostCertClient(dir = ssh2Dir()) {
  const sources = new Map();
  const read = (file) => {
    if (!sources.has(file)) sources.set(file, readFileSync(join(dir, file), 'utf8'));
    return sources.get(file);
  };
  let applied = 0;
  for (const p of PATCHES) {
    let text = read(p.file);
    if (text.includes(mark(p.id))) continue;
    const a = text.indexOf(p.anchor);
    if (a === -1 || text.indexOf(p.anchor, a + 1) !== -1) {
      throw new Error(
        `patch-ssh2-hostcert-client: anchor for "${p.id}" not found exactly once in ${p.file}; check the ssh2 version`,
      );
    }
    const at = text.indexOf(p.find, a);
    if (at === -1 || at - a > 4000) {
      throw new Error(
        `patch-ssh2-hostcert-client: text for "${p.id}" not found after its anchor in ${p.file}; check the ssh2 version`,
      );
    }
    text = text.slice(0, at) + p.replace + text.slice(at + p.find.length);
    sources.set(p.file, text);
    applied++;
  }
  // Nothing is written unless every edit matched.
  for (const [file, text] of sources) writeFileSync(join(dir, file), text);
  return { dir, applied };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { dir, applied } = patchSsh2HostCertClient();
    console.log(`patch-ssh2-hostcert-client: ${applied ? `applied ${applied} edits to` : 'already patched'} ${dir}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
