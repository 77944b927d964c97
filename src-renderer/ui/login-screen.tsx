// "Log in to <cluster>": shown for the current cluster while it has no session. While the
// launcher still adds a new cluster (cluster.adding) the form is there already, named by the
// proxy until the cluster's name comes; a failed add shows its error above the form.
import type { ClusterSummary } from '../../src-main/ipc/contract.ts';
import { ErrorAlert } from './feedback.tsx';
import { LoginForm } from './login-form.tsx';
import { ProxyAddresses } from './proxy-addresses.tsx';

export function LoginScreen({ cluster }: { cluster: ClusterSummary }) {
  return (
    <main className="centered-page">
      <div className="card card-narrow">
        <h1>Log in to {cluster.clusterName}</h1>
        <p className="lead" data-testid="cluster-proxies">
          <ProxyAddresses proxies={cluster.proxies ?? [cluster.proxy]} />
        </p>
        {cluster.adding === 'failed' && <ErrorAlert error={cluster.addError} context={{ proxy: cluster.proxy }} />}
        <LoginForm key={cluster.proxy} cluster={cluster} submitLabel="Log in" idPrefix="login" />
        <p className="footnote">
          Cluster certificate authority <span className="mono fingerprint">{cluster.caFingerprint}</span>
        </p>
      </div>
    </main>
  );
}
