// An app gateway's tab: region "Gateway <app>" with where the app is reachable on this computer —
// a web app's http://localhost:PORT/ with "Open in browser" and Copy, a TCP app's 127.0.0.1:PORT
// with Copy — the port form, the live connection count, the last refusal in words with its remedy
// (an untrusted device gets the app's own remedy: enroll, log in again, reload), and Close.
import { useId } from 'react';
import type { AppGatewaySummary } from '../../src-main/ipc/contract.ts';
import { APP_KIND_NAMES } from '../apps/app-filter.ts';
import { gatewayAddress, type GatewayTab } from '../stores/gateways-store.ts';
import { CopyButton, LastRefusal, PortForm } from './gateway-parts.tsx';
import { useStores } from './stores-context.tsx';

export function AppGatewayPanel({
  tab,
  gateway,
  visible,
}: {
  tab: GatewayTab;
  gateway: AppGatewaySummary;
  visible: boolean;
}) {
  const { actions, gateways } = useStores();
  const id = useId();
  const web = gateway.appKind === 'http' && gateway.url !== undefined;
  const where = web ? gateway.url! : gatewayAddress(gateway);

  return (
    <section
      id={`panel-${gateway.id}`}
      role="region"
      aria-label={`Gateway ${gateway.app}`}
      className="page gateway-panel"
      hidden={!visible}
    >
      <div className="page-header">
        <div>
          <h1>{gateway.app}</h1>
          <p className="page-subtitle">{APP_KIND_NAMES[gateway.appKind]} app through a local gateway</p>
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

      <div className="field">
        <label htmlFor={`${id}-where`}>{web ? 'Address in your browser' : 'Local address'}</label>
        <div className="command-row">
          <input id={`${id}-where`} type="text" className="mono" readOnly value={where} />
          <CopyButton text={where} label="Copy address" what="address" />
          {web && (
            <button
              type="button"
              className="button button-primary"
              onClick={() => void gateways.getState().launch(gateway.id)}
            >
              Open in browser
            </button>
          )}
        </div>
        <p className="hint">
          {web
            ? 'Only this computer can open it. The gateway proves who you are and this device to the cluster, so the app needs no other login from Gatehouse.'
            : 'Point your client at this address. Any program on this computer can connect here; no certificates needed.'}
        </p>
      </div>

      {/* Also shows a failed Open in browser (the tab's last action error). */}
      <div className="gateway-grid">
        <PortForm tab={tab} inputId={`${id}-port`} />
      </div>

      <p role="status" className="gateway-status">
        <span className={`tab-dot ${gateway.connections > 0 ? 'tab-dot-open' : 'tab-dot-idle'}`} aria-hidden="true" />
        {gateway.connections === 0
          ? 'Listening, nothing connected'
          : `${gateway.connections} ${gateway.connections === 1 ? 'connection' : 'connections'} open`}
      </p>

      {gateway.lastRefusal && (
        <LastRefusal
          refusal={gateway.lastRefusal}
          proxy={gateway.proxy}
          told={web ? 'Your browser was shown the same page' : 'Your client’s connection was closed'}
        />
      )}
    </section>
  );
}
