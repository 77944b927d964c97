// The top bar's trusted-device indicator: a button named "Device trust: <state>" that opens a
// small non-modal popover with the device (asset tag, credential id, attestation type, when the
// session's device fields were issued) and, when the session is not device-trusted, why and the
// next step. Escape or a click elsewhere closes it and focus returns to the button.
import { useEffect, useId, useRef, useState } from 'react';
import type { SessionInfo } from '../../src-main/ipc/contract.ts';
import { deviceTrustView, type DeviceLock, type IndicatorState } from '../device/device-trust-view.ts';
import { useStores } from './stores-context.tsx';
import '../styles/device-trust.css';

function ShieldIcon({ state }: { state: IndicatorState }) {
  return (
    <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
      <path
        d="M8 1.5l5 2v4c0 3.2-2.1 5.8-5 7-2.9-1.2-5-3.8-5-7v-4z"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.5"
        strokeLinejoin="round"
      />
      {state === 'trusted' ? (
        <path
          d="M5.6 8.2l1.7 1.7 3.2-3.4"
          fill="none"
          stroke="currentColor"
          strokeWidth="1.5"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      ) : (
        <path d="M8 5v3.4M8 10.6v.1" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
      )}
    </svg>
  );
}

export function DeviceTrustIndicator({ session, lock }: { session: SessionInfo; lock?: DeviceLock }) {
  const { actions } = useStores();
  const view = deviceTrustView(session, undefined, lock);
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const popRef = useRef<HTMLDivElement>(null);
  const id = useId();

  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!popRef.current?.contains(t) && !buttonRef.current?.contains(t)) setOpen(false);
    };
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setOpen(false);
      buttonRef.current?.focus();
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  return (
    <div className="menu-anchor">
      <button
        ref={buttonRef}
        type="button"
        className={`device-trust-button device-trust-${view.state}`}
        aria-label={`Device trust: ${view.label}`}
        aria-haspopup="dialog"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        <ShieldIcon state={view.state} />
        <span className="device-trust-label">{view.label[0]!.toUpperCase() + view.label.slice(1)}</span>
      </button>
      {open && (
        <div ref={popRef} id={id} role="dialog" aria-labelledby={`${id}-h`} className="device-trust-popover">
          <h2 id={`${id}-h`} className={`device-trust-heading device-trust-${view.state}`}>
            <ShieldIcon state={view.state} />
            <span>Device {view.label}</span>
          </h2>
          <p className="device-trust-summary">{view.summary}</p>
          {view.requirement && <p className="device-trust-requirement">{view.requirement}</p>}
          <dl className="device-trust-rows">
            {view.rows.map((r) => (
              <div key={r.term} className="device-trust-row">
                <dt>{r.term}</dt>
                <dd className={r.mono ? 'mono' : undefined}>{r.value}</dd>
              </div>
            ))}
          </dl>
          {(view.reason || view.nextStep) && (
            <dl className="device-trust-fix">
              {view.reason && (
                <>
                  <dt>Why</dt>
                  <dd>{view.reason}</dd>
                </>
              )}
              {view.nextStep && (
                <>
                  <dt>Next step</dt>
                  <dd>{view.nextStep}</dd>
                </>
              )}
            </dl>
          )}
          <div className="device-trust-open">
            <button
              type="button"
              className="button button-small"
              onClick={() => {
                setOpen(false);
                actions.openThisDevice();
              }}
            >
              Open This device
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
