// Where the Electron shell finds its files, packaged or not, as one pure function so main.ts has
// no path arithmetic and the layout electron-builder.yml produces is checked in a unit test.
//
//   packaged (electron-builder): resources/app.asar/dist/electron/main.cjs   ← bundleDir
//                                resources/app.asar/dist/renderer/          ← rendererDir
//                                resources/native/gatehouse_tpm.node        ← extraResources
//   development (npm run build:electron; electron dist/electron/main.cjs):
//                                <repo>/dist/electron, <repo>/dist/renderer,
//                                <repo>/native/build/Release/gatehouse_tpm.node
import { join } from 'node:path';

/** The addon's name under resources/ in the package (electron-builder.yml extraResources `to`). */
export const PACKAGED_TPM_ADDON = join('native', 'gatehouse_tpm.node');
/** The addon's build output in a checkout (scripts/build-native.mjs). */
export const CHECKOUT_TPM_ADDON = join('native', 'build', 'Release', 'gatehouse_tpm.node');

export interface AppPathsInput {
  /** app.isPackaged */
  isPackaged: boolean;
  /** process.resourcesPath (the package's resources dir). */
  resourcesPath: string;
  /** The folder of main.cjs (__dirname of the bundle): dist/electron. */
  bundleDir: string;
}

export interface AppPaths {
  /** dist/renderer, served on app:// (inside app.asar when packaged). */
  rendererDir: string;
  preloadPath: string;
  /**
   * The TPM addon. Packaged it lies outside the asar (dlopen cannot read inside one), shipped by
   * extraResources; in a checkout it is the build next to the sources.
   */
  tpmAddonPath: string;
}

export function electronAppPaths(input: AppPathsInput): AppPaths {
  const distDir = join(input.bundleDir, '..');
  return {
    rendererDir: join(distDir, 'renderer'),
    preloadPath: join(input.bundleDir, 'preload.cjs'),
    tpmAddonPath: input.isPackaged
      ? join(input.resourcesPath, PACKAGED_TPM_ADDON)
      : join(distDir, '..', CHECKOUT_TPM_ADDON),
  };
}
