// The launcher's NEW cluster as the renderer sees it while its add runs (issue 16). Adding a
// cluster the home has never seen needs the network (TLS ping, CA pin check) and the cluster
// client's modules, ~0.35 s on a small machine; the login form must not wait for that. So
// clusters.list carries a placeholder row for it at once ('connecting', the pin the launcher was
// given, the proxy in place of the not yet known cluster name), replaced by the stored entry when
// the add resolves, or marked 'failed' with the add's error (its code says the next step).
import type { ClusterSummary, IpcError } from '../ipc/contract.ts';

export type LaunchAddState = { kind: 'connecting' } | { kind: 'failed'; error: IpcError } | { kind: 'done' };

export class LaunchAddRow {
  private state: LaunchAddState = { kind: 'connecting' };

  /**
   * `proxy` canonical ("host:port", as the stored entry will have it); `caFingerprint` the pin
   * the launcher passed (SHA256:hex), or '' when it pins on first use.
   */
  constructor(
    readonly proxy: string,
    private readonly caFingerprint: string,
  ) {}

  get current(): LaunchAddState {
    return this.state;
  }

  /** The add finished: the stored entry is the row from now on. */
  resolved(): void {
    this.state = { kind: 'done' };
  }

  /** The add failed: the row stays, with the error to show in place of the login. */
  failed(error: IpcError): void {
    this.state = { kind: 'failed', error };
  }

  /**
   * `list` (the stored clusters) with the placeholder row while the add is not done. The
   * placeholder is current only when no stored cluster is, as the added entry would be.
   */
  decorate(list: ClusterSummary[]): ClusterSummary[] {
    const state = this.state;
    if (state.kind === 'done' || list.some((c) => c.proxy === this.proxy)) return list;
    const row: ClusterSummary = {
      proxy: this.proxy,
      clusterName: this.proxy,
      secondFactor: 'off',
      caFingerprint: this.caFingerprint,
      current: !list.some((c) => c.current),
      adding: state.kind,
      ...(state.kind === 'failed' ? { addError: state.error } : {}),
    };
    return [...list, row];
  }
}
