// How much of a statement the engines keep for the audit log (db.session.query). The db service's
// audit caps the text it records (16 KiB, marked truncated; src-cluster/db/db-session-audit.ts)
// in one place; the engines only bound what they buffer per message, and keep more than the audit
// records, so a statement cut here is always cut, and marked, there too.

/** Bytes of a Query / Parse / COM_QUERY / COM_STMT_PREPARE body an engine buffers (more are relayed, not kept). */
export const STATEMENT_CAPTURE_BYTES = 17 * 1024;
