// Builds the console page into web/dist (run by the root postinstall). No inline script or style
// may end up in index.html: the console's CSP allows only 'self' (docs/console.md).
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Small assets would otherwise be inlined; keep every byte a file the CSP names as 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    sourcemap: false,
  },
});
