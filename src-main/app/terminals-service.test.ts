// Local terminals (a gateway's Run): the program runs in a PTY through the same TerminalSession
// as SSH tabs — output reaches an attached stream, the exit is one `terminals.exit` event — and
// they belong to the cluster whose gateway they use, so logging out ends them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { GatehouseClient } from '../core/gatehouse-client.ts';
import type { EventPayloads } from '../ipc/contract.ts';
import { AppEvents } from './events.ts';
import { toAppLogger } from './logger.ts';
import type { Sessions } from './sessions.ts';
import { TerminalsService } from './terminals-service.ts';

const PROXY = 'proxy.test:3080';

function service() {
  const exits: Array<EventPayloads['terminals.exit']> = [];
  const log = toAppLogger(undefined);
  const events = new AppEvents(log);
  events.on((event, payload) => {
    if (event === 'terminals.exit') exits.push(payload as EventPayloads['terminals.exit']);
  });
  const sessions = {
    require: (proxy: string) => {
      if (proxy !== PROXY) throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, `not logged in to ${proxy}`);
      return {};
    },
  } as unknown as Sessions;
  const terminals = new TerminalsService({ core: {} as GatehouseClient, sessions, events, log });
  return { terminals, exits };
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(check(), what);
};

test('a local program: output to the attached stream, its exit code as one terminals.exit', async () => {
  const { terminals, exits } = service();
  const { terminalId } = terminals.openLocal({
    proxy: PROXY,
    file: '/bin/sh',
    args: ['-c', 'echo local-hello; exit 4'],
    cols: 80,
    rows: 24,
  });
  let output = '';
  terminals.attach(terminalId, (d) => (output += Buffer.from(d).toString('utf8')));
  await until(() => exits.length === 1, 'the exit is reported');
  assert.match(output, /local-hello/);
  assert.deepEqual(exits, [{ terminalId, exitCode: 4 }]);
});

test('without a session nothing starts; logging out ends the local terminals of that cluster', async () => {
  const { terminals, exits } = service();
  assert.throws(
    () => terminals.openLocal({ proxy: 'other:3080', file: '/bin/sleep', args: ['30'], cols: 80, rows: 24 }),
    (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.NOT_LOGGED_IN,
  );
  const { terminalId } = terminals.openLocal({ proxy: PROXY, file: '/bin/sleep', args: ['30'], cols: 80, rows: 24 });
  await new Promise((r) => setTimeout(r, 100));
  terminals.closeAllFor(PROXY);
  await until(() => exits.length === 1, 'the program ended');
  assert.equal(exits[0]!.terminalId, terminalId);
  assert.throws(() => terminals.attach(terminalId, () => {}), /there is no terminal/);
});
