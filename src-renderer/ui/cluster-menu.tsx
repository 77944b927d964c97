// The "Cluster: <name>" switcher: a menu button (WAI-ARIA menu pattern) with the other clusters,
// "Add cluster" and "Log out". Arrow keys move, Escape closes and returns focus to the button.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { ClusterSummary } from '../../src-main/ipc/contract.ts';
import { useSession, useStores } from './stores-context.tsx';
import { useModalDialog } from './use-modal-dialog.ts';
import { ChevronDown } from './icons.tsx';

type Item = { key: string; label: string; hint?: string; run(): void; danger?: boolean };

export function ClusterMenu({ current }: { current: ClusterSummary }) {
  const { actions, ui, session } = useStores();
  const clusters = useSession((s) => s.clusters);
  const busy = useSession((s) => s.busy);
  const [open, setOpen] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const itemRefs = useRef<Array<HTMLButtonElement | null>>([]);
  const menuId = useId();

  const items: Item[] = [
    ...clusters
      .filter((c) => c.proxy !== current.proxy)
      .map((c) => ({
        key: `switch:${c.proxy}`,
        label: c.clusterName,
        hint: c.proxy,
        run: () => void actions.switchCluster(c.proxy),
      })),
    { key: 'device', label: 'This device', run: () => actions.openThisDevice() },
    {
      key: 'add',
      label: 'Add cluster',
      run: () => {
        session.getState().resetForms();
        ui.getState().setAddingCluster(true);
      },
    },
    ...(current.session
      ? [{ key: 'logout', label: 'Log out', run: () => actions.requestLogout(current.proxy), danger: true }]
      : []),
    { key: 'remove', label: 'Remove cluster', run: () => setConfirmRemove(true), danger: true },
  ];

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) buttonRef.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    itemRefs.current[0]?.focus();
    const onPointer = (e: PointerEvent) => {
      const t = e.target as Node;
      if (!menuRef.current?.contains(t) && !buttonRef.current?.contains(t)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  const onMenuKey = (e: KeyboardEvent) => {
    const els = itemRefs.current.filter((x): x is HTMLButtonElement => x !== null);
    const at = els.indexOf(document.activeElement as HTMLButtonElement);
    const focus = (i: number) => els[(i + els.length) % els.length]?.focus();
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        focus(at + 1);
        break;
      case 'ArrowUp':
        e.preventDefault();
        focus(at - 1);
        break;
      case 'Home':
        e.preventDefault();
        focus(0);
        break;
      case 'End':
        e.preventDefault();
        focus(els.length - 1);
        break;
      case 'Escape':
        e.preventDefault();
        close(true);
        break;
      case 'Tab':
        close(false);
        break;
    }
  };

  return (
    <div className="menu-anchor">
      <button
        ref={buttonRef}
        type="button"
        className="cluster-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        disabled={busy}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && !open) {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        <span className="cluster-button-label">Cluster: {current.clusterName}</span>
        <ChevronDown />
      </button>
      {open && (
        <div ref={menuRef} id={menuId} role="menu" aria-label="Clusters" className="menu" onKeyDown={onMenuKey}>
          {items.map((item, i) => (
            <button
              key={item.key}
              ref={(el) => {
                itemRefs.current[i] = el;
              }}
              type="button"
              role="menuitem"
              tabIndex={-1}
              aria-label={item.hint ? item.label : undefined}
              title={item.hint}
              className={`menu-item${item.danger ? ' menu-item-danger' : ''}${item.key === 'add' ? ' menu-item-separated' : ''}`}
              onClick={() => {
                close(true);
                item.run();
              }}
            >
              <span>{item.label}</span>
              {item.hint && <span className="menu-item-hint">{item.hint}</span>}
            </button>
          ))}
        </div>
      )}
      {confirmRemove && (
        <RemoveClusterDialog
          cluster={current}
          onClose={(remove) => {
            setConfirmRemove(false);
            if (remove) void actions.removeCluster(current.proxy);
            else buttonRef.current?.focus();
          }}
        />
      )}
    </div>
  );
}

/** Confirms "Remove cluster": it logs out, closes its terminals and forgets the pinned CA. */
function RemoveClusterDialog({ cluster, onClose }: { cluster: ClusterSummary; onClose(remove: boolean): void }) {
  const ref = useModalDialog();
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="remove-title"
      aria-describedby="remove-text"
      onCancel={(e) => {
        e.preventDefault();
        onClose(false);
      }}
    >
      <h2 id="remove-title">Remove {cluster.clusterName}?</h2>
      <p id="remove-text" className="lead">
        Gatehouse logs you out of <span className="mono">{cluster.proxy}</span>, closes its terminals and forgets its
        certificate authority. You can add it again later.
      </p>
      <div className="actions">
        <button type="button" className="button button-secondary" onClick={() => onClose(false)} autoFocus>
          Cancel
        </button>
        <button type="button" className="button button-danger" onClick={() => onClose(true)}>
          Remove
        </button>
      </div>
    </dialog>
  );
}
