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

  static async open(opts: TpmClientOptions): Promise<TpmClient> {
    const addon = opts.addon ?? loadTpmAddon();
    const tcti = tctiFrom(opts);
    const tpm = tpmCall(() => new addon.Tpm(tcti));
    return new TpmClient(tcti, tpm, opts);
  }

  /** DER of the EK certificate from NV, or null when the TPM has none (send ekPublic instead). */
  async ekCertificate(): Promise<Buffer | null> {
    return tpmCall(() => this.tpm.readEkCert());
  }

  /** TPMT_PUBLIC of the EK. */
  async ekPublic(): Promise<Buffer> {
    return tpmCall(() => this.tpm.ekPublic());
  }

  /**
   * The attestation key with its creation evidence, loaded and ready. Uses the stored blob; a
   * blob this TPM rejects (another TPM, cleared hierarchy) is replaced by a new AK, with a notice,
   * since the old one can never work again and the device must then be re-enrolled.
   */
  async attestationKey(): Promise<AkCreation> {
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
  async activateCredential(credentialBlob: Buffer, encryptedSecret: Buffer): Promise<Buffer> {
    const handle = await this.akHandle();
    return tpmCall(() => this.tpm.activateCredential(handle, credentialBlob, encryptedSecret));
  }

  /** Quotes SHA-256 PCRs with the nonce as extraData (hash nonces longer than 64 bytes first). */
  async quote(nonce: Buffer, pcrs: number[]): Promise<Quote> {
    const handle = await this.akHandle();
    return tpmCall(() => this.tpm.quote(handle, nonce, pcrs));
  }

  /** SHA-256 PCR values by index; what a quote over the same list digests, in ascending order. */
  async readPcrs(pcrs: number[]): Promise<Map<number, Buffer>> {
    const indices = [...new Set(pcrs)].sort((a, b) => a - b);
    const values = tpmCall(() => this.tpm.pcrRead(indices));
    if (values.length !== indices.length) {
      throw new GatehouseError(
        ErrorCode.TPM_ERROR,
        `the TPM returned ${values.length} PCR values for ${indices.length} PCRs`,
      );
    }
    return new Map(indices.map((pcr, i) => [pcr, values[i]!]));
  }

  /** Flushes the AK and closes the connection. */
  async close(): Promise<void> {
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

  private async akHandle(): Promise<number> {
    await this.attestationKey();
    return this.ak!.handle;
  }
}
