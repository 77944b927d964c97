// Durations as people write them in roles and on the command line: "8h", "30m", "1h30m",
// "90s", "1.5h". Go-style units so YAML copied from Teleport-like configs keeps working;
// no days, because "1d" is ambiguous around DST and Go never accepted it either.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const HINT = 'use a number with a unit (h, m, s, ms), like "8h", "30m" or "1h30m"';

/** Returns a message when `text` is not a positive duration, undefined when it is. */
export function durationProblem(text: string): string | undefined {
  const result = parse(text);
  return typeof result === 'string' ? result : undefined;
}

/** Parses a duration to milliseconds; throws BAD_REQUEST with a message people can act on. */
export function parseDurationMs(text: string): number {
  const result = parse(text);
  if (typeof result === 'string') throw new GatehouseError(ErrorCode.BAD_REQUEST, result, { value: text });
  return result;
}

function parse(text: string): number | string {
  const trimmed = text.trim();
  if (trimmed === '') return `duration is empty; ${HINT}`;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return `"${text}" has no unit; ${HINT}`;
  if (!WHOLE.test(trimmed)) return `"${text}" is not a duration; ${HINT}`;
  let total = 0;
  // matchAll works on a copy of the regex, so the shared /g pattern carries no state between calls.
  for (const m of trimmed.matchAll(PART)) total += Number(m[1]) * (UNIT_MS[m[2]!] ?? 0);
  const ms = Math.round(total);
  if (ms <= 0) return `"${text}" must be longer than zero`;
  if (!Number.isSafeInteger(ms)) return `"${text}" is too long`;
  return ms;
}

/** Formats milliseconds the way parseDurationMs reads them back ("1h30m", "45s", "250ms"). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
