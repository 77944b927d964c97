// A cluster's proxy address, or its several in failover order ("Proxies a:3080, b:3080"): the
// first is the one the app keys the cluster by and tries first. Addresses only, never keys.
import { Fragment } from 'react';

export function ProxyAddresses({ proxies }: { proxies: readonly string[] }) {
  return (
    <>
      {proxies.length > 1 ? 'Proxies ' : 'Proxy '}
      {proxies.map((p, i) => (
        <Fragment key={p}>
          {i > 0 && ', '}
          <span className="mono">{p}</span>
        </Fragment>
      ))}
    </>
  );
}
