// Enrolling this device from the app: the "Enroll token" box, "Enroll this device" when the
// cluster auto-enrolls, and — when the device is not registered — the command the administrator
// runs plus words to send the helpdesk. While it runs, the "Enrollment steps" list follows main's
// progress events; a failure is worded with its next step, a success says the session is trusted.
import { useId, useState, type FormEvent } from 'react';
import { STEP_LABELS, type EnrollOffer } from '../device/this-device-view.ts';
import type { StepState } from '../stores/device-store.ts';
import { ErrorAlert, LoadingStatus } from './feedback.tsx';
import { useDevice, useStores } from './stores-context.tsx';

const STATE_WORDS: Record<StepState, string> = {
  pending: 'waiting',
  running: 'in progress',
  done: 'done',
  failed: 'failed',
};

const writeClipboard = (text: string) => navigator.clipboard.writeText(text);

export function EnrollPanel({ proxy, offer }: { proxy: string; offer: EnrollOffer }) {
  const { device } = useStores();
  const enroll = useDevice((s) => s.enroll);
  const copied = useDevice((s) => s.copied);
  const [token, setToken] = useState('');
  const id = useId();
  const running = enroll.phase === 'running';

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim() || running) return;
    void device
      .getState()
      .startEnroll(proxy, { token })
      .then((ok) => ok && setToken(''));
  };

  return (
    <section className="enroll-panel" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Enroll</h3>
      <p className="enroll-why">{offer.why}</p>
      {offer.adminCommand && (
        <div className="admin-command-box">
          <p>Your administrator registers this device and makes an enroll token with:</p>
          <div className="admin-command-row">
            <code data-testid="admin-command">{offer.adminCommand}</code>
            <button
              type="button"
              className="button button-small"
              onClick={() => void device.getState().copyText('command', offer.adminCommand!, writeClipboard)}
            >
              Copy command
            </button>
            {copied === 'command' && (
              <span role="status" className="copied">
                Copied
              </span>
            )}
          </div>
          <p className="helpdesk-label">You can send your helpdesk:</p>
          <blockquote className="helpdesk-text">{offer.helpdeskText}</blockquote>
        </div>
      )}
      {offer.auto && (
        <div className="enroll-auto">
          <button
            type="button"
            className="button button-primary"
            disabled={running}
            onClick={() => void device.getState().startEnroll(proxy, { auto: true })}
          >
            Enroll this device
          </button>
          <span className="enroll-or">or enter an enroll token from your administrator:</span>
        </div>
      )}
      <form className="enroll-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={`${id}-token`}>Enroll token</label>
          <input
            id={`${id}-token`}
            type="text"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            maxLength={512}
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </div>
        <button type="submit" className="button button-primary" disabled={running || !token.trim()}>
          Enroll
        </button>
      </form>
    </section>
  );
}

/** Shown apart from the panel: the success line stays once the enrolled device needs no panel. */
export function EnrollProgress() {
  const enroll = useDevice((s) => s.enroll);
  if (enroll.phase === 'idle') return null;
  const failedStep = enroll.steps.find((s) => s.state === 'failed');
  return (
    <div className="enroll-progress">
      <ol className="enroll-steps" aria-label="Enrollment steps">
        {enroll.steps.map((step) => (
          <li key={step.name} data-state={step.state} className={`enroll-step enroll-step-${step.state}`}>
            <span className="enroll-step-mark" aria-hidden="true" />
            <span>{STEP_LABELS[step.name]}</span>
            <span className="visually-hidden">: {STATE_WORDS[step.state]}</span>
          </li>
        ))}
      </ol>
      {enroll.phase === 'running' && <LoadingStatus>Enrolling…</LoadingStatus>}
      {enroll.phase === 'failed' && (
        <>
          {failedStep && <p className="enroll-failed-step">Failed at: {STEP_LABELS[failedStep.name]}</p>}
          <ErrorAlert error={enroll.error} />
        </>
      )}
      {enroll.phase === 'done' && enroll.result && (
        <p role="status" className="enroll-success">
          This device is enrolled and this session is now device-trusted, without logging in again (
          {(enroll.result.totalMs / 1000).toFixed(1)} s).
        </p>
      )}
    </div>
  );
}
