// "Keyboard shortcuts": the app's keys (from the keymap's help list) and what changes inside a
// terminal, where the shell keeps Ctrl+T, Ctrl+K and Ctrl+/ for itself.
import { SHORTCUT_HELP } from '../shortcuts/keymap.ts';
import { useStores } from './stores-context.tsx';
import { useModalDialog } from './use-modal-dialog.ts';

export function ShortcutsDialog() {
  const { ui } = useStores();
  const ref = useModalDialog();
  const close = () => ui.getState().setShortcutsOpen(false);
  return (
    <dialog
      ref={ref}
      className="dialog dialog-wide"
      aria-labelledby="shortcuts-title"
      onCancel={(e) => {
        e.preventDefault();
        close();
      }}
    >
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <table className="shortcuts-table" aria-label="Keyboard shortcuts">
        <thead>
          <tr>
            <th scope="col">What it does</th>
            <th scope="col">Keys</th>
            <th scope="col">In a terminal</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUT_HELP.map((row) => (
            <tr key={row.does}>
              <th scope="row">{row.does}</th>
              <td>{row.keys ? <kbd>{row.keys}</kbd> : <span className="muted">—</span>}</td>
              <td>
                <kbd>{row.inTerminal ?? row.keys}</kbd>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">
        Inside a terminal the shell keeps Ctrl+T, Ctrl+K and Ctrl+/ (swap characters, delete to the end of the line,
        undo): add Shift for the app. In a browser tab the browser may keep Ctrl+T, Ctrl+Tab and Ctrl+1…9 for its own
        tabs; the desktop app has them all.
      </p>
      <div className="actions">
        <button type="button" className="button button-primary" onClick={close} autoFocus>
          Close
        </button>
      </div>
    </dialog>
  );
}
