#!/usr/bin/env node
// Patches ssh2 1.17.0 (pinned in package.json) so Gatehouse can use OpenSSH certificates.
// Run by the npm postinstall; safe to run again (a patched tree is left as it is).
//
//   node scripts/patch-ssh2.mjs            patch node_modules/ssh2 (or say "already patched")
//   node scripts/patch-ssh2.mjs --check    exit 1 unless every patch is in place
//   node scripts/patch-ssh2.mjs --revert   undo the patches (back to the published source)
//   --dir PATH                             patch the ssh2 package at PATH instead
//
// What and why (see /work/shared/REFERENCE.md, "ssh2 (1.17)"; upstream mscdex/ssh2#551):
//  1. CLIENT certificate auth. `connect({ privateKey, certificate })` or an authHandler entry
//     `{ type: 'publickey', username, key, certificate }` (certificate: the cert blob Buffer, or
//     the text of a "*-cert.pub" line). The USERAUTH_REQUEST then names the cert algorithm
//     ("ecdsa-sha2-nistp256-cert-v01@openssh.com") and carries the cert blob as the public key,
//     while the signature inside keeps the base algorithm ("ecdsa-sha2-nistp256"), as sshd wants.
//     As shipped, ssh2 cannot send a certificate at all.
//  2. SERVER host certificates. `hostKeys: [{ key, certificate }]` offers the cert host-key
//     algorithm ahead of the plain one; when a client picks it, K_S is the cert blob and the
//     exchange hash is signed with the base key and named with the base algorithm.
//  3. SERVER reading client certificates needs no patch: ssh2 passes ctx.key.algo (the cert
//     algorithm), ctx.key.data (the cert blob), ctx.blob (the signed data) and ctx.signature to the
//     'authentication' handler without checking them. For cert algorithms ctx.signature is the
//     whole SSH signature blob (string algo, string sig), untouched, so verify it with
//     verifySshSignature(cert.publicKey, ctx.blob, ctx.signature) after verifying the cert.
//
// Every edit is an exact string replacement that must match exactly once inside a named region of
// the file; if any does not match, nothing is written and the script exits 1 saying which.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const EXPECTED_VERSION = '1.17.0';
const HELPER_FILE = 'lib/protocol/gatehouse-cert.js';
const HELPER_SOURCE = `'use strict';
// Added by Gatehouse scripts/patch-ssh2.mjs: OpenSSH certificate support for client and server.
const CERT_SUFFIX = '-cert-v01@openssh.com';

function readStr(buf, pos) {
  if (pos + 4 > buf.length) return undefined;
  const len = buf.readUInt32BE(pos);
  if (pos + 4 + len > buf.length) return undefined;
  return buf.subarray(pos + 4, pos + 4 + len);
}

// A cert blob from a Buffer blob, a "*-cert.pub" line (string or Buffer), or undefined.
function toCertBlob(cert) {
  if (cert === undefined || cert === null) return undefined;
  if (Buffer.isBuffer(cert) && cert.length > 0 && cert[0] !== 0) cert = cert.toString('utf8');
  if (typeof cert === 'string') {
    const m = /^\\s*(\\S+-cert-v01@openssh\\.com)\\s+([A-Za-z0-9+/]+={0,2})(?:\\s|$)/.exec(cert);
    if (!m) throw new Error('certificate must be a certificate blob or an OpenSSH "...-cert-v01@openssh.com AAAA..." line');
    cert = Buffer.from(m[2], 'base64');
  }
  if (!Buffer.isBuffer(cert)) throw new Error('certificate must be a Buffer or a string');
  return cert;
}

// Throws unless certBlob certifies exactly the public half of parsedKey.
function checkCertForKey(certBlob, parsedKey) {
  const expected = parsedKey.type + CERT_SUFFIX;
  const type = readStr(certBlob, 0);
  if (!type || type.toString('latin1') !== expected)
    throw new Error('certificate type is ' + (type ? type.toString('latin1') : '(unreadable)') + ', expected ' + expected);
  const nonce = readStr(certBlob, 4 + type.length);
  const pub = parsedKey.getPublicSSH();
  const keyFields = pub.subarray(4 + pub.readUInt32BE(0));
  const at = 4 + type.length + 4 + (nonce ? nonce.length : 0);
  if (!nonce || !certBlob.subarray(at, at + keyFields.length).equals(keyFields))
    throw new Error('certificate does not belong to this private key');
}

// The host key as the server kex sees it: signs with the plain key, presents the cert as K_S.
function certHostKey(parsedKey, certBlob) {
  return Object.create(parsedKey, { getPublicSSH: { value: () => certBlob } });
}

module.exports = { CERT_SUFFIX, toCertBlob, checkCertForKey, certHostKey };
`;

