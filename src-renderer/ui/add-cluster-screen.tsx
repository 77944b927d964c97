// The empty state (no cluster yet) and the "Add cluster" form: one field, the proxy address.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useSession, useStores, useUi } from './stores-context.tsx';
import { ErrorAlert, LoadingStatus } from './feedback.tsx';
import { GatehouseMark } from './icons.tsx';

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
    if (!form.pending) void actions.addCluster(address);
  };
  const cancel = () => {
    session.getState().resetForms();
    ui.getState().setAddingCluster(false);
  };

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
              Host name or IP address, with the port if it is not 443.
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
              Add cluster
            </button>
          </div>
        </form>
        <p className="footnote">
          The first time you connect, Gatehouse remembers the cluster&apos;s certificate authority and will warn you if
          it ever changes.
        </p>
      </div>
    </main>
  );
}
