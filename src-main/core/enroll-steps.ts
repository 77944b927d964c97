// The steps of enrolling this device, as the app shows them (contract EnrollStepName) and `gate`
// prints them. A step's failure carries the step in details.step, so the app marks the right row.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

export type EnrollStepName = 'check-tpm' | 'create-ak' | 'activate-credential' | 'quote' | 'authenticate' | 'done';

export const ENROLL_STEPS: readonly EnrollStepName[] = [
  'check-tpm',
  'create-ak',
  'activate-credential',
  'quote',
  'authenticate',
  'done',
];

export type EnrollStepListener = (
  step: EnrollStepName,
  state: 'running' | 'done' | 'failed',
  error?: GatehouseError,
) => void;

/**
 * Turns "step X started" reports into running/done pairs: a step is done when the next one
 * starts, and the one running when an error arrives is the one that failed. A listener that
 * throws must not break the enrollment, so its errors are swallowed.
 */
export class EnrollStepTracker {
  private current: EnrollStepName | undefined;

  constructor(private readonly listener: EnrollStepListener | undefined) {}

  get step(): EnrollStepName | undefined {
    return this.current;
  }

  start(step: EnrollStepName): void {
    if (this.current === step) return;
    if (this.current) this.emit(this.current, 'done');
    this.current = step;
    this.emit(step, 'running');
  }

  finish(): void {
    if (this.current && this.current !== 'done') this.emit(this.current, 'done');
    this.current = 'done';
    this.emit('done', 'done');
  }

  /** The error as a GatehouseError naming the failed step (details.step), reported once. */
  fail(e: unknown): GatehouseError {
    const step = this.current ?? 'check-tpm';
    const base =
      e instanceof GatehouseError ? e : new GatehouseError(ErrorCode.INTERNAL, (e as Error)?.message ?? String(e));
    const err = new GatehouseError(base.code, base.message, { ...base.details, step });
    this.emit(step, 'failed', err);
    return err;
  }

  private emit(step: EnrollStepName, state: 'running' | 'done' | 'failed', error?: GatehouseError): void {
    try {
      this.listener?.(step, state, error);
    } catch {
      // a display problem must not change the enrollment's outcome
    }
  }
}
