// "Close the session to X?" / "Log out of C?": asked before something ends live sessions (the
// question waits in the UI store; the answer goes to actions.answerConfirm). Cancel is focused
// first, so Enter or Escape never ends a session by accident.
import type { PendingConfirm } from '../stores/ui-store.ts';
import { useStores } from './stores-context.tsx';
import { useModalDialog } from './use-modal-dialog.ts';

function wording(confirm: PendingConfirm): { title: string; text: string; yes: string } {
  if (confirm.kind === 'close-tab')
    return {
      title: `Close the session to ${confirm.title}?`,
      text: 'The remote shell ends and whatever runs in it is stopped.',
      yes: 'Close session',
    };
  return {
    title: `Log out of ${confirm.clusterName}?`,
    text: 'Your open terminals and gateways on this cluster close, and you need your password to log in again.',
    yes: 'Log out',
  };
}

export function ConfirmDialog({ confirm }: { confirm: PendingConfirm }) {
  const { actions } = useStores();
  const ref = useModalDialog();
  const words = wording(confirm);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-text"
      onCancel={(e) => {
        e.preventDefault();
        void actions.answerConfirm(false);
      }}
    >
      <h2 id="confirm-title">{words.title}</h2>
      <p id="confirm-text" className="lead">
        {words.text}
      </p>
      <div className="actions">
        <button
          type="button"
          className="button button-secondary"
          onClick={() => void actions.answerConfirm(false)}
          autoFocus
        >
          Cancel
        </button>
        <button type="button" className="button button-danger" onClick={() => void actions.answerConfirm(true)}>
          {words.yes}
        </button>
      </div>
    </dialog>
  );
}
