// Taking over from the launch shell (issue 16, launch): the browser host may send the first
// screen's login form as plain HTML inside index.html (src-main/host/launch-shell.ts), so the user
// can type before this bundle ran. React draws its own form into #root (hidden by CSS while the
// shell is there); the login form starts from what was typed into the shell and puts the focus
// and caret where they were, then App removes the shell in the same commit (a layout effect, so
// no frame shows both or neither).

/** The shell's element id (the host's launch-shell.ts uses the same). */
export const LAUNCH_SHELL_ID = 'launch-shell';

export type ShellFieldName = 'user' | 'password' | 'otp';

export interface ShellField {
  value: string;
  focused: boolean;
  selectionStart: number | null;
  selectionEnd: number | null;
}

export type ShellForm = Partial<Record<ShellFieldName, ShellField>>;

const FIELD_NAMES: readonly ShellFieldName[] = ['user', 'password', 'otp'];

/**
 * What was typed into the shell for the cluster at `proxy`, read from the page; undefined when
 * there is no shell (any more) or it showed another cluster (the list changed in between).
 */
export function readLaunchShell(proxy: string, doc: Document = document): ShellForm | undefined {
  const shell = doc.getElementById(LAUNCH_SHELL_ID);
  if (!shell || shell.dataset.proxy !== proxy) return undefined;
  const form: ShellForm = {};
  for (const name of FIELD_NAMES) {
    const input = shell.querySelector<HTMLInputElement>(`input[name="${name}"]`);
    if (!input) continue;
    form[name] = {
      value: input.value,
      focused: doc.activeElement === input,
      selectionStart: input.selectionStart,
      selectionEnd: input.selectionEnd,
    };
  }
  return form;
}

/** Which of the shell's fields had the focus, if any. */
export function focusedShellField(form: ShellForm | undefined): ShellFieldName | undefined {
  return FIELD_NAMES.find((name) => form?.[name]?.focused);
}

/** Puts the caret (or selection) where it was in the shell's field; types without one are left alone. */
export function restoreSelection(input: HTMLInputElement, from: ShellField | undefined): void {
  if (from?.selectionStart == null || from.selectionEnd == null) return;
  try {
    input.setSelectionRange(from.selectionStart, from.selectionEnd);
  } catch {
    // Inputs without a selection API (none in the login form today) keep the browser's caret.
  }
}

/** Removes the shell, which also shows #root (the CSS hides it while the shell precedes it). */
export function removeLaunchShell(doc: Document = document): void {
  doc.getElementById(LAUNCH_SHELL_ID)?.remove();
}
