// DeviceService's view of the client core: GatehouseClient's device calls (the same ones `gate
// device ...` uses), with the app's shared cluster connection for device authentication, the
// route certificate cache, and the session shape the renderer sees. Kept apart so the service's
// rules are tested with a fake core (test-support/fake-device-core.ts).
import { diagnosticsText } from '../core/device-diagnostics.ts';
import type { GatehouseClient } from '../core/gatehouse-client.ts';
import type { DeviceCore } from './device-service.ts';
import { sessionInfoOf, type ClusterClients } from './sessions.ts';

export function deviceCoreOf(core: GatehouseClient, clients: ClusterClients): DeviceCore {
  return {
    deviceHome: core.deviceHome,
    deviceStatus: (o) => core.deviceStatus({ ...(o.proxy ? { proxy: o.proxy } : {}), refresh: o.refresh === true }),
    enrollDevice: (o) =>
      core.enrollDevice({
        proxy: o.proxy,
        ...(o.token !== undefined ? { token: o.token } : { auto: true }),
        ...(o.onStep ? { onStep: o.onStep } : {}),
      }),
    myDevices: (proxy) => core.myDevices(proxy),
    async diagnostics(o) {
      const d = await core.deviceDiagnostics({
        ...(o.proxy ? { proxy: o.proxy } : {}),
        client: 'desktop',
        version: o.version,
      });
      // The core's diagnostics are JSON-safe by design (no secrets, no class instances).
      return { text: diagnosticsText(d), json: JSON.parse(JSON.stringify(d)) as Record<string, unknown> };
    },
    async authenticateDevice(profile) {
      const cluster = await clients.get(profile.proxy);
      const outcome = await core.device.authenticate(cluster, profile);
      return outcome.deviceTrust.state === 'trusted' ? outcome.profile : undefined;
    },
    forgetRouteCertificates: (profile) => core.routeCertificates.forget(profile),
    sessionInfo: (profile, now) => sessionInfoOf(core, profile, now),
  };
}
