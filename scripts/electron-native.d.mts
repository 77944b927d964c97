// Types of scripts/electron-native.mjs for the TypeScript tests that import it.
export declare const MAIN_EXTERNAL_PACKAGES: string[];
export declare const REBUILD_MODULES: string[];
export declare const GYP_DIRS: string[];
export declare const NOT_FOR_MAIN: string[];
export declare const MAIN_RUNTIME_PACKAGES: string[];
export declare const ELECTRON_HEADERS_URL: string;
export declare function installedElectronVersion(root: string): string;
export declare function electronGypEnv(env: Record<string, string | undefined>): Record<string, string | undefined>;
export declare function electronGypArgs(version: string, arch: string): string[];
export declare function electronRebuildOptions(opts: { root: string; version: string; arch: string }): {
  buildPath: string;
  electronVersion: string;
  arch: string;
  onlyModules: string[];
  force: boolean;
  mode: 'sequential';
  buildFromSource: boolean;
};
export interface GypSpawnOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  stdio: 'inherit';
}
export declare function rebuildForElectron(opts: {
  root: string;
  version?: string;
  arch?: string;
  rebuild?: (options: ReturnType<typeof electronRebuildOptions>) => Promise<void>;
  spawn?: (command: string, args: string[], options: GypSpawnOptions) => { status: number | null };
}): Promise<void>;
