// Pieces every gateway tab shows (database and app gateways alike): the local port form, a Copy
// button with its fallback when the clipboard is blocked, and the last refusal with its remedy.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { describeError } from '../errors/error-text.ts';
import type { GatewayTab } from '../stores/gateways-store.ts';
import { ErrorAlert, Spinner } from './feedback.tsx';
import { useStores } from './stores-context.tsx';

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
