// What an SSH client of ours sends as environment requests (OpenSSH `SendEnv LANG LC_*`, as
// Debian's ssh_config does): the local locale, so the remote shell reads and shows UTF-8 text
// the way the user's terminal does. The node takes them by its ssh_service.accept_env list.
// A desktop app started from a menu often has no locale of its own (or POSIX): then the remote
// side gets C.UTF-8, which every glibc has built in, rather than a 7-bit C locale.

/** The fallback when the local locale says nothing about UTF-8. */
export const FALLBACK_LOCALE = 'C.UTF-8';
/** Bounds on what is sent: a few variables of short values, never an unbounded environment. */
const MAX_SENT_VARS = 16;
const MAX_VALUE_LENGTH = 256;
const LOCALE_NAME = /^(LANG|LC_[A-Z_]+)$/;

function isPlainLocale(value: string | undefined): boolean {
  return value === undefined || value === '' || value === 'C' || value === 'POSIX';
}

/**
 * LANG and LC_* from `local`, like SendEnv. When the character type in force (LC_ALL, else
 * LC_CTYPE, else LANG) is unset, C or POSIX, LANG is C.UTF-8 and a C/POSIX LC_ALL or LC_CTYPE is
 * left out (it would override LANG on the remote side).
 */
export function sshLocaleEnv(local: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(local).sort()) {
    const value = local[name];
    if (!LOCALE_NAME.test(name) || !value || value.length > MAX_VALUE_LENGTH || /[\0\n]/.test(value)) continue;
    if (Object.keys(out).length >= MAX_SENT_VARS) break;
    out[name] = value;
  }
  const ctype = out['LC_ALL'] || out['LC_CTYPE'] || out['LANG'];
  if (isPlainLocale(ctype)) {
    if (isPlainLocale(out['LC_ALL'])) delete out['LC_ALL'];
    if (isPlainLocale(out['LC_CTYPE'])) delete out['LC_CTYPE'];
    out['LANG'] = FALLBACK_LOCALE;
  }
  return out;
}
