// Inline SVG icons (no icon font, nothing fetched). All decorative: aria-hidden.
export function GatehouseMark({ className = '' }: { className?: string }) {
  return (
    <svg className={className} viewBox="0 0 32 32" width="32" height="32" aria-hidden="true" focusable="false">
      <rect x="2" y="2" width="28" height="28" rx="7" fill="var(--color-primary)" />
      <path
        d="M9 24V14.5L16 9l7 5.5V24h-4.5v-5.5h-5V24z"
        fill="none"
        stroke="#fff"
        strokeWidth="2"
        strokeLinejoin="round"
      />
    </svg>
  );
}

export function ChevronDown() {
  return (
    <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
      <path d="M4 6l4 4 4-4" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
    </svg>
  );
}

export function CloseIcon() {
  return (
    <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      <path d="M4 4l8 8M12 4l-8 8" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
    </svg>
  );
}

export function SearchIcon() {
  return (
    <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
      <circle cx="7" cy="7" r="4.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <path d="M10.5 10.5L14 14" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
    </svg>
  );
}

export function TerminalIcon() {
  return (
    <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      <path
        d="M3 4.5l3.5 3.5L3 11.5M8 12h5"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.6"
        strokeLinecap="round"
      />
    </svg>
  );
}

export function ServerIcon() {
  return (
    <svg viewBox="0 0 24 24" width="40" height="40" aria-hidden="true" focusable="false">
      <rect x="3" y="4" width="18" height="7" rx="2" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <rect x="3" y="13" width="18" height="7" rx="2" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <circle cx="7" cy="7.5" r="1" fill="currentColor" />
      <circle cx="7" cy="16.5" r="1" fill="currentColor" />
    </svg>
  );
}

/** A database cylinder: the empty state (40 px) and gateway tabs (14 px). */
export function DatabaseIcon({ size = 40 }: { size?: number }) {
  return (
    <svg viewBox="0 0 24 24" width={size} height={size} aria-hidden="true" focusable="false">
      <ellipse cx="12" cy="5.5" rx="8" ry="2.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <path
        d="M4 5.5v13c0 1.4 3.6 2.5 8 2.5s8-1.1 8-2.5v-13M4 12c0 1.4 3.6 2.5 8 2.5s8-1.1 8-2.5"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.5"
      />
    </svg>
  );
}

/** An app window: the apps empty state (40 px) and app gateway tabs (14 px). */
export function AppIcon({ size = 40 }: { size?: number }) {
  return (
    <svg viewBox="0 0 24 24" width={size} height={size} aria-hidden="true" focusable="false">
      <rect x="3" y="4" width="18" height="16" rx="2" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <path d="M3 8.5h18" stroke="currentColor" strokeWidth="1.5" />
      <circle cx="6" cy="6.3" r="0.9" fill="currentColor" />
      <circle cx="8.8" cy="6.3" r="0.9" fill="currentColor" />
    </svg>
  );
}

export function KeyboardIcon() {
  return (
    <svg viewBox="0 0 20 16" width="20" height="16" aria-hidden="true" focusable="false">
      <rect x="1" y="2.5" width="18" height="11" rx="2" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <path
        d="M4.5 6h1M8 6h1M11.5 6h1M15 6h.5M4.5 9h1M15 9h.5M7.5 10.5h5"
        stroke="currentColor"
        strokeWidth="1.5"
        strokeLinecap="round"
      />
    </svg>
  );
}
