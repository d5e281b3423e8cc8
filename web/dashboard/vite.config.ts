// The dashboard's build: React through @vitejs/plugin-react, written to web/dist/dashboard,
// which `loom server` serves at / (src/server/routes/dashboard.ts). Run by scripts/build.mjs.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    // Pages load fast on the first visit: the chart library (uPlot, ~50 KB) ships in its own chunk.
    rollupOptions: { output: { manualChunks: { uplot: ['uplot'], react: ['react', 'react-dom', 'react-dom/client', 'react-router'] } } },
  },
  // `vite` in this folder proxies the API to a `loom server` on port 5000 while developing.
  server: { proxy: { '/api': 'http://127.0.0.1:5000' } },
});
