// `gate apps ls`, `gate app login|config|logout` and `gate proxy app`: reaching web and TCP apps
// (tsh's conventions). Declared here (options, help), implemented in commands/apps.ts and
// commands/app-gateway.ts, which load only when they run.
import { Option, type Command } from 'commander';
import { gateAction, type ContextFactory } from '../context.ts';

const PROXY_APP_DESCRIPTION = `Starts a local gateway on 127.0.0.1 for app NAME and prints its address; runs until
Ctrl-C. A browser or curl uses http://127.0.0.1:PORT (a TCP app's client connects to
127.0.0.1:PORT); each connection is carried to the proxy over TLS with a short-lived route
certificate for NAME, so the app sees you and this device without the browser holding any
certificate. A refused request gets a page saying why; every refusal is printed here too.`;

const CONFIG_DESCRIPTION = `Prints the files of a "gate app login": the route certificate (--cert), the login key
(--key), the proxy CA (--cacert) and the proxy URL. curl with them straight to the proxy does
not reach the app (the proxy's app route needs a routing header curl cannot send): use
"gate proxy app NAME" and curl http://127.0.0.1:PORT/ instead.`;

function formatOption(): Option {
  return new Option('--format <FORMAT>', 'output format').choices(['text', 'json']).default('text');
}

export function registerAppCommands(program: Command, context: ContextFactory): void {
  const apps = program.command('apps').summary('list web and TCP apps');
  const ls = apps
    .command('ls')
    .summary('list the apps you can reach')
    .description('Lists the apps your roles let you see: name, kind (http or tcp), URI, public address, labels.')
    .addOption(formatOption());
  gateAction(ls, context, async () => {
    const { appsLs } = await import('../commands/apps.ts');
    return (ctx, cmd) => appsLs(ctx, cmd.opts<{ format: 'text' | 'json' }>());
  });

  const app = program.command('app').summary('certificates for web and TCP apps');
  const login = app
    .command('login')
    .summary('get a certificate for an app')
    .description('Issues a short-lived route certificate for app NAME and stores it beside your login key.')
    .argument('<NAME>', 'the app');
  gateAction(login, context, async () => {
    const { appLogin } = await import('../commands/apps.ts');
    return (ctx, cmd) => appLogin(ctx, cmd.processedArgs[0] as string);
  });

  const config = app
    .command('config')
    .summary("show an app login's certificate files and URL")
    .description(CONFIG_DESCRIPTION)
    .argument('<NAME>', 'the app')
    .addOption(formatOption());
  gateAction(config, context, async () => {
    const { appConfig } = await import('../commands/apps.ts');
    return (ctx, cmd) => appConfig(ctx, cmd.processedArgs[0] as string, cmd.opts<{ format: 'text' | 'json' }>());
  });

  const logout = app
    .command('logout')
    .summary('remove stored app certificates')
    .description('Removes the stored certificate of app NAME, or of every app.')
    .argument('[NAME]', 'the app (default: all)');
  gateAction(logout, context, async () => {
    const { appLogout } = await import('../commands/apps.ts');
    return (ctx, cmd) => appLogout(ctx, cmd.processedArgs[0] as string | undefined);
  });

  const proxy = program.commands.find((c) => c.name() === 'proxy');
  if (!proxy) throw new Error('register the node commands (gate proxy) before the app commands');
  const proxyApp = proxy
    .command('app')
    .summary('a local gateway for a web or TCP app')
    .description(PROXY_APP_DESCRIPTION)
    .argument('<NAME>', 'the app')
    .option('-p, --port <N>', 'local port (default 0: any free port, printed)');
  gateAction(proxyApp, context, async () => {
    const { proxyApp: run } = await import('../commands/app-gateway.ts');
    const { parseLocalPort } = await import('../commands/proxy-listen.ts');
    return (ctx, cmd) => {
      const o = cmd.opts<{ port?: string }>();
      return run(ctx, cmd.processedArgs[0] as string, o.port !== undefined ? { port: parseLocalPort(o.port) } : {});
    };
  });
}
