// "Connect to <database>": pick the db user and db name (from what the roles allow; typed when
// they allow any), then main opens a local gateway and its tab is shown. Refusals (no session,
// a taken port, an unknown database) stay in the dialog in words with the next step.
import { useId, useState, type FormEvent } from 'react';
import type { ClusterSummary, DatabaseSummary, IpcError } from '../../src-main/ipc/contract.ts';
import { dbChoice, PROTOCOL_NAMES, type DbChoice } from '../databases/database-filter.ts';
import { ErrorAlert, Spinner } from './feedback.tsx';
import { useStores } from './stores-context.tsx';
import { useModalDialog } from './use-modal-dialog.ts';

/** What a picker starts with: the first allowed value, or empty for the person to type. */
const initial = (choice: DbChoice) => (choice.kind === 'pick' ? choice.options[0]! : '');

export function DbConnectDialog({
  cluster,
  database,
  onDone,
}: {
  cluster: ClusterSummary;
  database: DatabaseSummary;
  onDone: () => void;
}) {
  const { actions } = useStores();
  const ref = useModalDialog();
  const id = useId();
  const users = dbChoice(database.allowedDbUsers);
  const names = dbChoice(database.allowedDbNames);
  const [dbUser, setDbUser] = useState(initial(users));
  const [dbName, setDbName] = useState(initial(names));
  const [error, setError] = useState<IpcError | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(undefined);
    setError(undefined);
    const user = dbUser.trim();
    const name = dbName.trim();
    if (!user) return setProblem('Enter the database user to connect as.');
    if (/[\s"'\\]/.test(user) || /[\s"'\\]/.test(name))
      return setProblem('Database users and names have no spaces, quotes or backslashes.');
    setBusy(true);
    const refused = await actions.connectDatabase(cluster.proxy, database, {
      dbUser: user,
      ...(name ? { dbName: name } : {}),
    });
    setBusy(false);
    if (refused) setError(refused);
    else onDone();
  };

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={`${id}-title`}
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onDone();
      }}
    >
      <h2 id={`${id}-title`}>Connect to {database.name}</h2>
      <p className="lead">
        {PROTOCOL_NAMES[database.protocol]} on {cluster.clusterName}. Gatehouse opens a local port for your database
        client; nothing else to set up.
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <DbField id={`${id}-user`} label="Database user" choice={users} value={dbUser} onChange={setDbUser} />
        <DbField
          id={`${id}-name`}
          label="Database name"
          choice={names}
          value={dbName}
          onChange={setDbName}
          optionalHint={
            database.protocol === 'postgres' ? 'Empty: the database named like the user.' : 'Empty: none selected.'
          }
        />
        <ErrorAlert error={error} problem={problem} context={{ proxy: cluster.proxy }} />
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={busy || users.kind === 'none'}>
            {busy && <Spinner />}
            Connect
          </button>
          <button type="button" className="button button-secondary" disabled={busy} onClick={onDone}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
}

function DbField(props: {
  id: string;
  label: string;
  choice: DbChoice;
  value: string;
  onChange: (v: string) => void;
  optionalHint?: string;
}) {
  const { id, label, choice, value, onChange, optionalHint } = props;
  if (choice.kind === 'pick') {
    return (
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <select id={id} className="select" value={value} onChange={(e) => onChange(e.target.value)}>
          {choice.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </div>
    );
  }
  if (choice.kind === 'none') {
    return (
      <div className="field">
        <span className="field-label">{label}</span>
        <p className="hint">Your roles allow none here. Ask your administrator for access.</p>
      </div>
    );
  }
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        autoComplete="off"
        spellCheck={false}
        list={choice.suggestions.length ? `${id}-list` : undefined}
        aria-describedby={optionalHint ? `${id}-hint` : undefined}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
      {choice.suggestions.length > 0 && (
        <datalist id={`${id}-list`}>
          {choice.suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      )}
      {optionalHint && (
        <p id={`${id}-hint`} className="hint">
          {optionalHint}
        </p>
      )}
    </div>
  );
}