/** Marker put in each replacement; its presence means "this patch is applied". */
const mark = (id) => `/* gatehouse-patch:${id} */`;

const PATCHES = [
  // ---- client: Protocol.authPK sends the cert, signs with the base algorithm --------------------
  {
    id: 'authpk-certificate-param',
    file: 'lib/protocol/Protocol.js',
    region: ['  authPK(username, pubKey, keyAlgo, cbSign', '  authHostbased('],
    find: '  authPK(username, pubKey, keyAlgo, cbSign) {\n',
    replace: `  authPK(username, pubKey, keyAlgo, cbSign, certificate) { ${mark('authpk-certificate-param')}\n`,
  },
  {
    id: 'authpk-cert-algo',
    file: 'lib/protocol/Protocol.js',
    region: ['  authPK(username, pubKey, keyAlgo, cbSign', '  authHostbased('],
    find: '    if (!keyAlgo)\n      keyAlgo = keyType;\n\n    const userLen = Buffer.byteLength(username);\n',
    replace:
      '    if (!keyAlgo)\n      keyAlgo = keyType;\n\n' +
      `    ${mark('authpk-cert-algo')}\n` +
      '    // OpenSSH certificate: the request names the cert algorithm and carries the cert blob;\n' +
      '    // the signature blob inside stays in the base algorithm (PROTOCOL.certkeys).\n' +
      '    const sigAlgo = keyAlgo;\n' +
      '    const sigAlgoLen = Buffer.byteLength(sigAlgo);\n' +
      '    if (certificate) {\n' +
      '      if (!Buffer.isBuffer(certificate))\n' +
      "        throw new Error('certificate must be a Buffer');\n" +
      "      keyAlgo = keyAlgo + '-cert-v01@openssh.com';\n" +
      '      pubKey = certificate;\n' +
      '    }\n\n' +
      '    const userLen = Buffer.byteLength(username);\n',
  },
  {
    id: 'authpk-sig-alloc',
    file: 'lib/protocol/Protocol.js',
    region: ['  authPK(username, pubKey, keyAlgo, cbSign', '  authHostbased('],
    find: '        1 + 4 + userLen + 4 + 14 + 4 + 9 + 1 + 4 + algoLen + 4 + pubKeyLen + 4\n          + 4 + algoLen + 4 + sigLen\n',
    replace:
      '        1 + 4 + userLen + 4 + 14 + 4 + 9 + 1 + 4 + algoLen + 4 + pubKeyLen + 4\n' +
      `          + 4 + sigAlgoLen + 4 + sigLen ${mark('authpk-sig-alloc')}\n`,
  },
  {
    id: 'authpk-sig-algo',
    file: 'lib/protocol/Protocol.js',
    region: ['  authPK(username, pubKey, keyAlgo, cbSign', '  authHostbased('],
    find:
      '      writeUInt32BE(packet, 4 + algoLen + 4 + sigLen, p += pubKeyLen);\n\n' +
      '      writeUInt32BE(packet, algoLen, p += 4);\n' +
      '      packet.utf8Write(keyAlgo, p += 4, algoLen);\n\n' +
      '      writeUInt32BE(packet, sigLen, p += algoLen);\n',
    replace:
      `      ${mark('authpk-sig-algo')}\n` +
      '      writeUInt32BE(packet, 4 + sigAlgoLen + 4 + sigLen, p += pubKeyLen);\n\n' +
      '      writeUInt32BE(packet, sigAlgoLen, p += 4);\n' +
      '      packet.utf8Write(sigAlgo, p += 4, sigAlgoLen);\n\n' +
      '      writeUInt32BE(packet, sigLen, p += sigAlgoLen);\n',
  },
  // ---- client: carry the certificate from connect() / authHandler to authPK ---------------------
  {
    id: 'client-require-helper',
    file: 'lib/client.js',
    region: ['', 'class Client extends EventEmitter'],
    find: "const { parseKey } = require('./protocol/keyParser.js');\n",
    replace:
      "const { parseKey } = require('./protocol/keyParser.js');\n" +
      `const GATEHOUSE_CERT = require('./protocol/gatehouse-cert.js'); ${mark('client-require-helper')}\n`,
  },
  {
    id: 'client-config-certificate',
    file: 'lib/client.js',
    region: ['  connect(cfg) {', '    let hostVerifier;'],
    find: "      if (privateKey.getPrivatePEM() === null) {\n        throw new Error(\n          'privateKey value does not contain a (valid) private key'\n        );\n      }\n    }\n",
    replace:
      "      if (privateKey.getPrivatePEM() === null) {\n        throw new Error(\n          'privateKey value does not contain a (valid) private key'\n        );\n      }\n    }\n" +
      `    ${mark('client-config-certificate')}\n` +
      '    // OpenSSH certificate for privateKey (a cert blob or a "*-cert.pub" line).\n' +
      '    this.config.certificate = GATEHOUSE_CERT.toCertBlob(cfg.certificate);\n' +
      '    if (this.config.certificate) {\n' +
      '      if (!privateKey)\n' +
      "        throw new Error('certificate needs privateKey');\n" +
      '      try {\n' +
      '        GATEHOUSE_CERT.checkCertForKey(this.config.certificate, privateKey);\n' +
      '      } catch (err) {\n' +
      "        throw new Error('Cannot use certificate: ' + err.message);\n" +
      '      }\n' +
      '    }\n',
  },
  {
    id: 'client-default-publickey-cert',
    file: 'lib/client.js',
    region: ["      if (typeof nextAuth === 'string') {", '      curAuth = nextAuth;'],
    find: "          case 'publickey':\n            nextAuth = { type, username, key: privateKey };\n",
    replace:
      "          case 'publickey':\n" +
      `            nextAuth = { type, username, key: privateKey, certificate: this.config.certificate }; ${mark('client-default-publickey-cert')}\n`,
  },
  {
    id: 'client-authhandler-publickey-cert',
    file: 'lib/client.js',
    region: ["      if (typeof nextAuth === 'string') {", '      curAuth = nextAuth;'],
    find: "            if (!key.isPrivateKey())\n              return skipAuth('Skipping non-private key');\n            nextAuth = { type, username, key };\n",
    replace:
      "            if (!key.isPrivateKey())\n              return skipAuth('Skipping non-private key');\n" +
      `            ${mark('client-authhandler-publickey-cert')}\n` +
      '            let certificate;\n' +
      '            try {\n' +
      '              certificate = GATEHOUSE_CERT.toCertBlob(nextAuth.certificate);\n' +
      '              if (certificate)\n' +
      '                GATEHOUSE_CERT.checkCertForKey(certificate, key);\n' +
      '            } catch (err) {\n' +
      "              return skipAuth('Skipping invalid certificate: ' + err.message);\n" +
      '            }\n' +
      '            nextAuth = { type, username, key, certificate };\n',
  },
  {
    id: 'client-first-authpk-cert',
    file: 'lib/client.js',
    region: ['      curAuth = nextAuth;', '    function skipAuth(msg) {'],
    find: '            proto.authPK(username, curAuth.key, keyAlgo);\n',
    replace: `            proto.authPK(username, curAuth.key, keyAlgo, undefined, curAuth.certificate); ${mark('client-first-authpk-cert')}\n`,
  },
  {
    id: 'client-retry-authpk-cert',
    file: 'lib/client.js',
    region: ['        USERAUTH_FAILURE: (p, authMethods, partialSuccess) => {', '        USERAUTH_PASSWD_CHANGEREQ'],
    find: "                case 'publickey':\n                  proto.authPK(curAuth.username, curAuth.key, keyAlgo);\n",
    replace:
      "                case 'publickey':\n" +
      `                  proto.authPK(curAuth.username, curAuth.key, keyAlgo, undefined, curAuth.certificate); ${mark('client-retry-authpk-cert')}\n`,
  },
  {
    id: 'client-pkok-authpk-cert',
    file: 'lib/client.js',
    region: ['        USERAUTH_PK_OK: (p) => {', '        USERAUTH_INFO_REQUEST'],
    find: '              cb(signature);\n            });\n          }\n        },\n',
    replace: `              cb(signature);\n            }, curAuth.certificate); ${mark('client-pkok-authpk-cert')}\n          }\n        },\n`,
  },
  // ---- server: host certificates ----------------------------------------------------------------
  {
    id: 'server-require-helper',
    file: 'lib/server.js',
    region: ['', 'class Server extends EventEmitter'],
    find: "const { parseKey } = require('./protocol/keyParser.js');\n",
    replace:
      "const { parseKey } = require('./protocol/keyParser.js');\n" +
      `const GATEHOUSE_CERT = require('./protocol/gatehouse-cert.js'); ${mark('server-require-helper')}\n`,
  },
  {
    id: 'server-hostkey-certificate',
    file: 'lib/server.js',
    region: ['    for (let i = 0; i < hostKeys_.length; ++i) {', '    const algorithms = {'],
    find: "      if (privateKey.getPrivatePEM() === null)\n        throw new Error('privateKey value contains an invalid private key');\n",
    replace:
      "      if (privateKey.getPrivatePEM() === null)\n        throw new Error('privateKey value contains an invalid private key');\n" +
      `      ${mark('server-hostkey-certificate')}\n` +
      '      // { key, certificate }: offer "<algo>-cert-v01@openssh.com" ahead of the plain algorithm.\n' +
      '      let hostCert;\n' +
      "      if (typeof hostKeys_[i] === 'object' && !Buffer.isBuffer(hostKeys_[i])) {\n" +
      '        try {\n' +
      '          hostCert = GATEHOUSE_CERT.toCertBlob(hostKeys_[i].certificate);\n' +
      '          if (hostCert)\n' +
      '            GATEHOUSE_CERT.checkCertForKey(hostCert, privateKey);\n' +
      '        } catch (err) {\n' +
      "          throw new Error('Cannot use host certificate: ' + err.message);\n" +
      '        }\n' +
      '      }\n' +
      '      const addHostKeyAlgo = (type) => {\n' +
      '        if (hostCert) {\n' +
      '          hostKeys[type + GATEHOUSE_CERT.CERT_SUFFIX] =\n' +
      '            GATEHOUSE_CERT.certHostKey(privateKey, hostCert);\n' +
      '          hostKeyAlgoOrder.push(type + GATEHOUSE_CERT.CERT_SUFFIX);\n' +
      '        }\n' +
      '        hostKeys[type] = privateKey;\n' +
      '        hostKeyAlgoOrder.push(type);\n' +
      '      };\n',
  },
  {
    id: 'server-hostkey-order-rsa',
    file: 'lib/server.js',
    region: ['    for (let i = 0; i < hostKeys_.length; ++i) {', '    const algorithms = {'],
    find: '          // Store same RSA key under each hash algorithm name for convenience\n          hostKeys[type] = privateKey;\n\n          hostKeyAlgoOrder.push(type);\n',
    replace: `          // Store same RSA key under each hash algorithm name for convenience\n          addHostKeyAlgo(type); ${mark('server-hostkey-order-rsa')}\n`,
  },
  {
    id: 'server-hostkey-order',
    file: 'lib/server.js',
    region: ['    for (let i = 0; i < hostKeys_.length; ++i) {', '    const algorithms = {'],
    find: '      } else {\n        hostKeys[privateKey.type] = privateKey;\n        hostKeyAlgoOrder.push(privateKey.type);\n      }\n',
    replace: `      } else {\n        addHostKeyAlgo(privateKey.type); ${mark('server-hostkey-order')}\n      }\n`,
  },
  {
    id: 'kex-server-sign-base-algo',
    file: 'lib/protocol/kex.js',
    region: ['        // Server\n', '        // Send KEX reply'],
    find: '        switch (this.negotiated.serverHostKey) {\n',
    replace:
      `        ${mark('kex-server-sign-base-algo')}\n` +
      '        // A host certificate signs with its base key: "rsa-sha2-512-cert-v01@..." hashes with sha512.\n' +
      "        switch (this.negotiated.serverHostKey.replace(/-cert-v01@openssh\\.com$/, '')) {\n",
  },
  {
    id: 'kex-server-sig-type',
    file: 'lib/protocol/kex.js',
    region: ['        // Send KEX reply', '        writeUInt32BE(packet, sigTypeLen, p += 4);'],
    find: '        const sigType = this.negotiated.serverHostKey;\n',
    replace:
      `        ${mark('kex-server-sig-type')}\n` +
      '        // The signature names the base algorithm even when K_S is a host certificate.\n' +
      "        const sigType = this.negotiated.serverHostKey.replace(/-cert-v01@openssh\\.com$/, '');\n",
  },
  // ---- both: a bigger channel window -----------------------------------------------------------
  // ssh2 advertises 2 MiB and re-opens the window at half. Through the proxy (one more hop, one
  // more event loop) the sender then stalls for most of each round trip: 256 MiB took 2.8 s with
  // 2 MiB and 1.65 s with 8 MiB (BENCHMARKS.md). Memory per channel stays bounded by the window.
  {
    id: 'channel-window-8mib',
    file: 'lib/Channel.js',
    region: ['const MAX_WINDOW', 'const WINDOW_THRESHOLD'],
    find: 'const MAX_WINDOW = 2 * 1024 * 1024;\n',
    replace: `const MAX_WINDOW = 8 * 1024 * 1024; ${mark('channel-window-8mib')}\n`,
  },
  // ---- both: 64 KiB channel packets ------------------------------------------------------------
  // Each side advertises the largest channel data packet it accepts; ssh2 says 32 KiB, so the node
  // cut every 64 KiB read of a program's output into two packets (two paddings, two encryptions,
  // two socket writes) and `gate` decrypted and wrote twice as many pieces. 64 KiB matches what a
  // pipe read returns. Stock OpenSSH peers still get what they advertise (32 KiB), and accept up
  // to 256 KiB themselves. Daemon CPU per 256 MiB 0.70 s -> 0.62 s, stream 0.72x -> 0.81x of
  // stock OpenSSH in the same run (BENCHMARKS.md).
  {
    id: 'channel-packet-64kib',
    file: 'lib/Channel.js',
    region: ['', 'const MAX_WINDOW'],
    find: 'const PACKET_SIZE = 32 * 1024;\n',
    replace: `const PACKET_SIZE = 64 * 1024; ${mark('channel-packet-64kib')}\n`,
  },
  {
    // The receive limit must follow: ssh2 kept 35000, i.e. 32 KiB plus 2232 bytes of headroom for
    // the message header, padding and MAC; the same headroom over 64 KiB.
    id: 'max-packet-64kib',
    file: 'lib/protocol/crypto.js',
    region: ['', 'let binding;'],
    find: 'const MAX_PACKET_SIZE = 35000;\n',
    replace: `const MAX_PACKET_SIZE = 35000 + 32 * 1024; ${mark('max-packet-64kib')}\n`,
  },
  // ---- both: padding bytes from a pooled CSPRNG buffer -----------------------------------------
  // Every outgoing packet needs 4-19 random padding bytes; ssh2 calls crypto.randomFillSync for
  // each, and its fixed cost (~11 us) was 10 % of the daemon's CPU while streaming (CPU profile:
  // 93 ms of 900 ms per 256 MiB). Filling 4 KiB at once and handing out each byte exactly once
  // gives the same CSPRNG output (OpenSSH's arc4random buffers the same way). Daemon CPU per
  // 256 MiB 0.79 s -> 0.70 s (BENCHMARKS.md). kex.js keeps calling randomFillSync directly.
  {
    id: 'pooled-padding',
    file: 'lib/protocol/crypto.js',
    region: ['', 'const FastBuffer'],
    find:
      'const {\n  createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual\n' +
      "} = require('crypto');\n",
    replace:
      'const {\n  createCipheriv, createDecipheriv, createHmac, timingSafeEqual\n' +
      "} = require('crypto');\n" +
      `${mark('pooled-padding')}\n` +
      "const { randomFillSync: cryptoRandomFillSync } = require('crypto');\n" +
      'const PAD_POOL = Buffer.allocUnsafe(4096);\n' +
      'let padPoolPos = PAD_POOL.length;\n' +
      '// Only used for packet padding below: fresh CSPRNG bytes, each handed out once.\n' +
      'function randomFillSync(buf, offset, len) {\n' +
      '  if (padPoolPos + len > PAD_POOL.length) {\n' +
      '    cryptoRandomFillSync(PAD_POOL);\n' +
      '    padPoolPos = 0;\n' +
      '  }\n' +
      '  PAD_POOL.copy(buf, offset, padPoolPos, padPoolPos + len);\n' +
      '  padPoolPos += len;\n' +
      '  return buf;\n' +
      '}\n',
  },
];

