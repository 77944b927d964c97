// The last device-trust errors on this device (enrollment, device authentication, auto-enroll),
// kept in the device store so the helpdesk sees them in diagnostics whichever client failed and
// however long ago. trust-errors.json, 0600, replaced atomically. Never holds a token: callers
// pass the error's message, and messages of enroll failures never contain the token.
import { join } from 'node:path';
import { z } from 'zod';
import { ERROR_TABLE, type ErrorCode } from '../../src-shared/errors.ts';
import type { EnrollStepName } from './enroll-steps.ts';
import { readJsonIfExists, writeFileAtomic } from './files.ts';
import { systemClock, type Clock } from './types.ts';

export const JOURNAL_FILE = 'trust-errors.json';
/** How many entries are kept; older ones are dropped. */
export const JOURNAL_LIMIT = 20;
/** A message longer than this is cut (a journal entry is a hint, not a log). */
const MESSAGE_LIMIT = 1000;

export interface JournalEntry {
  at: string;
  code: ErrorCode;
  message: string;
  step?: EnrollStepName;
  cluster?: string;
}

const EntrySchema = z.object({
  at: z.string(),
  code: z.string().refine((c) => c in ERROR_TABLE),
  message: z.string(),
  step: z.enum(['check-tpm', 'create-ak', 'activate-credential', 'quote', 'authenticate', 'done']).optional(),
  cluster: z.string().optional(),
});
const FileSchema = z.object({ version: z.literal(1), entries: z.array(EntrySchema) });

export class DeviceTrustJournal {
  readonly path: string;

  constructor(
    deviceHome: string,
    private readonly clock: Clock = systemClock,
  ) {
    this.path = join(deviceHome, JOURNAL_FILE);
  }

  /** Appends an entry. Never throws: a journal that cannot be written must not hide the real error. */
  record(e: Omit<JournalEntry, 'at'>): void {
    try {
      const entry: JournalEntry = {
        at: this.clock().toISOString(),
        code: e.code,
        message: e.message.length > MESSAGE_LIMIT ? `${e.message.slice(0, MESSAGE_LIMIT)}…` : e.message,
        ...(e.step ? { step: e.step } : {}),
        ...(e.cluster ? { cluster: e.cluster } : {}),
      };
      const entries = [...this.read(), entry].slice(-JOURNAL_LIMIT);
      writeFileAtomic(this.path, JSON.stringify({ version: 1, entries }, null, 2) + '\n');
    } catch {
      // see above
    }
  }

  /** The newest `n` entries, newest first. */
  recent(n: number = JOURNAL_LIMIT): JournalEntry[] {
    return n > 0 ? this.read().slice(-n).reverse() : [];
  }

  /** A damaged file reads as empty (it is rewritten on the next record): diagnostics must work. */
  private read(): JournalEntry[] {
    try {
      const r = FileSchema.safeParse(readJsonIfExists(this.path));
      return r.success ? (r.data.entries as JournalEntry[]) : [];
    } catch {
      return [];
    }
  }
}
