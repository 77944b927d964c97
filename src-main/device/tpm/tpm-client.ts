// A TPM session for device trust: EK evidence, the attestation key (created once, its blob kept
// in the cache dir, recreated when the TPM no longer accepts it), credential activation, quotes.
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { loadTpmAddon, type AkCreation, type NativeTpm, type Quote, type TpmAddon } from './addon.ts';
import { readAkBlob, removeAkBlob, writeAkBlob } from './ak-store.ts';
import { tpmCall } from './tpm-errors.ts';

export const DEFAULT_TPM_TCTI = 'device:/dev/tpmrm0';

export interface TpmClientOptions {
  /** Where the AK blob lives (the user's cache dir). */
  cacheDir: string;
  /** TCTI config; default: $GATEHOUSE_TPM_TCTI, else device:/dev/tpmrm0. */
  tcti?: string;
  env?: NodeJS.ProcessEnv;
  /** Defaults to loadTpmAddon(). */
  addon?: TpmAddon;
  /** Told when something the user may notice happened, e.g. the AK was recreated. */
  onNotice?: (message: string) => void;
}

export function tctiFrom(opts: { tcti?: string; env?: NodeJS.ProcessEnv }): string {
  return opts.tcti ?? (opts.env ?? process.env).GATEHOUSE_TPM_TCTI ?? DEFAULT_TPM_TCTI;
}

export class TpmClient {
  readonly tcti: string;
  private readonly tpm: NativeTpm;
  private readonly cacheDir: string;
  private readonly onNotice: (message: string) => void;
  private ak: { handle: number; creation: AkCreation } | undefined;

  private constructor(tcti: string, tpm: NativeTpm, opts: TpmClientOptions) {
    this.tcti = tcti;
    this.tpm = tpm;
    this.cacheDir = opts.cacheDir;
    this.onNotice = opts.onNotice ?? (() => {});
  }

  static open(opts: TpmClientOptions): TpmClient {
    const addon = opts.addon ?? loadTpmAddon();
    const tcti = tctiFrom(opts);
    const tpm = tpmCall(() => new addon.Tpm(tcti));
    return new TpmClient(tcti, tpm, opts);
  }

  /** DER of the EK certificate from NV, or null when the TPM has none (send ekPublic instead). */
  ekCertificate(): Buffer | null {
    return tpmCall(() => this.tpm.readEkCert());
  }

  /** TPMT_PUBLIC of the EK. */
  ekPublic(): Buffer {
    return tpmCall(() => this.tpm.ekPublic());
  }

  /**
   * The attestation key with its creation evidence, loaded and ready. Uses the stored blob; a
   * blob this TPM rejects (another TPM, cleared hierarchy) is replaced by a new AK, with a notice,
   * since the old one can never work again and the device must then be re-enrolled.
   */
  attestationKey(): AkCreation {
    if (this.ak) return this.ak.creation;
    const stored = readAkBlob(this.cacheDir);
    if (stored) {
      try {
        const handle = tpmCall(() => this.tpm.loadAk(stored.public, stored.private));
        this.ak = { handle, creation: stored };
        return stored;
      } catch (e) {
        if (!(e instanceof GatehouseError) || e.code !== ErrorCode.TPM_BINDING) throw e;
        this.onNotice(
          `The stored TPM attestation key does not belong to this TPM (${e.message}); created a new one. ` +
            'Re-enroll this device if it was enrolled with the old key.',
        );
        removeAkBlob(this.cacheDir);
      }
    }
    const creation = tpmCall(() => this.tpm.createAk());
    writeAkBlob(this.cacheDir, creation);
    const handle = tpmCall(() => this.tpm.loadAk(creation.public, creation.private));
    this.ak = { handle, creation };
    return creation;
  }

  /** TPM2_ActivateCredential with the AK and EK: the secret the server sealed to them. */
  activateCredential(credentialBlob: Buffer, encryptedSecret: Buffer): Buffer {
    const handle = this.akHandle();
    return tpmCall(() => this.tpm.activateCredential(handle, credentialBlob, encryptedSecret));
  }

  /** Quotes SHA-256 PCRs with the nonce as extraData (hash nonces longer than 64 bytes first). */
  quote(nonce: Buffer, pcrs: number[]): Quote {
    const handle = this.akHandle();
    return tpmCall(() => this.tpm.quote(handle, nonce, pcrs));
  }

  /** Flushes the AK and closes the connection. */
  close(): void {
    if (this.ak) {
      const { handle } = this.ak;
      this.ak = undefined;
      try {
        this.tpm.flush(handle);
      } catch {
        // closing anyway; the TPM drops it on its own when the connection ends behind a resource manager
      }
    }
    this.tpm.close();
  }

  private akHandle(): number {
    this.attestationKey();
    return this.ak!.handle;
  }
}
