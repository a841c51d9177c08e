import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { Plugin } from 'vite';

// The desktop shell freezes Object.prototype (tauri.conf.json
// freezePrototype). ECharts' Scheduler copies every enumerable prototype key
// of a class onto a plain object by assignment, and `constructor` is one of
// them (tslib's __extends), so the assignment throws on a frozen prototype
// (the "override mistake"). Define the property instead: same result, no
// throw. Fails the build if ECharts changes that line, so it is noticed.
function echartsFrozenPrototype(): Plugin {
  const from = 'target[name_1] = noop;';
  const to = 'Object.defineProperty(target, name_1, { value: noop, writable: true, enumerable: true, configurable: true });';
  return {
    name: 'echarts-frozen-prototype',
    transform(code, id) {
      if (!id.replace(/\\/g, '/').endsWith('echarts/lib/core/Scheduler.js')) return null;
      if (!code.includes(from)) this.error('echarts Scheduler.js changed: review the frozen-prototype patch in vite.config.ts');
      return { code: code.replace(from, to), map: null };
    },
  };
}

// The UI is served from inside the desktop binary (tauri.conf.json
// frontendDist = ../ui/dist); relative asset paths, no dev server needed.
export default defineConfig({
  plugins: [svelte(), echartsFrozenPrototype()],
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
