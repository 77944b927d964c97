// One gateway tab: region "Gateway <db user>@<database>" with where to point a client (local
// address, an editable port), the client command with Copy and Run (a terminal tab running it,
// started by main), the live connection count, the last refusal in words with its remedy (the
// same denial panel as SSH, e.g. for "unauthorized device"), and Close. App gateways have their
// own panel (app-gateway-panel.tsx) built from the same pieces.
import { useId } from 'react';
import { PROTOCOL_NAMES } from '../databases/database-filter.ts';
import type { DbGatewaySummary } from '../../src-main/ipc/contract.ts';
import { gatewayAddress, gatewayTitle, type GatewayTab } from '../stores/gateways-store.ts';
import { AppGatewayPanel } from './app-gateway-panel.tsx';
import { CopyButton, LastRefusal, PortForm } from './gateway-parts.tsx';
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
