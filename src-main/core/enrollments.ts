// Which clusters this device is enrolled in, so login knows to try device authentication (and a
// user without any enrollment never has the TPM opened at login). enrollments.json in the device
// store (device-home.ts: shared by gate and the app), 0600. A record is a hint, not a credential: the cluster's device record and the TPM's AK are
// what count, so a stale record only costs one failed device authentication with its reason.
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { readJsonIfExists, writeFileAtomic } from './files.ts';

const RecordSchema = z.object({
  /** Cluster name (what the cluster calls itself at login). */
  cluster: z.string().min(1),
  /** Canonical host:port the enrollment ran through. */
  proxy: z.string().min(1),
  deviceId: z.string().min(1),
  assetTag: z.string(),
  osType: z.string(),
  credentialId: z.string(),
  attestationType: z.string(),
  /** ISO time. */
  enrolledAt: z.string(),
});
export type EnrollmentRecord = z.infer<typeof RecordSchema>;

const FileSchema = z.object({ version: z.literal(1), enrollments: z.array(RecordSchema) });

export function enrollmentsPath(deviceHome: string): string {
  return join(deviceHome, 'enrollments.json');
}

export class EnrollmentStore {
  readonly path: string;

  constructor(deviceHome: string) {
    this.path = enrollmentsPath(deviceHome);
  }

  list(): EnrollmentRecord[] {
    const raw = readJsonIfExists(this.path);
    if (raw === undefined) return [];
    const r = FileSchema.safeParse(raw);
    if (!r.success) {
      throw new GatehouseError(
        ErrorCode.STORAGE,
        `${this.path} is damaged; remove it and enroll this device again with "gate device enroll"`,
        { path: this.path },
      );
    }
    return r.data.enrollments;
  }

  /**
   * The record for a cluster reached through `proxy`: same cluster name and proxy first, else the
   * same cluster name through another address of it.
   */
  find(cluster: string, proxy: string): EnrollmentRecord | undefined {
    const same = this.list().filter((e) => e.cluster === cluster);
    return same.find((e) => e.proxy === proxy) ?? same[0];
  }

  /** Adds or replaces the record of (cluster, proxy). */
  save(record: EnrollmentRecord): void {
    const parsed = RecordSchema.parse(record);
    const rest = this.list().filter((e) => !(e.cluster === parsed.cluster && e.proxy === parsed.proxy));
    const file = { version: 1 as const, enrollments: [...rest, parsed] };
    writeFileAtomic(this.path, JSON.stringify(file, null, 2) + '\n');
  }

  /** Forgets the records of a cluster (e.g. the cluster says the device is no longer enrolled). */
  remove(cluster: string): boolean {
    const all = this.list();
    const rest = all.filter((e) => e.cluster !== cluster);
    if (rest.length === all.length) return false;
    writeFileAtomic(this.path, JSON.stringify({ version: 1, enrollments: rest }, null, 2) + '\n');
    return true;
  }
}
