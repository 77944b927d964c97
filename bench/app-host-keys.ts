// The host's keystroke leg for `npm run bench:app` (bench/app.ts), without Chromium.
import { performance } from 'node:perf_hooks';
import { IpcClient } from '../src-main/host/integration/ipc-client.ts';
import { ipcSocketUrl, splitLaunchToken } from '../src-renderer/bridge/launch-token.ts';
import { PROMPT, SET_PROMPT } from './app-probes.ts';

/**
 * The host's leg alone: the same keystrokes from a Node WebSocket client (no Chromium) through
 * the host's binary frames → proxy → node, input frame written → echo frame received, on a
 * terminal of its own. Against `gate ssh` this shows what the host adds; against the page's
 * figure, what Chromium adds.
 */
export async function hostKeystrokes(
  hostUrl: string,
  { proxy, node, login, keys }: { proxy: string; node: string; login: string; keys: number },
): Promise<number[]> {
  const { token } = splitLaunchToken(new URL(hostUrl).hash);
  if (!token) throw new Error(`no token in the host's URL ${hostUrl}`);
  const client = await IpcClient.connect(ipcSocketUrl(hostUrl, token), new URL(hostUrl).origin);
  try {
    const open = { proxy, node, login, cols: 120, rows: 40 };
    const { terminalId } = await client.call<{ terminalId: string }>('terminals.open', open);
    client.send({ type: 'term-attach', terminalId });
    const seen = () => client.output.get(terminalId) ?? '';
    const typeAndWait = async (text: string, check: (fresh: string) => boolean) => {
      const before = seen().length;
      const t0 = performance.now();
      client.type(terminalId, text);
      await client.until(`the echo of ${JSON.stringify(text)}`, () => check(seen().slice(before)));
      return performance.now() - t0;
    };
    await typeAndWait(`${SET_PROMPT}\r`, (fresh) => fresh.includes(PROMPT));
    const out: number[] = [];
    let line = '';
    for (let i = 0; i < keys; i++) {
      if (line === '') await typeAndWait('#', (fresh) => fresh.includes('#'));
      const ch = String.fromCharCode(97 + (i % 26));
      line += ch;
      out.push(await typeAndWait(ch, (fresh) => fresh.includes(ch)));
      if (line.length === 40 || i === keys - 1) {
        await typeAndWait('\r', (fresh) => fresh.includes(PROMPT));
        line = '';
      }
    }
    await client.call('terminals.close', { terminalId });
    return out;
  } finally {
    client.close();
  }
}
