// Starts a NodeSshServer in its own process (so a test can run it as an unprivileged user) and
// prints {"port": N} once it listens. Usage: node --import tsx node-process.ts <hostKeyFile> <userCaPubFile>
import { readFileSync } from 'node:fs';
import { parseAuthorizedKey } from '../../../src-shared/sshcert/index.ts';
import { NodeSshServer } from '../server.ts';
import { recordingLogger } from './fixtures.ts';

const [hostKeyFile, caFile] = process.argv.slice(2);
if (!hostKeyFile || !caFile) throw new Error('usage: node-process.ts <hostKeyFile> <userCaPubFile>');
const logger = recordingLogger();
const server = new NodeSshServer({
  name: 'unprivileged-node',
  labels: {},
  listenHost: '127.0.0.1',
  listenPort: 0,
  hostKey: readFileSync(hostKeyFile, 'utf8'),
  trustedUserCAs: () => [parseAuthorizedKey(readFileSync(caFile, 'utf8'))],
  authorizer: { authorize: async () => ({ allowed: true }) },
  logger,
});
const { port } = await server.start();
process.stdout.write(JSON.stringify({ port }) + '\n');
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
