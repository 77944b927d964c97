// The request channels as a runtime list, so a transport (the browser bridge, a test fake) can
// build `api.clusters.add(...)` style namespaces without importing the contract at runtime.
// `satisfies Record<RequestChannel, true>` makes tsc fail when the contract gains or loses a
// channel and this list is not updated.
import type { ChannelNamespaces, IpcResult, RequestChannel } from '../../src-main/ipc/contract.ts';

const channelSet = {
  'app.info': true,
  'clusters.list': true,
  'clusters.probe': true,
  'clusters.add': true,
  'clusters.remove': true,
  'clusters.select': true,
  'auth.login': true,
  'auth.logout': true,
  'resources.listServers': true,
  'resources.listDatabases': true,
  'gateways.createDb': true,
  'resources.listApps': true,
  'gateways.createApp': true,
  'gateways.launchApp': true,
  'gateways.list': true,
  'gateways.setPort': true,
  'gateways.close': true,
  'gateways.runClient': true,
  'terminals.open': true,
  'terminals.resize': true,
  'terminals.close': true,
  'shell.openExternal': true,
  'device.status': true,
  'device.enroll': true,
  'device.diagnostics': true,
  'device.myDevices': true,
} as const satisfies Record<RequestChannel, true>;

export const requestChannels = Object.keys(channelSet) as RequestChannel[];

export type Invoke = (channel: RequestChannel, input: unknown) => Promise<IpcResult<unknown>>;

/** `invoke('clusters.add', input)` exposed as `namespaces.clusters.add(input)`. */
export function buildNamespaces(invoke: Invoke): ChannelNamespaces {
  const namespaces: Record<string, Record<string, (input: unknown) => Promise<IpcResult<unknown>>>> = {};
  for (const channel of requestChannels) {
    const [ns, method] = channel.split('.') as [string, string];
    (namespaces[ns] ??= {})[method] = (input: unknown) => invoke(channel, input);
  }
  return namespaces as unknown as ChannelNamespaces;
}
