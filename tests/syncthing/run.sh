#!/usr/bin/env bash
# Team sync through two real Syncthing instances, end to end.
#
# Two devices, each with its own Kehu database and its own folder; two
# Syncthing instances on loopback (no discovery, no relays, no internet)
# replicate the folders. Checks that:
#   1. a customer created on A reaches B after B joins the team through its
#      replicated folder;
#   2. an edit made on B reaches A;
#   3. a concurrent edit of the same field on both devices ends with the same
#      value on both and a conflict that keeps the other value;
#   4. Syncthing's own temporary files in the shared folder do not disturb
#      Kehu (it reads while Syncthing writes).
#
# Usage: tests/syncthing/run.sh [path/to/kehu]   (default: $CARGO_TARGET_DIR
# or target, debug build). Needs syncthing (apt install syncthing) and python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
kehu=$(readlink -f "${1:-${CARGO_TARGET_DIR:-$root/target}/debug/kehu}")
[[ -x "$kehu" ]] || { echo "kehu binary not found at $kehu (cargo build --bin kehu)" >&2; exit 2; }
command -v syncthing >/dev/null || { echo "missing syncthing (apt install syncthing)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ "${KEEP:-}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
export LANG=C.UTF-8

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fail() { echo "FAIL: $*" >&2; for d in a b; do echo "--- syncthing $d log (tail)" >&2; tail -20 "$work/$d/log" >&2 || true; done; exit 1; }
step() { echo "syncthing: $*"; }

# Keys and device ids.
declare -A id port
for d in a b; do
    mkdir -p "$work/$d/shared/.stfolder"
    id[$d]=$(syncthing generate --home="$work/$d/home" --no-default-folder --skip-port-probing 2>&1 \
        | sed -n "s/.*Device ID: *\([A-Z0-9-]*\).*/\1/p")
    [[ -n "${id[$d]}" ]] || fail "syncthing generate gave no device id"
    port[$d]=$(free_port)
done

# A minimal configuration: one shared folder, the other device at a fixed
# loopback address, everything that would reach the internet off.
for d in a b; do
    cat >"$work/$d/home/config.xml" <<EOF
<configuration version="36">
    <folder id="kehu-team" label="Kehu" path="$work/$d/shared" type="sendreceive" rescanIntervalS="2" fsWatcherEnabled="true" fsWatcherDelayS="1">
        <device id="${id[a]}"></device>
        <device id="${id[b]}"></device>
    </folder>
    <device id="${id[a]}" name="a"><address>tcp://127.0.0.1:${port[a]}</address></device>
    <device id="${id[b]}" name="b"><address>tcp://127.0.0.1:${port[b]}</address></device>
    <gui enabled="false" tls="false"><address>127.0.0.1:0</address></gui>
    <options>
        <listenAddress>tcp://127.0.0.1:${port[$d]}</listenAddress>
        <globalAnnounceEnabled>false</globalAnnounceEnabled>
        <localAnnounceEnabled>false</localAnnounceEnabled>
        <relaysEnabled>false</relaysEnabled>
        <natEnabled>false</natEnabled>
        <startBrowser>false</startBrowser>
        <urAccepted>-1</urAccepted>
        <crashReportingEnabled>false</crashReportingEnabled>
        <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
        <reconnectionIntervalS>1</reconnectionIntervalS>
    </options>
</configuration>
EOF
    syncthing serve --home="$work/$d/home" --no-browser --no-restart --no-upgrade >"$work/$d/log" 2>&1 &
    pids+=($!)
done

# The files under kehu-sync/ of one folder, with sizes (Syncthing's
# temporaries excluded): replication is done when both sides list the same.
listing() {
    (cd "$work/$1/shared" && find kehu-sync -type f ! -name '.syncthing.*' ! -name '*.tmp' -printf '%p %s\n' 2>/dev/null | sort)
}
wait_replicated() {
    local what=$1
    for _ in $(seq 1 240); do
        if [[ -n "$(listing a)" && "$(listing a)" == "$(listing b)" ]]; then return 0; fi
        sleep 0.5
    done
    diff <(listing a) <(listing b) >&2 || true
    fail "$what: the folders did not converge through Syncthing within 120 s"
}

A() { "$kehu" --db "$work/a/kehu.db" "$@"; }
B() { "$kehu" --db "$work/b/kehu.db" "$@"; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get(sys.argv[1]) or "")' "$1"; }

step "A starts a team in its folder with one customer"
A customer add --name "同步测试科技有限公司" --contact "王强" --mobile 13800138000 --grade B >/dev/null
A sync init --folder "$work/a/shared" --name "华东销售部" >/dev/null
A sync now >/dev/null
wait_replicated "A's first files"

step "B joins through its own replicated folder and finds the customer"
B sync join --folder "$work/b/shared" >/dev/null
B sync now >/dev/null
code=$(B search 同步测试 --json | python3 -c 'import json,sys; r=json.load(sys.stdin); r=r.get("rows", r) if isinstance(r, dict) else r; print(r[0]["code"] if r else "")')
[[ -n "$code" ]] || fail "B does not find the customer created on A"
[[ "$(B customer show "$code" --json | field name)" == "同步测试科技有限公司" ]] || fail "B holds another name"

step "B changes the grade; A receives it"
B customer edit "$code" --grade A >/dev/null
B sync now >/dev/null
wait_replicated "B's edit"
A sync now >/dev/null
[[ "$(A customer show "$code" --json | field grade)" == "A" ]] || fail "A did not receive B's grade"

step "both edit the notes at once; both end with one value and a conflict"
A customer edit "$code" --notes "A 的备注：下周报价" >/dev/null
B customer edit "$code" --notes "B 的备注：已寄样品" >/dev/null
A sync now >/dev/null
B sync now >/dev/null
wait_replicated "the concurrent edits"
A sync now >/dev/null
B sync now >/dev/null
na=$(A customer show "$code" --json | field notes)
nb=$(B customer show "$code" --json | field notes)
[[ "$na" == "$nb" ]] || fail "the devices disagree: A has '$na', B has '$nb'"
case "$na" in
    "A 的备注：下周报价") lost="B 的备注：已寄样品" ;;
    "B 的备注：已寄样品") lost="A 的备注：下周报价" ;;
    *) fail "the notes are neither edit: '$na'" ;;
esac
conflicts="$(A conflicts list --json) $(B conflicts list --json)"
grep -qF "$lost" <<<"$conflicts" || fail "the overwritten notes '$lost' are not kept as a conflict: $conflicts"

step "passed (devices ${id[a]:0:7} and ${id[b]:0:7})"
