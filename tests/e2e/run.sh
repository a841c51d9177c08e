#!/usr/bin/env bash
# End-to-end tests of the real desktop app: builds the UI and kehu-desktop
# (debug) and the kehu CLI, then runs tests/e2e/*.test.mjs under Xvfb with a session bus,
# tauri-driver and WebKitWebDriver. Screenshots: target/e2e-shots/.
# Exits non-zero when anything fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# E2E_PROFILE=release drives the release build (start-up measurements).
PROFILE="${E2E_PROFILE:-debug}"
export KEHU_APP="${KEHU_APP:-$TARGET/$PROFILE/kehu-desktop}"
export E2E_SHOTS="$ROOT/target/e2e-shots"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "e2e: missing $1 ($2)" >&2; exit 2; }
}
need xvfb-run "apt install xvfb"
need dbus-run-session "apt install dbus-x11 (or dbus-daemon)"
need node "Node.js 20+"
[ -x /usr/bin/WebKitWebDriver ] || { echo "e2e: missing /usr/bin/WebKitWebDriver (apt install webkit2gtk-driver)" >&2; exit 2; }
if ! command -v tauri-driver >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/tauri-driver" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "e2e: installing tauri-driver" >&2
    cargo install tauri-driver --locked
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi

if [ "${E2E_SKIP_BUILD:-}" != 1 ]; then
  (cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
  if [ "$PROFILE" = release ]; then cargo build --release -p kehu-desktop; else cargo build -p kehu-desktop; fi
  # The Analysis test sets a sales target through the CLI, as a user would.
  if [ "$PROFILE" = release ]; then cargo build --release -p kehu --bin kehu; else cargo build -p kehu --bin kehu; fi
fi

# Optional: E2E_BIG=100000 also checks the list over that many customers.
# The database is generated once with the kehu CLI and kept in target/; each
# run starts on a fresh copy in a folder of its own, so every run is the
# first start after a big load: alert rules evaluated for the first time,
# segments and the daily backup due.
if [ -n "${E2E_BIG:-}" ]; then
  pristine="$TARGET/e2e-big-$E2E_BIG.db"
  if [ ! -f "$pristine" ]; then
    cargo build --release --bin kehu
    "$TARGET/release/kehu" --db "$pristine" demo --customers "$E2E_BIG"
  fi
  rm -rf "$TARGET/e2e-big-run"
  mkdir -p "$TARGET/e2e-big-run"
  export E2E_BIG_DB="$TARGET/e2e-big-run/kehu.db"
  cp "$pristine" "$E2E_BIG_DB"
fi

rm -rf "$E2E_SHOTS"
mkdir -p "$E2E_SHOTS"

exec xvfb-run -a -s "-screen 0 1440x900x24" \
  dbus-run-session -- bash "$ROOT/tests/e2e/session.sh"
