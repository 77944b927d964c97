// The empty state (no cluster yet) and the "Add cluster" form: one field, the proxy address (or a
// cluster's several, comma-separated, for failover), then "Next" probes the proxy and shows its
// cluster name and CA fingerprint; only "Trust and add" pins that CA (trust on first use is a
// decision the person makes, with the fingerprint to compare).
import { Fragment, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { ClusterProbe } from '../../src-main/ipc/contract.ts';
import { useSession, useStores, useUi } from './stores-context.tsx';
import { ErrorAlert, LoadingStatus } from './feedback.tsx';
import { GatehouseMark } from './icons.tsx';
import { ProxyAddresses } from './proxy-addresses.tsx';

export function AddClusterScreen() {
  const { actions, ui, session } = useStores();
  const form = useSession((s) => s.addForm);
  const hasClusters = useSession((s) => s.clusters.length > 0);
  const adding = useUi((s) => s.addingCluster);
  const [address, setAddress] = useState('');
  const inputRef = useRef<HTMLInputElement>(null);
  const hintId = useId();

  useEffect(() => inputRef.current?.focus(), []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!form.pending) void actions.probeCluster(address);
  };
  const cancel = () => {
    session.getState().resetForms();
    ui.getState().setAddingCluster(false);
  };

  if (form.probe) return <ConfirmCluster probe={form.probe} onCancel={() => session.getState().cancelProbe()} />;

  return (
    <main className="centered-page">
      <div className="card card-narrow">
        <GatehouseMark className="card-mark" />
        <h1>Connect to a cluster</h1>
        <p className="lead">
          Enter the address of your Gatehouse proxy to add its cluster. Your administrator can tell you the address.
        </p>
        <form onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor="proxy-address">Proxy address</label>
            <input
              id="proxy-address"
              ref={inputRef}
              type="text"
              inputMode="url"
              autoComplete="off"
              spellCheck={false}
              placeholder="proxy.example.com:3080"
              aria-describedby={hintId}
              aria-invalid={form.error || form.problem ? true : undefined}
              value={address}
              onChange={(e) => setAddress(e.target.value)}
            />
            <p id={hintId} className="hint">
              Host name or IP address, with the port if it is not 3080. A cluster with several proxies: enter them all,
              separated by commas; Gatehouse uses the next one when one cannot be reached.
            </p>
          </div>
          <ErrorAlert error={form.error} problem={form.problem} context={{ proxy: address.trim() }} />
          {form.pending && <LoadingStatus>Contacting the proxy…</LoadingStatus>}
          <div className="actions">
            {hasClusters && adding && (
              <button type="button" className="button button-secondary" onClick={cancel}>
                Cancel
              </button>
            )}
            <button type="submit" className="button button-primary" disabled={form.pending}>
              Next
            </button>
          </div>
        </form>
        <p className="footnote">
          Next, Gatehouse shows the cluster&apos;s certificate authority fingerprint for you to confirm. It remembers it
          and will warn you if it ever changes.
        </p>
      </div>
    </main>
  );
}

/** "Trust <cluster>?": the name and CA fingerprint the proxy showed, to compare with the administrator's. */
function ConfirmCluster({ probe, onCancel }: { probe: ClusterProbe; onCancel(): void }) {
  const { actions } = useStores();
  const form = useSession((s) => s.addForm);
  const trustRef = useRef<HTMLButtonElement>(null);
  const fingerprintLabelId = useId();
  // The proxy whose certificate authority is shown: the first one, unless it did not answer.
  const answered = probe.caPresentedBy ?? probe.proxy;

  useEffect(() => trustRef.current?.focus(), []);

  return (
    <main className="centered-page">
      <div className="card card-narrow">
        <GatehouseMark className="card-mark" />
        <h1>Trust {probe.clusterName}?</h1>
        <p className="lead">
          <span className="mono">{answered}</span> is the cluster <strong>{probe.clusterName}</strong>. Compare its
          certificate authority fingerprint with the one your administrator gave you before you trust it.
        </p>
        {probe.proxies.length > 1 && (
          <p data-testid="probe-proxies">
            <ProxyAddresses proxies={probe.proxies} />: every one must present this certificate authority.
          </p>
        )}
        <p id={fingerprintLabelId} className="field-label">
          CA fingerprint (SHA-256)
          {probe.proxies.length > 1 && probe.caPresentedBy && (
            <>
              {' '}
              presented by{' '}
              <span className="mono" data-testid="ca-presented-by">
                {probe.caPresentedBy}
              </span>
            </>
          )}
        </p>
        <p className="mono fingerprint fingerprint-confirm" data-testid="ca-fingerprint">
          {/* Lines break only after a colon, so no hex pair is split when comparing by eye. */}
          {probe.caFingerprint.split(':').map((pair, i) => (
            <Fragment key={i}>
              {i > 0 && ':'}
              {i > 0 && <wbr />}
              {pair}
            </Fragment>
          ))}
        </p>
        {answered !== probe.proxy && (
          <p className="hint" data-testid="first-proxy-silent">
            <span className="mono">{probe.proxy}</span> did not answer. Gatehouse checks that it presents this
            certificate authority when it connects to it later.
          </p>
        )}
        <ErrorAlert error={form.error} context={{ proxy: probe.proxy }} />
        {form.pending && <LoadingStatus>Adding the cluster…</LoadingStatus>}
        <div className="actions">
          <button type="button" className="button button-secondary" onClick={onCancel} disabled={form.pending}>
            Cancel
          </button>
          <button
            ref={trustRef}
            type="button"
            className="button button-primary"
            disabled={form.pending}
            onClick={() => void actions.addCluster(probe)}
          >
            Trust and add
          </button>
        </div>
      </div>
    </main>
  );
}
