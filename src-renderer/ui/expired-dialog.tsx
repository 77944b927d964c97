// "Your session expired": a modal over the app (native <dialog>, so focus stays inside and the
// page behind is inert) asking for the password again. Tabs stay open behind it.
import type { ClusterSummary } from '../../src-main/ipc/contract.ts';
import { LoginForm } from './login-form.tsx';
import { useStores } from './stores-context.tsx';
import { useModalDialog } from './use-modal-dialog.ts';

export function ExpiredDialog({ cluster, user }: { cluster: ClusterSummary; user: string }) {
  const { actions } = useStores();
  const ref = useModalDialog();

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="expired-title"
      aria-describedby="expired-text"
      // Escape would leave the app unusable behind an expired session; log out is the way out.
      onCancel={(e) => e.preventDefault()}
    >
      <h2 id="expired-title">Your session expired</h2>
      <p id="expired-text" className="lead">
        Log in again to keep working on <strong>{cluster.clusterName}</strong> as <strong>{user}</strong>. Open
        terminals stay where they are.
      </p>
      <LoginForm cluster={cluster} fixedUser={user} submitLabel="Log in again" idPrefix="relogin" />
      <div className="dialog-secondary">
        <button type="button" className="button button-link" onClick={() => actions.requestLogout(cluster.proxy)}>
          Log out instead
        </button>
      </div>
    </dialog>
  );
}
