// A TPM session for device trust: EK evidence, the attestation key (created once, its blob kept
// in the cache dir, recreated when the TPM no longer accepts it), credential activation, quotes.
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { loadTpmAddon, type AkCreation, type NativeTpm, type Quote, type TpmAddon, type TpmInfo } from './addon.ts';
import { readAkBlob, removeAkBlob, writeAkBlob } from './ak-store.ts';
import { tpmCall } from './tpm-errors.ts';

export const DEFAULT_TPM_TCTI = 'device:/dev/tpmrm0';

export interface TpmClientOptions {
  /** Where the AK blob lives (the user's cache dir). */
  cacheDir: string;
  /** TCTI config; default: $GATEHOUSE_TPM_TCTI, else device:/dev/tpmrm0. */
  tcti?: string;
  env?: NodeJS.ProcessEnv;
  /** Defaults to loadTpmAddon() from addonPath. */
  addon?: TpmAddon;
  /** Where the built addon is (a packaged app's resources dir); default: the repository's build. */
  addonPath?: string;
  /** Told when something the user may notice happened, e.g. the AK was recreated. */
  onNotice?: (message: string) => void;
}

export function tctiFrom(opts: { tcti?: string; env?: NodeJS.ProcessEnv }): string {
  return opts.tcti ?? (opts.env ?? process.env).GATEHOUSE_TPM_TCTI ?? DEFAULT_TPM_TCTI;
}

/**
 * Every public method goes through one promise chain per client, so TPM operations run one at a
 * time in call order. The native object also has a mutex (an ESYS context is not thread-safe),
 * but waiting on it would park a libuv thread per queued call; queuing here keeps at most one on
 * it, and makes attestationKey's load-or-create a single step when two callers race.
 */
export class TpmClient {
  readonly tcti: string;
  private readonly tpm: NativeTpm;
  private readonly cacheDir: string;
  private readonly onNotice: (message: string) => void;
  private ak: { handle: number; creation: AkCreation } | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(tcti: string, tpm: NativeTpm, opts: TpmClientOptions) {
    this.tcti = tcti;
    this.tpm = tpm;
    this.cacheDir = opts.cacheDir;
    this.onNotice = opts.onNotice ?? (() => {});
  }

  static async open(opts: TpmClientOptions): Promise<TpmClient> {
    const addon = opts.addon ?? loadTpmAddon(opts.addonPath ? { path: opts.addonPath } : {});
    const tcti = tctiFrom(opts);
    const tpm = await tpmCall(async () => {
      const t = new addon.Tpm(tcti);
      await t.open();
      return t;
    });
    return new TpmClient(tcti, tpm, opts);
  }

  /** DER of the EK certificate from NV, or null when the TPM has none (send ekPublic instead). */
  ekCertificate(): Promise<Buffer | null> {
    return this.serial(() => this.tpm.readEkCert());
  }

  /** Manufacturer, vendor string and firmware version, for "This device" and diagnostics. */
  info(): Promise<TpmInfo> {
    return this.serial(() => this.tpm.getInfo());
  }

  /** TPMT_PUBLIC of the EK. */
  ekPublic(): Promise<Buffer> {
    return this.serial(() => this.tpm.ekPublic());
  }

  /**
   * The attestation key with its creation evidence, loaded and ready. Uses the stored blob; a
   * blob this TPM rejects (another TPM, cleared hierarchy) is replaced by a new AK, with a notice,
   * since the old one can never work again and the device must then be re-enrolled.
   */
  attestationKey(): Promise<AkCreation> {
    return this.serial(async () => (await this.loadedAk()).creation);
  }

  /** TPM2_ActivateCredential with the AK and EK: the secret the server sealed to them. */
  activateCredential(credentialBlob: Buffer, encryptedSecret: Buffer): Promise<Buffer> {
    return this.serial(async () => {
      const { handle } = await this.loadedAk();
      return this.tpm.activateCredential(handle, credentialBlob, encryptedSecret);
    });
  }

  /** Quotes SHA-256 PCRs with the nonce as extraData (hash nonces longer than 64 bytes first). */
  quote(nonce: Buffer, pcrs: number[]): Promise<Quote> {
    return this.serial(async () => {
      const { handle } = await this.loadedAk();
      return this.tpm.quote(handle, nonce, pcrs);
    });
  }

  /** SHA-256 PCR values by index; what a quote over the same list digests, in ascending order. */
  readPcrs(pcrs: number[]): Promise<Map<number, Buffer>> {
    const indices = [...new Set(pcrs)].sort((a, b) => a - b);
    return this.serial(async () => {
      const values = await this.tpm.pcrRead(indices);
      if (values.length !== indices.length) {
        throw new GatehouseError(
          ErrorCode.TPM_ERROR,
          `the TPM returned ${values.length} PCR values for ${indices.length} PCRs`,
        );
      }
      return new Map(indices.map((pcr, i) => [pcr, values[i]!]));
    });
  }

  /** Flushes the AK and closes the connection, after the calls already queued. */
  close(): Promise<void> {
    return this.serial(async () => {
      if (this.ak) {
        const { handle } = this.ak;
        this.ak = undefined;
        try {
          await this.tpm.flush(handle);
        } catch {
          // closing anyway; the TPM drops it on its own when the connection ends behind a resource manager
        }
      }
      await this.tpm.close();
    });
  }

  /** Runs fn after every call queued before it, whether those succeeded or not. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(
      () => tpmCall(fn),
      () => tpmCall(fn),
    );
    this.tail = run.catch(() => {});
    return run;
  }

  // Only from inside serial(): not queued itself.
  private async loadedAk(): Promise<{ handle: number; creation: AkCreation }> {
    if (this.ak) return this.ak;
    const stored = readAkBlob(this.cacheDir);
    if (stored) {
      try {
        const handle = await tpmCall(() => this.tpm.loadAk(stored.public, stored.private));
        this.ak = { handle, creation: stored };
        return this.ak;
      } catch (e) {
        if (!(e instanceof GatehouseError) || e.code !== ErrorCode.TPM_BINDING) throw e;
        this.onNotice(
          `The stored TPM attestation key does not belong to this TPM (${e.message}); created a new one. ` +
            'Re-enroll this device if it was enrolled with the old key.',
        );
        removeAkBlob(this.cacheDir);
      }
    }
    const creation = await this.tpm.createAk();
    writeAkBlob(this.cacheDir, creation);
    const handle = await this.tpm.loadAk(creation.public, creation.private);
    this.ak = { handle, creation };
    return this.ak;
  }
}
