// Statement texts for the audit log (db.session.query): capped at 16 KiB of UTF-8 and marked when
// cut, as docs/database-access.md fixes, so one huge statement cannot bloat the audit log.

/** Bounds of the statement text an observer keeps for the audit log (docs/database-access.md). */
export const STATEMENT_TEXT_LIMIT = 16 * 1024;
export const TRUNCATED_MARKER = ' …[truncated]';

/** A statement capped at STATEMENT_TEXT_LIMIT bytes of UTF-8, marked when cut. */
export function capStatement(text: string, cut: boolean): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= STATEMENT_TEXT_LIMIT && !cut) return text;
  // Decoding a prefix may end in half a character; the decoder replaces it, which is fine for a log.
  return (
    bytes
      .subarray(0, STATEMENT_TEXT_LIMIT)
      .toString('utf8')
      .replace(/\uFFFD$/, '') + TRUNCATED_MARKER
  );
}
