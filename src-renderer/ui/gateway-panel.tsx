// One gateway tab: region "Gateway <db user>@<database>" with where to point a client (local
// address, an editable port), the client command with Copy and Run (a terminal tab running it,
// started by main), the live connection count, the last refusal in words with its remedy (the
// same denial panel as SSH, e.g. for "unauthorized device"), and Close. App gateways have their
// own panel (app-gateway-panel.tsx) built from the same pieces.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { describeError } from '../errors/error-text.ts';
import { PROTOCOL_NAMES } from '../databases/database-filter.ts';
import type { DbGatewaySummary } from '../../src-main/ipc/contract.ts';
import { gatewayAddress, gatewayTitle, type GatewayTab } from '../stores/gateways-store.ts';
import { AppGatewayPanel } from './app-gateway-panel.tsx';
import { ErrorAlert, Spinner } from './feedback.tsx';
import { useStores } from './stores-context.tsx';

export function GatewayPanel({ tab, visible }: { tab: GatewayTab; visible: boolean }) {
  const { gateway } = tab;
  if (gateway.kind === 'app') return <AppGatewayPanel tab={tab} gateway={gateway} visible={visible} />;
  return <DbGatewayPanel tab={tab} gateway={gateway} visible={visible} />;
}

function DbGatewayPanel({ tab, gateway, visible }: { tab: GatewayTab; gateway: DbGatewaySummary; visible: boolean }) {
  const { actions } = useStores();
  const title = gatewayTitle(gateway);
  const id = useId();
  const program = gateway.protocol === 'postgres' ? 'psql' : 'mariadb';

  return (
    <section
      id={`panel-${gateway.id}`}
      role="region"
      aria-label={`Gateway ${title}`}
      className="page gateway-panel"
      hidden={!visible}
    >
      <div className="page-header">
        <div>
          <h1>{gateway.database}</h1>
          <p className="page-subtitle">
            {PROTOCOL_NAMES[gateway.protocol]} as <strong>{gateway.dbUser}</strong>
            {gateway.dbName ? (
              <>
                , database <strong>{gateway.dbName}</strong>
              </>
            ) : null}
          </p>
        </div>
        <button
          type="button"
          className="button button-secondary"
          disabled={tab.busy}
          onClick={() => void actions.closeGateway(gateway.id)}
        >
          Close gateway
        </button>
      </div>

      <div className="gateway-grid">
        <div className="field">
          <label htmlFor={`${id}-address`}>Local address</label>
          <input id={`${id}-address`} type="text" className="mono" readOnly value={gatewayAddress(gateway)} />
          <p className="hint">Any client on this computer can connect here; no certificates or passwords needed.</p>
        </div>
        <PortForm tab={tab} inputId={`${id}-port`} />
      </div>

      <div className="field">
        <label htmlFor={`${id}-command`}>Client command</label>
        <div className="command-row">
          <input id={`${id}-command`} type="text" className="mono" readOnly value={gateway.clientCommand} />
          <CopyButton text={gateway.clientCommand} label="Copy command" what="command" />
          <button
            type="button"
            className="button button-primary"
            aria-describedby={`${id}-run-hint`}
            onClick={() => actions.runGatewayClient(gateway.id)}
          >
            Run
          </button>
        </div>
        <p id={`${id}-run-hint`} className="hint">
          Run opens a terminal tab with {program} connected through this gateway.
        </p>
      </div>

      <p role="status" className="gateway-status">
        <span className={`tab-dot ${gateway.connections > 0 ? 'tab-dot-open' : 'tab-dot-idle'}`} aria-hidden="true" />
        {gateway.connections === 0
          ? 'Listening, no client connected'
          : `${gateway.connections} ${gateway.connections === 1 ? 'client' : 'clients'} connected`}
      </p>

      {gateway.lastRefusal && <LastRefusal refusal={gateway.lastRefusal} proxy={gateway.proxy} />}
    </section>
  );
}

export function PortForm({ tab, inputId }: { tab: GatewayTab; inputId: string }) {
  const { gateways } = useStores();
  const current = tab.gateway.localPort;
  const [port, setPort] = useState(String(current));
  const [problem, setProblem] = useState<string | undefined>();
  // A move (here, or reported by main) shows the port it landed on.
  useEffect(() => setPort(String(current)), [current]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const n = Number(port.trim());
    if (!Number.isInteger(n) || n < 1 || n > 65535) return setProblem('A port is a whole number from 1 to 65535.');
    setProblem(undefined);
    await gateways.getState().setPort(tab.gateway.id, n);
  };

  return (
    <form className="field" onSubmit={(e) => void submit(e)} noValidate>
      <label htmlFor={inputId}>Local port</label>
      <div className="command-row">
        <input
          id={inputId}
          type="text"
          inputMode="numeric"
          className="mono port-input"
          value={port}
          aria-invalid={problem ? true : undefined}
          onChange={(e) => setPort(e.target.value)}
        />
        <button type="submit" className="button button-secondary" disabled={tab.busy || port === String(current)}>
          {tab.busy && <Spinner />}
          Change port
        </button>
      </div>
      <ErrorAlert problem={problem} error={tab.actionError} compact />
    </form>
  );
}

/** Copies `text`; `label` names the button ("Copy command"), `what` the thing in the fallback hint. */
export function CopyButton({ text, label, what }: { text: string; label: string; what: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | undefined>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('yes');
    } catch {
      // No clipboard permission (e.g. an insecure browser-host origin): the field can be selected.
      setCopied('failed');
    }
    setTimeout(() => setCopied(undefined), 2000);
  };
  return (
    <>
      <button type="button" className="button button-secondary" onClick={() => void copy()}>
        {copied === 'yes' ? 'Copied' : label}
      </button>
      {copied === 'failed' && (
        <span role="status" className="hint">
          Copying is blocked here: select the {what} and copy it.
        </span>
      )}
    </>
  );
}

export function LastRefusal({
  refusal,
  proxy,
  told = 'Your client was told the same',
}: {
  refusal: NonNullable<GatewayTab['gateway']['lastRefusal']>;
  proxy: string;
  /** Who else heard of the refusal, in the tab's words ("Your browser was shown the same page"). */
  told?: string;
}) {
  const headingId = useId();
  const when = new Date(refusal.at).toLocaleTimeString();
  const text = describeError(refusal, { proxy });
  return (
    <section className="gateway-refusal" aria-labelledby={headingId}>
      <h2 id={headingId}>{text.denial ? 'Last connection denied' : 'Last connection failed'}</h2>
      <p className="hint">
        At {when}. {told}; the gateway stays open for the next attempt.
      </p>
      <ErrorAlert error={refusal} context={{ proxy }} />
    </section>
  );
}
