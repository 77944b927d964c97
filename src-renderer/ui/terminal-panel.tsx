// One tab's panel: region "Terminal <login>@<node>" with the xterm widget, and over it the
// session's state (connecting, ended with its exit status, refused with the mapped error) with
// a Reconnect button (none after an administrator's lock cut it).
import { useEffect, useRef } from 'react';
import '@xterm/xterm/css/xterm.css';
import type { IpcError } from '../../src-main/ipc/contract.ts';
import { describeError } from '../errors/error-text.ts';
import { exitSummary, type TerminalTab } from '../stores/terminals-store.ts';
import { ErrorAlert, LoadingStatus } from './feedback.tsx';
import { useSession, useStores } from './stores-context.tsx';
import { TERMINAL_KEYS_HINT_ID } from './terminal-tabs.tsx';
import { createXtermSession, type XtermSession } from './xterm-session.ts';

export function TerminalPanel({ tab, visible }: { tab: TerminalTab; visible: boolean }) {
  const { api, terminals } = useStores();
  const hostRef = useRef<HTMLDivElement>(null);
  const xtermRef = useRef<XtermSession | null>(null);
  const stateRef = useRef(tab.state);
  stateRef.current = tab.state;
  const tabId = tab.id;

  useEffect(() => {
    const xterm = createXtermSession(hostRef.current!, {
      onResize: (cols, rows) => terminals.getState().resize(tabId, cols, rows),
      onLeave: () => document.getElementById(`tab-${tabId}`)?.focus(),
    });
    xtermRef.current = xterm;
    return () => {
      xtermRef.current = null;
      xterm.dispose();
    };
  }, [terminals, tabId]);

  // Each attempt (first connect, every Reconnect) starts a session at the widget's current size.
  useEffect(() => {
    const xterm = xtermRef.current;
    if (!xterm) return;
    if (tab.attempt > 1) xterm.reset();
    xterm.fit();
    void terminals.getState().start(tabId, xterm.cols, xterm.rows);
  }, [terminals, tabId, tab.attempt]);

  const terminalId = tab.state.kind === 'open' || tab.state.kind === 'ended' ? tab.state.terminalId : undefined;
  useEffect(() => {
    const xterm = xtermRef.current;
    if (!xterm || !terminalId) return;
    return xterm.connect(api.terminalStream.attach(terminalId), () => stateRef.current.kind === 'open');
  }, [api, terminalId]);

  // Shown or connected: type straight into it, unless the person is moving along the tabs with
  // the arrow keys (focus stays on the tab then, as in the WAI-ARIA tabs pattern).
  const isOpen = tab.state.kind === 'open';
  useEffect(() => {
    if (!visible) return;
    xtermRef.current?.fit();
    if (isOpen && document.activeElement?.getAttribute('role') !== 'tab') xtermRef.current?.focus();
  }, [visible, isOpen]);

  return (
    <section
      id={`panel-${tab.id}`}
      role="region"
      aria-label={`Terminal ${tab.title}`}
      aria-describedby={TERMINAL_KEYS_HINT_ID}
      className="terminal-panel"
      hidden={!visible}
    >
      <div className="terminal-host" ref={hostRef} />
      <SessionState tab={tab} onReconnect={() => terminals.getState().reconnect(tab.id)} />
    </section>
  );
}

function SessionState({ tab, onReconnect }: { tab: TerminalTab; onReconnect: () => void }) {
  const { state } = tab;
  // A hang-up while the login is expired is the expiry (disconnect_expired_cert), not a restart.
  const sessionExpired = useSession((s) => s.clusters.find((c) => c.proxy === tab.proxy)?.session?.expired === true);
  switch (state.kind) {
    case 'open':
      return null;
    case 'connecting':
      return <LoadingStatus className="terminal-connecting">Connecting…</LoadingStatus>;
    case 'ended':
      // A refusal (the node said no before a shell started) reads as "could not open", with the
      // denial's why-and-how-to-fix panel, like a refusal that arrives with the open call.
      if (state.error && describeError(state.error).lock) return <LockedCard tab={tab} error={state.error} />;
      if (state.error && describeError(state.error).denial)
        return <FailedCard tab={tab} error={state.error} onReconnect={onReconnect} />;
      return (
        <div className="session-ended">
          {state.error ? (
            <ErrorAlert error={state.error} compact />
          ) : (
            <p className="session-ended-text">
              {exitSummary(state, { sessionExpired, ...(tab.program ? { localProgram: tab.program } : {}) })}
            </p>
          )}
          <button type="button" className="button button-primary button-small" onClick={onReconnect}>
            Reconnect
          </button>
        </div>
      );
    case 'failed':
      // Refused because a lock stands: Reconnect would be refused the same way.
      if (describeError(state.error).lock) return <LockedCard tab={tab} error={state.error} />;
      return <FailedCard tab={tab} error={state.error} onReconnect={onReconnect} />;
  }
}

function FailedCard({ tab, error, onReconnect }: { tab: TerminalTab; error: IpcError; onReconnect: () => void }) {
  return (
    <div className="session-failed">
      <div className="session-failed-card">
        <h2>Could not open {tab.title}</h2>
        <ErrorAlert error={error} />
        <button type="button" className="button button-primary" onClick={onReconnect}>
          Reconnect
        </button>
      </div>
    </div>
  );
}

/**
 * An administrator's lock cut the session: the lock's message and target, and no Reconnect —
 * connecting again is refused while the lock stands; closing the tab and connecting again from
 * the resources works once it is lifted.
 */
function LockedCard({ tab, error }: { tab: TerminalTab; error: IpcError }) {
  return (
    <div className="session-failed">
      <div className="session-failed-card">
        <h2>{tab.state.kind === 'failed' ? `Could not open ${tab.title}` : `${tab.title}: session ended by a lock`}</h2>
        <ErrorAlert error={error} />
      </div>
    </div>
  );
}
