// What both device ceremonies share: a request stream the client feeds one message at a time
// (the next message depends on the server's answer), reading the server's answers with a
// deadline per step, TPM calls timed separately from the network (benchmarks report the TPM's
// share), and the device data in its wire shape.
import { create } from '@bufbuild/protobuf';
import {
  DeviceCollectedDataSchema,
  type Device,
  type DeviceCollectedData,
} from '../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { CollectedDeviceData } from '../collect.ts';
import type { AkCreation, Quote } from '../tpm/addon.ts';
import { quoteCoversValues } from './early-pcrs.ts';

/** The TpmClient calls the ceremonies make (TpmClient satisfies it; tests pass a fake). */
export interface CeremonyTpm {
  ekCertificate(): Promise<Buffer | null>;
  ekPublic(): Promise<Buffer>;
  attestationKey(): Promise<AkCreation>;
  activateCredential(credentialBlob: Buffer, encryptedSecret: Buffer): Promise<Buffer>;
  quote(nonce: Buffer, pcrs: number[]): Promise<Quote>;
  readPcrs(pcrs: number[]): Promise<Map<number, Buffer>>;
}

export interface CeremonyTimings {
  /** Wall time of the whole ceremony, TPM included. */
  totalMs: number;
  /** Sum of the TPM calls' durations. */
  tpmMs: number;
  /** Per TPM call name, summed (e.g. { attestationKey: 180, quote: 40 }). */
  tpmCalls: Record<string, number>;
}

export interface StepLimits {
  /** How long to wait for each answer of the server (default 30 s). */
  stepTimeoutMs?: number;
  /** Deadline of the whole call, TPM work included (default 120 s). */
  totalTimeoutMs?: number;
}

export const DEFAULT_STEP_TIMEOUT_MS = 30_000;
export const DEFAULT_TOTAL_TIMEOUT_MS = 120_000;

/** The device as the cluster describes it after enrollment or authentication. */
export interface DeviceSummary {
  id: string;
  assetTag: string;
  osType: string;
  enrollStatus: string;
  credentialId: string;
  /** "ekpub", "ekcert" or "ekcert_trusted". */
  attestationType: string;
}

export function deviceSummary(d: Device | undefined, what: string): DeviceSummary {
  if (!d || !d.id) throw protocolError(`${what} succeeded without naming the device`);
  return {
    id: d.id,
    assetTag: d.assetTag,
    osType: d.osType,
    enrollStatus: d.enrollStatus,
    credentialId: d.credentialId,
    attestationType: d.attestationType,
  };
}

export function protocolError(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.INTERNAL, `the cluster broke the device trust protocol: ${message}`);
}

/**
 * An AsyncIterable of requests fed by push(). Connect sends each pushed message as soon as it
 * is pushed and half-closes the request side on end().
 */
export class RequestQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private ended = false;

  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    this.ended = true;
    if (this.waiting && this.items.length === 0) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      // Connect calls these when the call ends early; either way nothing more is sent.
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
      throw: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/**
 * The next answer of the server, or a PROXY_UNREACHABLE error after `ms` (aborting the call, so
 * neither the stream nor the process hangs on a silent server). `undefined` when the server
 * closed the stream without a further message.
 */
export async function nextAnswer<T>(
  answers: AsyncIterator<T>,
  ms: number,
  what: string,
  abort: AbortController,
): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(
        new GatehouseError(
          ErrorCode.PROXY_UNREACHABLE,
          `the cluster did not answer ${what} within ${Math.round(ms / 1000)} s`,
        ),
      );
    }, ms);
  });
  try {
    const r = await Promise.race([answers.next(), timeout]);
    return r.done ? undefined : r.value;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads a finished call to its end, so Connect settles it (and clears its deadline timer, which
 * would otherwise keep a process alive); anything after the final answer is ignored.
 */
export async function drain<T>(answers: AsyncIterator<T>, ms: number, abort: AbortController): Promise<void> {
  try {
    while ((await nextAnswer(answers, ms, 'the end of the call', abort)) !== undefined) {
      // the protocol has no message after success; ignore what a newer server might add
    }
  } catch {
    // the result is in hand; a late transport error changes nothing
  }
}

/**
 * Ends a call we leave early (error, timeout). Connect clears its deadline timer only when the
 * answers are read after the abort, so read once more.
 */
export async function cancel<T>(answers: AsyncIterator<T>, abort: AbortController): Promise<void> {
  abort.abort();
  await answers.next().catch(() => undefined);
}

/** Wraps a CeremonyTpm so every call's duration is added up. */
export class TimedTpm {
  readonly calls: Record<string, number> = {};
  private total = 0;

  constructor(private readonly tpm: CeremonyTpm) {}

  get ms(): number {
    return this.total;
  }

  run<K extends keyof CeremonyTpm>(name: K, ...args: Parameters<CeremonyTpm[K]>): ReturnType<CeremonyTpm[K]> {
    const started = performance.now();
    const fn = this.tpm[name] as (...a: unknown[]) => Promise<unknown>;
    const done = () => {
      const ms = performance.now() - started;
      this.total += ms;
      this.calls[name] = (this.calls[name] ?? 0) + ms;
    };
    return fn.apply(this.tpm, args).finally(done) as ReturnType<CeremonyTpm[K]>;
  }

  timings(startedAt: number): CeremonyTimings {
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      totalMs: round(performance.now() - startedAt),
      tpmMs: round(this.total),
      tpmCalls: Object.fromEntries(Object.entries(this.calls).map(([k, v]) => [k, round(v)])),
    };
  }
}

/** Checks the PCR list a server asked for (SHA-256 bank, 0..23) before the TPM sees it. */
export function checkedPcrs(pcrs: readonly number[]): number[] {
  if (pcrs.length === 0) throw protocolError('no PCRs to quote');
  for (const p of pcrs) {
    if (!Number.isInteger(p) || p < 0 || p > 23) throw protocolError(`PCR index ${p} is out of range`);
  }
  return [...pcrs];
}

/** Quote + the values of the quoted PCRs: what the server needs to verify the quote. */
export async function platformParameters(
  tpm: TimedTpm,
  nonce: Uint8Array,
  pcrs: number[],
  readEarlier?: ReadonlyMap<number, Buffer>,
): Promise<{ quote: { quote: Buffer; signature: Buffer }; pcrs: { index: number; value: Buffer }[] }> {
  if (nonce.length === 0) throw protocolError('empty attestation nonce');
  const q = await tpm.run('quote', Buffer.from(nonce), pcrs);
  // Values read before the challenge are sent only when the quote covers exactly them (early-pcrs.ts).
  const values = quoteCoversValues(q.attest, pcrs, readEarlier) ? readEarlier! : await tpm.run('readPcrs', pcrs);
  return {
    quote: { quote: q.attest, signature: q.signature },
    pcrs: [...values].map(([index, value]) => ({ index, value })),
  };
}

/** The collected device data in its wire shape. */
export function deviceDataMessage(d: CollectedDeviceData): DeviceCollectedData {
  const t = Date.parse(d.collect_time);
  return create(DeviceCollectedDataSchema, {
    collectTimeUnix: BigInt(Math.floor((Number.isNaN(t) ? Date.now() : t) / 1000)),
    osType: d.os_type,
    serialNumber: d.serial_number,
    serialSource: d.serial_source,
    serialNote: d.serial_note ?? '',
    osId: d.os_id,
    osVersion: d.os_version,
    osVersionId: d.os_version_id ?? '',
    osBuild: d.os_build ?? '',
    hostname: d.hostname,
    osUsername: d.os_username,
    model: d.model ?? '',
  });
}
