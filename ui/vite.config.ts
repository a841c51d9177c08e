import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The UI is served from inside the desktop binary (tauri.conf.json
// frontendDist = ../ui/dist); relative asset paths, no dev server needed.
export default defineConfig({
  plugins: [svelte()],
  base: './',
  clearScreen: false,
  build: {
    target: 'safari15',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // The Analysis chunk is ECharts (only the charts it uses): ~580 kB, loaded
    // from disk when the page is first opened.
    chunkSizeWarningLimit: 650,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
