// Runs in a separate process for the SQLite tests: proves behaviour that only shows across
// processes (shared file, write lock contention) or at process exit (no leaked handles).
// Usage: node --import tsx sqlite-child.ts '<json>' where json is one of
//   {"task":"increment","path":...,"key":...,"times":N,"tag":...,"parties":N}
//   {"task":"open-watch-close","path":...}
import { ErrorCode, isGatehouseError } from '../../../src-shared/errors.ts';
import { SqliteBackend } from '../sqlite.ts';

interface Args {
  task: 'increment' | 'open-watch-close';
  path: string;
  key?: string;
  times?: number;
  tag?: string;
  parties?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;

// Read-modify-write with compare-and-swap, retrying on conflict: the counter ends exact only
// if no two processes ever both succeed from the same revision.
async function increment(backend: SqliteBackend, key: string, times: number, tag: string): Promise<number> {
  let conflicts = 0;
  for (let i = 0; i < times; i++) {
    for (;;) {
      const current = await backend.get(key);
      if (!current) throw new Error(`counter ${key} missing`);
      const next = String(Number(current.value) + 1);
      // Real updaters do work between read and write; this is the window the other process races into.
      await new Promise((r) => setTimeout(r, 1));
      try {
        await backend.compareAndSwap(current, { key, value: next });
        await backend.put({ key: `/log/${tag}/${String(i).padStart(5, '0')}`, value: next });
        break;
      } catch (e) {
        if (!isGatehouseError(e) || e.code !== ErrorCode.CONFLICT) throw e;
        conflicts++;
      }
    }
  }
  return conflicts;
}

// Process start-up takes longer than the work, so line the processes up before racing.
async function barrier(backend: SqliteBackend, tag: string, parties: number): Promise<void> {
  await backend.put({ key: `/ready/${tag}`, value: '' });
  while ((await backend.listPrefix('/ready/')).length < parties) await new Promise((r) => setTimeout(r, 2));
}

const backend = await SqliteBackend.open({ path: args.path, sweepIntervalMs: 20, pollIntervalMs: 10 });
if (args.task === 'increment') {
  await barrier(backend, args.tag!, args.parties ?? 1);
  const conflicts = await increment(backend, args.key!, args.times!, args.tag!);
  process.stdout.write(JSON.stringify({ conflicts }));
  await backend.close();
} else {
  const watcher = backend.watch(['/']);
  const iterator = watcher[Symbol.asyncIterator]();
  await iterator.next(); // init
  await backend.put({ key: '/child/ping', value: 'x', expires: new Date(Date.now() + 60_000) });
  await iterator.next(); // the put, so the poll loop has really run
  await backend.close();
  // No process.exit: the test checks that the process ends on its own once closed.
  process.stdout.write('closed');
}
