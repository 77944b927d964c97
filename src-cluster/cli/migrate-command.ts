// `gatehouse migrate --from sqlite:PATH --to postgres://...`: copies a SQLite cluster's storage
// into PostgreSQL so the cluster can move to several auth servers. The storage modules are
// imported when the command runs, so `gatehouse --help` does not load the database drivers.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { onAction, prose } from '../../src-shared/cli/program.ts';

interface MigrateOptions {
  from: string;
  to: string;
  force?: boolean;
}

/** `sqlite:PATH`: a data dir (its gatehouse.db) or the database file itself; it must exist. */
export function sqliteSourcePath(from: string): string {
  const m = /^sqlite:(.+)$/.exec(from);
  if (!m) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `--from must be sqlite:PATH (a data dir or its gatehouse.db), got ${from}`,
    );
  }
  const path = m[1]!;
  if (!existsSync(path)) throw new GatehouseError(ErrorCode.NOT_FOUND, `--from: ${path} does not exist`);
  const file = statSync(path).isDirectory() ? join(path, 'gatehouse.db') : path;
  if (!existsSync(file))
    throw new GatehouseError(ErrorCode.NOT_FOUND, `--from: ${file} does not exist (no cluster in that data dir)`);
  return file;
}

async function runMigrate(options: MigrateOptions, write: (line: string) => void): Promise<void> {
  const { SqliteBackend } = await import('../storage/sqlite.ts');
  const { PostgresBackend } = await import('../storage/postgres.ts');
  const { copyBackend } = await import('../storage/copy-backend.ts');
  const sourcePath = sqliteSourcePath(options.from);
  // No sweep during the copy: the source must stay exactly as the cluster left it.
  const source = await SqliteBackend.open({ path: sourcePath, sweepIntervalMs: 2 ** 31 - 1 });
  try {
    const target = await PostgresBackend.open({ connString: options.to, sweepIntervalMs: 2 ** 31 - 1 });
    try {
      write(`copying ${sourcePath} into ${target.target}\n`);
      const report = await copyBackend(source, target, { force: options.force });
      for (const [collection, count] of Object.entries(report.byCollection)) write(`  ${collection}: ${count}\n`);
      write(
        `copied ${report.items} items in ${report.batches} batches; verified: same ${report.items} keys, values ` +
          `and expiries on both sides (sha256 ${report.checksum})\n`,
      );
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

export function registerMigrateCommand(program: Command): void {
  const migrate = program
    .command('migrate')
    .summary("copy a SQLite cluster's storage into PostgreSQL")
    .description(
      prose(`Copies every item of a SQLite cluster's storage (resources, users, devices, tokens, locks,
audit events) into an empty PostgreSQL database, in batches, then verifies counts and a checksum.
Stop the cluster first: writes made during the copy would not be copied. Revisions are renumbered
by PostgreSQL's counter (clients holding an old revision re-read on their next update).`),
    )
    .requiredOption('--from <sqlite:PATH>', 'the source: sqlite:DATA_DIR or sqlite:PATH/gatehouse.db')
    .requiredOption(
      '--to <URL>',
      'the target: postgres://USER@HOST:PORT/DB?sslmode=verify-full&sslrootcert=CA.pem (as storage.conn_string)',
    )
    .option('--force', 'copy into a non-empty database, overwriting keys that exist there');
  onAction(migrate, (cmd) => runMigrate(cmd.opts<MigrateOptions>(), (line) => process.stdout.write(line)));
}
