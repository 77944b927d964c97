// `gate db ls|login|logout|connect` and `gate proxy db`: reaching databases (tsh's conventions).
// Declared here (options, help), implemented in commands/db.ts and commands/db-gateway.ts,
// which load only when they run.
import { Option, type Command } from 'commander';
import { gateAction, type ContextFactory } from '../context.ts';
import type { DbTargetOptions } from '../commands/db.ts';

const PROXY_DB_DESCRIPTION = `Starts a local gateway on 127.0.0.1 for database NAME and prints its address and the
psql / mysql command to use; runs until Ctrl-C. Every connection is answered by the gateway
(PostgreSQL or MySQL opening), then carried to the proxy over TLS with a short-lived route
certificate for NAME, so the client connects in plain with no certificates of its own.
--db-user / --db-name pin the database user and database (else the client names them, within
what your roles allow; a "gate db login" pins them too). Only tunnel mode exists: pass --tunnel.`;

const CONNECT_DESCRIPTION = `Starts a gateway for NAME on a free local port and runs the local client through it
(psql for PostgreSQL; mariadb, else mysql, for MySQL) on this terminal; exits with the
client's exit code. The client must be installed (postgresql-client / mariadb-client).`;

function addTargetOptions(cmd: Command): Command {
  return cmd
    .option('--db-user <USER>', 'the database user (default: the one "gate db login" stored, else your only one)')
    .option('--db-name <NAME>', 'the database (schema) inside the server');
}

function targetOptions(cmd: Command): DbTargetOptions {
  const o = cmd.opts<{ dbUser?: string; dbName?: string }>();
  return { ...(o.dbUser ? { dbUser: o.dbUser } : {}), ...(o.dbName ? { dbName: o.dbName } : {}) };
}

export function registerDatabaseCommands(program: Command, context: ContextFactory): void {
  const db = program.command('db').summary('list and reach databases (PostgreSQL, MySQL/MariaDB)');

  const ls = db
    .command('ls')
    .summary('list the databases you can reach')
    .description('Lists the databases your roles let you see: name, protocol, the db users and names allowed, labels.')
    .addOption(new Option('--format <FORMAT>', 'output format').choices(['text', 'json']).default('text'));
  gateAction(ls, context, async () => {
    const { dbLs } = await import('../commands/db.ts');
    return (ctx, cmd) => dbLs(ctx, cmd.opts<{ format: 'text' | 'json' }>());
  });

  const login = addTargetOptions(
    db
      .command('login')
      .summary('get a certificate for a database')
      .description(
        'Issues a short-lived route certificate for database NAME (pinning --db-user / --db-name)\n' +
          'and stores it with your login, for "gate db connect" and "gate proxy db".',
      )
      .argument('<NAME>', 'the database'),
  );
  gateAction(login, context, async () => {
    const { dbLogin } = await import('../commands/db.ts');
    return (ctx, cmd) => dbLogin(ctx, cmd.processedArgs[0] as string, targetOptions(cmd));
  });

  const logout = db
    .command('logout')
    .summary('remove stored database certificates')
    .description('Removes the stored certificate of database NAME, or of every database.')
    .argument('[NAME]', 'the database (default: all)');
  gateAction(logout, context, async () => {
    const { dbLogout } = await import('../commands/db.ts');
    return (ctx, cmd) => dbLogout(ctx, cmd.processedArgs[0] as string | undefined);
  });

  const connect = addTargetOptions(
    db
      .command('connect')
      .summary('run psql / mysql against a database')
      .description(CONNECT_DESCRIPTION)
      .argument('<NAME>', 'the database'),
  );
  gateAction(connect, context, async () => {
    const { dbConnect } = await import('../commands/db-gateway.ts');
    return (ctx, cmd) => dbConnect(ctx, cmd.processedArgs[0] as string, targetOptions(cmd));
  });

  const proxy = program.commands.find((c) => c.name() === 'proxy');
  if (!proxy) throw new Error('register the node commands (gate proxy) before the database commands');
  const proxyDb = addTargetOptions(
    proxy
      .command('db')
      .summary('a local gateway port for a database')
      .description(PROXY_DB_DESCRIPTION)
      .argument('<NAME>', 'the database')
      .option('--port <N>', 'local port (default 0: any free port, printed on stdout)')
      .option('--tunnel', 'tunnel mode: the gateway authenticates for the client (the only mode)'),
  );
  gateAction(proxyDb, context, async () => {
    const { proxyDb: run } = await import('../commands/db-gateway.ts');
    const { parseLocalPort } = await import('../commands/proxy-listen.ts');
    return (ctx, cmd) => {
      const o = cmd.opts<{ port?: string; tunnel?: boolean }>();
      return run(ctx, cmd.processedArgs[0] as string, {
        ...targetOptions(cmd),
        ...(o.port !== undefined ? { port: parseLocalPort(o.port) } : {}),
        ...(o.tunnel ? { tunnel: true } : {}),
      });
    };
  });
}
