// Builds the renderer (src-renderer/) into dist/renderer. Relative asset URLs (base './') so the
// same build loads from app://gatehouse/ in Electron and from http://127.0.0.1:PORT under the
// browser host. No inline scripts: the CSP allows only 'self' scripts.
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { RENDERER_META_CSP } from './src-main/app/renderer-files.ts';

/** index.html's <meta> CSP from the one definition, so the page and the hosts' headers agree. */
function rendererCsp(): Plugin {
  return {
    name: 'gatehouse-renderer-csp',
    transformIndexHtml(html) {
      if (!html.includes('%GATEHOUSE_CSP%')) throw new Error('src-renderer/index.html lost its %GATEHOUSE_CSP% meta');
      return html.replace('%GATEHOUSE_CSP%', RENDERER_META_CSP);
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('./src-renderer', import.meta.url)),
  base: './',
  plugins: [react(), rendererCsp()],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'chrome120',
    sourcemap: true,
    // One entry; no modulepreload polyfill (Electron and current Chromium have modulepreload).
    modulePreload: { polyfill: false },
    // The entry chunk paints the login form; screens only a session needs (xterm, resources, the
    // device screen) are split off with React.lazy in ui/app.tsx and load when first used.
    chunkSizeWarningLimit: 800,
  },
  server: { host: '127.0.0.1' },
});
