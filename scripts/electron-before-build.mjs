// electron-builder's beforeBuild hook (electron-builder.yml): rebuilds only the native code the
// Electron main process loads, against Electron's headers (scripts/electron-native.mjs), then
// answers false so electron-builder does not run its own rebuild of every native dependency.
import { rebuildForElectron } from './electron-native.mjs';

/** @param {{ appDir: string; electronVersion: string; platform: { nodeName: string }; arch: string }} context */
export default async function beforeBuild(context) {
  if (context.platform.nodeName !== process.platform) {
    throw new Error(`native modules cannot be cross-compiled: build the ${context.platform.nodeName} package there`);
  }
  await rebuildForElectron({ root: context.appDir, version: context.electronVersion, arch: context.arch });
  return false;
}
