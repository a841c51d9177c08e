#!/usr/bin/env bash
# Inside Xvfb and a session bus (run.sh): start tauri-driver on free ports,
# run the tests, stop the driver.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
PORT="$(free_port)"
NATIVE_PORT="$(free_port)"
while [ "$NATIVE_PORT" = "$PORT" ]; do NATIVE_PORT="$(free_port)"; done

# A fresh webview profile (local storage: the language choice) for every
# run, so no earlier run on this machine decides what the tests see.
WEBVIEW_DATA="$(mktemp -d)"
export XDG_DATA_HOME="$WEBVIEW_DATA/data" XDG_CACHE_HOME="$WEBVIEW_DATA/cache"

# Software rendering: Xvfb has no GPU, and the DMA-BUF renderer fails there.
export WEBKIT_DISABLE_DMABUF_RENDERER=1
export WEBKIT_DISABLE_COMPOSITING_MODE=1
export LIBGL_ALWAYS_SOFTWARE=1

tauri-driver --port "$PORT" --native-port "$NATIVE_PORT" --native-driver /usr/bin/WebKitWebDriver \
  >"$E2E_SHOTS/tauri-driver.log" 2>&1 &
DRIVER=$!
trap 'kill "$DRIVER" 2>/dev/null || true; wait "$DRIVER" 2>/dev/null || true; rm -rf "$WEBVIEW_DATA"' EXIT

for _ in $(seq 1 100); do
  if node -e "require('net').connect($PORT,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"; then
    break
  fi
  sleep 0.1
done

export WEBDRIVER_URL="http://127.0.0.1:$PORT"
status=0
# E2E_ONLY=pages.test.mjs runs one file; E2E_ONLY=none only the big-list check.
FILES=("$ROOT/tests/e2e/app.test.mjs" "$ROOT/tests/e2e/pages.test.mjs" "$ROOT/tests/e2e/analysis.test.mjs" "$ROOT/tests/e2e/daily.test.mjs" "$ROOT/tests/e2e/sync.test.mjs" "$ROOT/tests/e2e/atrest.test.mjs" "$ROOT/tests/e2e/twoapps.test.mjs")
if [ -n "${E2E_ONLY:-}" ]; then FILES=("$ROOT/tests/e2e/$E2E_ONLY"); fi
if [ "${E2E_ONLY:-}" != none ]; then
  node --test --test-concurrency=1 --test-reporter=spec "${FILES[@]}" || status=$?
fi
if [ -n "${E2E_BIG_DB:-}" ]; then
  node --test --test-reporter=spec "$ROOT/tests/e2e/big.test.mjs" || status=$?
fi
exit $status
