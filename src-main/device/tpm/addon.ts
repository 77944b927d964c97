// The only place that loads the native TPM addon (native/). Everything else goes through the
// typed interface below, so a missing build or an unsupported OS surfaces as a coded
// GatehouseError at use time instead of breaking `npm ci` or the app's start.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';

/** Platforms with a native source under native/<platform>/. */
const SUPPORTED_PLATFORMS: readonly string[] = ['linux'];

export const DEFAULT_ADDON_PATH = fileURLToPath(
  new URL('../../../native/build/Release/gatehouse_tpm.node', import.meta.url),
);

export interface AkBlob {
  /** TPM2B_PUBLIC, marshaled (2-byte size + TPMT_PUBLIC). */
  public: Buffer;
  /** TPM2B_PRIVATE, marshaled: the key wrapped by the EK, usable only on this TPM. */
  private: Buffer;
}

export interface AkCreation extends AkBlob {
  /** TPMS_CREATION_DATA, marshaled. */
  creationData: Buffer;
  /** TPMS_ATTEST of TPM2_CertifyCreation, signed by the AK itself. */
  creationAttest: Buffer;
  /** TPMT_SIGNATURE over creationAttest, marshaled. */
  creationSignature: Buffer;
}

export interface Quote {
  /** TPMS_ATTEST (TPM_ST_ATTEST_QUOTE) bytes, what the signature covers. */
  attest: Buffer;
  /** TPMT_SIGNATURE, marshaled (sigAlg, hashAlg, TPM2B signature). */
  signature: Buffer;
}

/**
 * One TPM connection. `new Tpm(tcti)` only records the TCTI; every method that talks to the TPM
 * runs on a libuv worker thread and returns a Promise (a real TPM takes seconds to create an EK,
 * which must not block Electron's main thread). Operations on one object never overlap: each takes
 * the object's mutex for its whole run, in the order the threads get it, so callers that care about
 * order (TpmClient) queue their calls. Rejections carry `code`, and `rc`/`rcText` from tpm2-tss.
 */
export interface NativeTpm {
  /** Connects (TCTI, ESYS, TPM2_Startup). Every other call rejects with TPM_CLOSED until it resolved. */
  open(): Promise<void>;
  /** Flushes loaded AKs and disconnects; waits for an operation in flight. */
  close(): Promise<void>;
  /** DER of the EK certificate (RSA index 0x01c00002, else ECC 0x01c0000a), or null. */
  readEkCert(): Promise<Buffer | null>;
  /** TPMT_PUBLIC of the EK from the TCG default RSA template. */
  ekPublic(): Promise<Buffer>;
  createAk(): Promise<AkCreation>;
  /**
   * Loads the AK under the EK; returns a handle that stays loaded until flush() or close(). The EK
   * is the one persisted at the TCG handle 0x81010001 when the AK loads under it; else it is made
   * from the TCG template (slow: an RSA primary key) and, when that handle is free, persisted there.
   */
  loadAk(pub: Buffer, priv: Buffer): Promise<number>;
  flush(akHandle: number): Promise<void>;
  /** credentialBlob: TPM2B_ID_OBJECT contents; encryptedSecret: TPM2B_ENCRYPTED_SECRET contents. */
  activateCredential(akHandle: number, credentialBlob: Buffer, encryptedSecret: Buffer): Promise<Buffer>;
  /** Quotes SHA-256 PCRs; the nonce (≤ 64 bytes) becomes extraData. */
  quote(akHandle: number, nonce: Buffer, pcrs: number[]): Promise<Quote>;
  /** SHA-256 bank values of the distinct indices (0..23) in pcrs, in ascending index order. */
  pcrRead(pcrs: number[]): Promise<Buffer[]>;
  /** Manufacturer, vendor string and firmware version (one GetCapability). */
  getInfo(): Promise<TpmInfo>;
  /** How many times this connection made the EK from its template (no TPM command). */
  ekCreations(): number;
}

/** What the TPM says about itself (TPM2_CAP_TPM_PROPERTIES), for people and the helpdesk. */
export interface TpmInfo {
  /** TPM_PT_MANUFACTURER as up to 4 ASCII letters, trailing spaces/NULs dropped ("IBM", "INTC"). */
  manufacturer: string;
  /** TPM_PT_VENDOR_STRING_1..4 concatenated, the same way. */
  vendor: string;
  /** TPM_PT_FIRMWARE_VERSION_1 and _2 as four 16-bit numbers, "a.b.c.d". */
  firmwareVersion: string;
}

export interface TpmAddon {
  platform: string;
  Tpm: new (tcti: string) => NativeTpm;
}

export interface LoadTpmAddonOptions {
  platform?: string;
  /** Where the built .node file is (packaged apps put it elsewhere). */
  path?: string;
}

export function loadTpmAddon(opts: LoadTpmAddonOptions = {}): TpmAddon {
  const platform = opts.platform ?? process.platform;
  if (!SUPPORTED_PLATFORMS.includes(platform)) {
    throw new GatehouseError(
      ErrorCode.TPM_NOT_SUPPORTED,
      `device trust with a TPM is not supported on ${platform} yet (supported: ${SUPPORTED_PLATFORMS.join(', ')})`,
      { platform },
    );
  }
  const path = opts.path ?? DEFAULT_ADDON_PATH;
  if (!existsSync(path)) {
    throw new GatehouseError(
      ErrorCode.TPM_NOT_SUPPORTED,
      `the TPM addon is not built (${path} is missing): install libtss2-dev and run npm rebuild / node scripts/build-native.mjs`,
      { path },
    );
  }
  try {
    return createRequire(import.meta.url)(path) as TpmAddon;
  } catch (e) {
    throw new GatehouseError(
      ErrorCode.TPM_NOT_SUPPORTED,
      `the TPM addon at ${path} does not load (${(e as Error).message}): install libtss2-dev and run node scripts/build-native.mjs`,
      { path },
    );
  }
}
