// User name / password / one-time code, used by the login screen and the expired-session dialog.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ClusterSummary } from '../../src-main/ipc/contract.ts';
import { useSession, useStores } from './stores-context.tsx';
import { ErrorAlert, LoadingStatus } from './feedback.tsx';
import { focusedShellField, readLaunchShell, restoreSelection, type ShellForm } from './launch-shell.ts';

export function LoginForm({
  cluster,
  fixedUser,
  submitLabel,
  idPrefix,
}: {
  cluster: ClusterSummary;
  /** Relogin: the user is known and not editable. */
  fixedUser?: string;
  submitLabel: string;
  idPrefix: string;
}) {
  const { actions } = useStores();
  const form = useSession((s) => s.loginForm);
  // The first login form of a launch starts from what was typed into the host's launch shell.
  const [shell] = useState<ShellForm | undefined>(() =>
    fixedUser === undefined ? readLaunchShell(cluster.proxy) : undefined,
  );
  const [user, setUser] = useState(fixedUser ?? shell?.user?.value ?? '');
  const [password, setPassword] = useState(shell?.password?.value ?? '');
  const [otp, setOtp] = useState(shell?.otp?.value ?? '');
  const [missing, setMissing] = useState<string>();
  const firstRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const otpRef = useRef<HTMLInputElement>(null);
  const wantsOtp = cluster.secondFactor === 'otp';

  useEffect(() => {
    // Where the shell had the focus (and the caret), else the first field, as without a shell.
    const from = focusedShellField(shell);
    const target = { user: firstRef, password: passwordRef, otp: otpRef }[from ?? 'user'].current ?? firstRef.current;
    target?.focus();
    if (target && from) restoreSelection(target, shell?.[from]);
  }, [shell]);
  // After a refused attempt, clear the secrets so the next try starts clean.
  useEffect(() => {
    if (form.error) {
      setPassword('');
      setOtp('');
      passwordRef.current?.focus();
    }
  }, [form.error]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (form.pending || cluster.adding) return;
    const empty = !user.trim() ? 'Enter your user name.' : !password ? 'Enter your password.' : undefined;
    const noOtp = wantsOtp && !otp.trim() ? 'Enter the one-time code from your authenticator app.' : undefined;
    setMissing(empty ?? noOtp);
    if (empty ?? noOtp) return;
    void actions.login({ proxy: cluster.proxy, user, password, ...(wantsOtp ? { otp } : {}) });
  };

  const id = (name: string) => `${idPrefix}-${name}`;
  return (
    <form onSubmit={submit} noValidate>
      {fixedUser === undefined && (
        <div className="field">
          <label htmlFor={id('user')}>User name</label>
          <input
            id={id('user')}
            ref={firstRef}
            type="text"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            value={user}
            onChange={(e) => setUser(e.target.value)}
          />
        </div>
      )}
      <div className="field">
        <label htmlFor={id('password')}>Password</label>
        <input
          id={id('password')}
          ref={(el) => {
            passwordRef.current = el;
            if (fixedUser !== undefined) firstRef.current = el;
          }}
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      {wantsOtp && (
        <div className="field">
          <label htmlFor={id('otp')}>One-time code</label>
          <input
            id={id('otp')}
            ref={otpRef}
            type="text"
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={16}
            className="input-code"
            value={otp}
            onChange={(e) => setOtp(e.target.value)}
          />
        </div>
      )}
      <ErrorAlert problem={form.error ? undefined : missing} error={form.error} context={{ proxy: cluster.proxy }} />
      {form.pending && <LoadingStatus>Logging in…</LoadingStatus>}
      <div className="actions">
        {/* Same button while the cluster is still being added: typing goes on, nothing moves. */}
        <button
          type="submit"
          className="button button-primary button-wide"
          disabled={form.pending || cluster.adding !== undefined}
        >
          {cluster.adding === 'connecting' ? 'Connecting…' : submitLabel}
        </button>
      </div>
    </form>
  );
}
