// The "This device" screen: main landmark with the sections Device, TPM, Cluster <name>, This
// session and My devices (regions named by their headings), the enroll panel when this device
// is not enrolled, and Refresh / Copy diagnostics. The words come from this-device-view.ts; the
// data and actions from the device store, so this stays a thin rendering of them.
import { useId, type ReactNode } from 'react';
import type { MyDeviceView } from '../../src-main/ipc/contract.ts';
import { formatWhen } from '../device/device-trust-view.ts';
import { sortMyDevices, thisDeviceScreen, type FieldRow } from '../device/this-device-view.ts';
import { lockText } from '../errors/device-error-text.ts';
import { EnrollPanel, EnrollProgress } from './enroll-panel.tsx';
import { ErrorAlert, LoadingStatus } from './feedback.tsx';
import { useDevice, useStores } from './stores-context.tsx';
import '../styles/this-device.css';

const writeClipboard = (text: string) => navigator.clipboard.writeText(text);

function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  const id = useId();
  return (
    <section className="device-section" aria-labelledby={id}>
      <div className="device-section-header">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

function Fields({ rows }: { rows: FieldRow[] }) {
  return (
    <dl className="device-fields">
      {rows.map((r) => (
        <div key={r.key} className="device-field" data-testid={`device-field-${r.key}`}>
          <dt>{r.label}</dt>
          <dd className={[r.mono ? 'mono' : '', r.tone ? `tone-${r.tone}` : ''].join(' ').trim() || undefined}>
            {r.value}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Copied({ shown }: { shown: boolean }) {
  return shown ? (
    <span role="status" className="copied">
      Copied
    </span>
  ) : null;
}

/** `onBack`: before a login there is no Resources button; this leads back to the login form. */
export function ThisDeviceScreen({ hidden = false, onBack }: { hidden?: boolean; onBack?: () => void }) {
  const { device, actions } = useStores();
  const status = useDevice((s) => s.status);
  const statusError = useDevice((s) => s.statusError);
  const loading = useDevice((s) => s.loading);
  const proxy = useDevice((s) => s.proxy);
  const copied = useDevice((s) => s.copied);
  const copyError = useDevice((s) => s.copyError);
  const headingId = useId();
  const screen = status ? thisDeviceScreen(status) : undefined;

  return (
    <main className="page device-page" aria-labelledby={headingId} hidden={hidden}>
      <div className="page-header">
        <div>
          <h1 id={headingId}>This device</h1>
          <p className="page-subtitle">This computer, its TPM, and whether the cluster trusts it.</p>
        </div>
        <div className="device-actions">
          {onBack && (
            <button type="button" className="button" onClick={onBack}>
              Back to log in
            </button>
          )}
          <Copied shown={copied === 'diagnostics'} />
          <button
            type="button"
            className="button"
            onClick={() => void device.getState().copyDiagnostics(writeClipboard)}
          >
            Copy diagnostics
          </button>
          <button type="button" className="button" disabled={loading} onClick={() => void actions.refreshThisDevice()}>
            Refresh
          </button>
        </div>
      </div>
      {copyError && (
        <div className="page-alert">
          {typeof copyError === 'string' ? <ErrorAlert problem={copyError} /> : <ErrorAlert error={copyError} />}
        </div>
      )}
      {statusError && (
        <div className="page-alert">
          <ErrorAlert error={statusError} {...(proxy ? { context: { proxy } } : {})} />
        </div>
      )}
      {loading && !status && <LoadingStatus className="page-loading">Reading this device…</LoadingStatus>}
      {status && screen && (
        <div className="device-grid">
          <Section
            title="Device"
            actions={
              <span className="device-section-actions">
                <Copied shown={copied === 'asset-tag'} />
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => void device.getState().copyText('asset-tag', status.assetTag, writeClipboard)}
                >
                  Copy asset tag
                </button>
              </span>
            }
          >
            <Fields rows={screen.device} />
          </Section>
          <Section title="TPM">
            <Fields rows={screen.tpm.rows} />
            {(screen.tpm.reason || screen.tpm.fix) && (
              <dl className="device-trust-fix">
                {screen.tpm.reason && (
                  <>
                    <dt>Why</dt>
                    <dd>{screen.tpm.reason}</dd>
                  </>
                )}
                {screen.tpm.fix && (
                  <>
                    <dt>How to fix it</dt>
                    <dd>{screen.tpm.fix}</dd>
                  </>
                )}
              </dl>
            )}
          </Section>
          {screen.cluster && (
            <Section title={`Cluster ${screen.cluster.name}`}>
              {screen.cluster.lock && <LockAlert lock={screen.cluster.lock} />}
              <Fields rows={screen.cluster.rows} />
              {screen.enroll && proxy && <EnrollPanel proxy={proxy} offer={screen.enroll} />}
              <EnrollProgress />
            </Section>
          )}
          {!screen.cluster && status.clusterError && (
            <Section title="Cluster">
              <ErrorAlert error={status.clusterError} {...(proxy ? { context: { proxy } } : {})} compact />
            </Section>
          )}
          {screen.session && (
            <Section title="This session">
              <Fields rows={screen.session.rows} />
              {screen.session.nextStep && <p className="device-next-step">{screen.session.nextStep}</p>}
            </Section>
          )}
          <MyDevices />
        </div>
      )}
    </main>
  );
}

function LockAlert({ lock }: { lock: { message: string; target: string } }) {
  const text = lockText(lock);
  return (
    <div role="alert" className="alert alert-compact">
      <p className="alert-message">{text.message}</p>
      <p className="alert-next">{text.nextStep}</p>
      <p className="alert-detail">{text.detail}</p>
    </div>
  );
}

function MyDevices() {
  const devices = useDevice((s) => s.myDevices);
  const error = useDevice((s) => s.myDevicesError);
  const headingId = useId();
  if (!devices && !error) return null;
  return (
    <section className="device-section device-section-wide" aria-labelledby={headingId}>
      <div className="device-section-header">
        <h2 id={headingId}>My devices</h2>
      </div>
      {error && <ErrorAlert error={error} compact />}
      {devices && devices.length === 0 && <p className="device-next-step">You have no devices in this cluster.</p>}
      {devices && devices.length > 0 && (
        <div className="table-wrap">
          <table className="servers-table" aria-labelledby={headingId}>
            <thead>
              <tr>
                <th scope="col">Asset tag</th>
                <th scope="col">OS</th>
                <th scope="col">Enrolled</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {sortMyDevices(devices).map((d) => (
                <MyDeviceRow key={d.id} device={d} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function MyDeviceRow({ device }: { device: MyDeviceView }) {
  return (
    <tr>
      <td>
        <span className="mono">{device.assetTag}</span>
        {device.thisDevice && <span className="this-device-badge">This device</span>}
      </td>
      <td>{device.osType}</td>
      <td>{device.enrolled ? 'Yes' : 'No'}</td>
      <td>{device.lastSeen ? formatWhen(device.lastSeen) : 'Never'}</td>
    </tr>
  );
}
