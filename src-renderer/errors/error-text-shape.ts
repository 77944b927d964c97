// The shape of an error in words, shared by error-text.ts and device-error-text.ts (its own
// module so the two do not import each other).
export interface ErrorText {
  /** One sentence: what happened. */
  message: string;
  /** One sentence: what to do about it. */
  nextStep: string;
  /** Main's wording when it adds something the message doesn't say; shown smaller. */
  detail?: string;
  /** The right follow-up is to log in again (expired or missing session). */
  relogin?: boolean;
  /** An access decision: the authorizer's reason plus why/how-to-fix. */
  denial?: { reason: string; why: string; fix: string };
  /** An administrator's lock that ended a session: no Reconnect while it stands. */
  lock?: { message: string; target: string };
  /** The way out runs through the "This device" screen (enroll, see why it is not trusted). */
  openThisDevice?: boolean;
}
