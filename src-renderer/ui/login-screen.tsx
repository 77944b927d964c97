// "Log in to <cluster>": shown for the current cluster while it has no session.
import type { ClusterSummary } from '../../src-main/ipc/contract.ts';
import { LoginForm } from './login-form.tsx';

export function LoginScreen({ cluster }: { cluster: ClusterSummary }) {
  return (
    <main className="centered-page">
      <div className="card card-narrow">
        <h1>Log in to {cluster.clusterName}</h1>
        <p className="lead">
          Proxy <span className="mono">{cluster.proxy}</span>
        </p>
        <LoginForm key={cluster.proxy} cluster={cluster} submitLabel="Log in" idPrefix="login" />
        <p className="footnote">
          Cluster certificate authority <span className="mono fingerprint">{cluster.caFingerprint}</span>
        </p>
      </div>
    </main>
  );
}