function fail(message) {
  console.error(`patch-ssh2: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { mode: 'patch', dir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') opts.mode = 'check';
    else if (a === '--revert') opts.mode = 'revert';
    else if (a === '--dir') opts.dir = argv[++i];
    else fail(`unknown argument "${a}" (use --check, --revert, --dir PATH)`);
  }
  return opts;
}

function locateSsh2(dir) {
  if (dir) return dir;
  try {
    return dirname(createRequire(import.meta.url).resolve('ssh2/package.json'));
  } catch {
    return fail('ssh2 is not installed (cannot resolve ssh2/package.json); run npm install first');
  }
}

function regionOf(text, [start, end], patch) {
  const s = start === '' ? 0 : text.indexOf(start);
  if (s === -1) fail(`${patch.file}: region start for patch "${patch.id}" not found: ${JSON.stringify(start)}`);
  const e = text.indexOf(end, s + start.length);
  if (e === -1) fail(`${patch.file}: region end for patch "${patch.id}" not found: ${JSON.stringify(end)}`);
  return [s, e];
}

function countIn(haystack, needle) {
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + 1)) n++;
  return n;
}

/** Replaces `from` by `to` inside the patch's region; `from` must occur there exactly once. */
function replaceOnce(text, patch, from, to, what) {
  const [s, e] = regionOf(text, patch.region, patch);
  const region = text.slice(s, e);
  const n = countIn(region, from);
  if (n !== 1) {
    fail(
      `${patch.file}: patch "${patch.id}" expected the ${what} text exactly once but found it ${n} times ` +
        `(ssh2 source differs from ${EXPECTED_VERSION}?). Expected:\n${from}`,
    );
  }
  return text.slice(0, s) + region.replace(from, () => to) + text.slice(e);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const root = locateSsh2(opts.dir);
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  if (version !== EXPECTED_VERSION) {
    fail(
      `found ssh2 ${version} at ${root}, but this script patches ssh2 ${EXPECTED_VERSION}; update the patches with the pin`,
    );
  }
  const files = new Map();
  const read = (f) => {
    if (!files.has(f)) files.set(f, readFileSync(join(root, f), 'utf8'));
    return files.get(f);
  };
  const isApplied = (p) => read(p.file).includes(mark(p.id));
  const helperPath = join(root, HELPER_FILE);
  const helperOk = existsSync(helperPath) && readFileSync(helperPath, 'utf8') === HELPER_SOURCE;

  if (opts.mode === 'check') {
    const missing = PATCHES.filter((p) => !isApplied(p)).map((p) => p.id);
    if (!helperOk) missing.push(HELPER_FILE);
    if (missing.length) fail(`not patched: ${missing.join(', ')}`);
    console.log(`patch-ssh2: ssh2 ${version} at ${root} is patched`);
    return;
  }

  const changed = new Set();
  if (opts.mode === 'revert') {
    for (const p of [...PATCHES].reverse()) {
      if (!isApplied(p)) continue;
      files.set(p.file, replaceOnce(read(p.file), p, p.replace, p.find, 'patched'));
      changed.add(p.file);
    }
  } else {
    for (const p of PATCHES) {
      if (isApplied(p)) continue;
      files.set(p.file, replaceOnce(read(p.file), p, p.find, p.replace, 'original'));
      changed.add(p.file);
    }
  }
  // Everything matched: only now touch the files, so a failure never leaves a half-patched tree.
  for (const f of changed) writeFileSync(join(root, f), files.get(f));
  if (opts.mode === 'revert') {
    if (existsSync(helperPath)) rmSync(helperPath);
    console.log(changed.size ? `patch-ssh2: reverted ssh2 ${version} at ${root}` : 'patch-ssh2: nothing to revert');
    return;
  }
  if (!helperOk) writeFileSync(helperPath, HELPER_SOURCE);
  if (changed.size === 0 && helperOk) console.log(`patch-ssh2: ssh2 ${version} already patched`);
  else
    console.log(
      `patch-ssh2: patched ssh2 ${version} at ${root} (${PATCHES.length} edits in ${[...changed].join(', ') || 'no files'})`,
    );
}

main();
