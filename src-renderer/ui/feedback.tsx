// Small shared pieces: loading status, error alerts (with the denial panel), the spinner.
import { useId } from 'react';
import type { IpcError } from '../../src-main/ipc/contract.ts';
import { describeError, type ErrorContext } from '../errors/error-text.ts';
import { useStores } from './stores-context.tsx';

export function Spinner() {
  return <span className="spinner" aria-hidden="true" />;
}

/** A loading message; fades in after ~300 ms so quick answers don't flash. */
export function LoadingStatus({ children, className = '' }: { children: string; className?: string }) {
  return (
    <div role="status" className={`loading-status ${className}`}>
      <Spinner />
      <span>{children}</span>
    </div>
  );
}

/** The way out of an unauthorized-device refusal: the screen that enrolls this device. */
function OpenThisDeviceButton() {
  const { actions } = useStores();
  return (
    <div className="actions denial-actions">
      <button type="button" className="button button-primary button-small" onClick={() => actions.openThisDevice()}>
        Open This device
      </button>
    </div>
  );
}

/** The "why and how to fix" panel of an access denial. */
export function DenialPanel({
  denial,
  openThisDevice = false,
}: {
  denial: { reason: string; why: string; fix: string };
  /** An unauthorized-device refusal: offer the This device screen. */
  openThisDevice?: boolean;
}) {
  const id = useId();
  return (
    <section className="denial" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Why this happened and how to fix it</h3>
      <dl>
        <dt>Why</dt>
        <dd>{denial.why}</dd>
        <dt>How to fix it</dt>
        <dd>{denial.fix}</dd>
      </dl>
      {openThisDevice && <OpenThisDeviceButton />}
    </section>
  );
}

/** An error from main in words, with the next step; role="alert" so it is announced. */
export function ErrorAlert({
  error,
  problem,
  context,
  compact = false,
}: {
  error?: IpcError;
  /** A problem found before calling main (plain text). */
  problem?: string;
  context?: ErrorContext;
  compact?: boolean;
}) {
  if (!error && !problem) return null;
  if (!error) {
    return (
      <div role="alert" className="alert">
        <p className="alert-message">{problem}</p>
      </div>
    );
  }
  const text = describeError(error, context);
  return (
    <div role="alert" className={`alert${compact ? ' alert-compact' : ''}`}>
      <p className="alert-message">{text.message}</p>
      <p className="alert-next">{text.nextStep}</p>
      {text.detail && text.detail !== text.message && <p className="alert-detail">{text.detail}</p>}
      {text.denial && <DenialPanel denial={text.denial} openThisDevice={text.openThisDevice === true} />}
    </div>
  );
}
