// Opens a native <dialog> as modal when it mounts and closes it when it unmounts, so focus stays
// inside and the page behind is inert for exactly as long as the component is shown.
import { useEffect, useRef } from 'react';

export function useModalDialog() {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return ref;
}
