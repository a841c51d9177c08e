#!/usr/bin/env bash
# Installs what Kehu needs to build, run and test on Debian 12 / Ubuntu 22.04+,
# skipping whatever is already there. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Tauri 2 on Linux; libssl-dev also gives SQLCipher (encryption at rest) its libcrypto
  build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libsoup-3.0-dev
  libayatana-appindicator3-dev librsvg2-dev libxdo-dev file
  # end-to-end tests: WebKitWebDriver, a virtual display, screenshots
  webkit2gtk-driver xvfb imagemagick
  # desktop notifications on a real session bus
  dbus-x11 dunst libdbus-1-dev
  # Chinese text (also the embedded font of the PDF report)
  fonts-noto-cjk
  # PDF report tests: pdftotext reads the text back, pdftoppm renders pages
  poppler-utils
  # team sync test: two real Syncthing instances replicate on loopback
  syncthing
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Team sync tests run real servers on loopback: WebDAV (wsgidav + cheroot) and
# S3 (moto in server mode); exported workbooks are read back, and e2e import
# files filled in, by a real client (openpyxl). Installed for the `python3`
# the tests call (pyenv's, when there is one). Debian 12's own Python refuses
# --user installs (PEP 668); then --break-system-packages, which only touches
# ~/.local.
PY_TEST_PACKAGES=(wsgidav cheroot 'moto[server]' openpyxl)
if ! python3 -c 'import wsgidav.server.server_cli, cheroot, moto.server, openpyxl' >/dev/null 2>&1; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "Installing python3-pip"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-pip python3-venv
  fi
  echo "Installing Python test servers: ${PY_TEST_PACKAGES[*]}"
  python3 -m pip install --user --quiet "${PY_TEST_PACKAGES[@]}" \
    || python3 -m pip install --user --quiet --break-system-packages "${PY_TEST_PACKAGES[@]}"
fi

if ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "Installing tauri-driver"
  cargo install tauri-driver --locked
fi

if [ -f ui/package.json ]; then
  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    echo "Installing UI packages"
    (cd ui && npm ci --no-audit --no-fund)
  fi
fi
