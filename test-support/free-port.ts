// Test-only: loopback ports for the daemons, databases, swtpm and nginx the suites start.
//
// Why not just listen(0) and close: the integration files run two at a time (scripts/run-tests.mjs),
// and between closing that probe and the daemon binding the port, the kernel may hand the same
// port to the other test process's probe, or to any outgoing connection (ephemeral ports come
// from the same range). So ports come from below the kernel's ephemeral range, and each one is
// claimed in a shared directory with an exclusive create before it is handed out: two test
// processes can never be given the same port, and no outgoing connection can take it. A claim
// whose owner has died is taken over; this process's claims are removed when it exits.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Ports handed out: below Linux's default ephemeral range (32768–60999), above common services. */
const FIRST_PORT = 20_000;
const LAST_PORT = 32_000;
/** Attempts before giving up: each is one claim plus one bind probe, so this bounds the work. */
const MAX_ATTEMPTS = 200;
/** Shared by every test process on the machine; one file per claimed port, holding the owner's pid. */
export const CLAIM_DIR = join(tmpdir(), 'gatehouse-test-ports');

const claimedHere = new Set<number>();
let cleanupInstalled = false;

/** A loopback port no other test process holds and nothing listens on; kept for this process's life. */
export async function freePort(): Promise<number> {
  mkdirSync(CLAIM_DIR, { recursive: true });
  installCleanup();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const port = FIRST_PORT + Math.floor(Math.random() * (LAST_PORT - FIRST_PORT));
    if (claimedHere.has(port) || !claim(port)) continue;
    if (await bindsOnLoopback(port)) return port;
    // Something outside the suites listens there: keep the claim so no one retries it, move on.
  }
  throw new Error(`freePort: no free loopback port in ${FIRST_PORT}-${LAST_PORT} after ${MAX_ATTEMPTS} attempts`);
}

/** Claims `port` for this process: an exclusive create, or the take-over of a dead owner's claim. */
function claim(port: number): boolean {
  const path = join(CLAIM_DIR, String(port));
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      claimedHere.add(port);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || ownerAlive(path)) return false;
      removeQuietly(path); // the owner died without cleaning up; one more try to claim it
    }
  }
  return false;
}

function ownerAlive(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8'));
  } catch {
    return true; // being written or removed right now: treat as held
  }
  if (!Number.isInteger(pid) || pid <= 0) return true; // half-written by its owner: held
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function bindsOnLoopback(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', () => {
    for (const port of claimedHere) removeQuietly(join(CLAIM_DIR, String(port)));
  });
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
