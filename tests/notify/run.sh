#!/usr/bin/env bash
# Real desktop notifications, end to end.
#
# On a private session bus (dbus-run-session) with a real notification daemon
# (dunst, on a virtual X display) and dbus-monitor capturing every
# org.freedesktop.Notifications.Notify call, run the headless reminder
# scheduler (`kehu remind run`) on a temporary database and check that:
#   1. a reminder due in ~3 s is delivered with the expected Chinese summary
#      within 2 s of its due time, exactly once;
#   2. restarting the scheduler does not deliver it again;
#   3. reminders that fell due while no scheduler ran are shown at the next
#      start as ONE summary notification, not one each.
#
# Usage: tests/notify/run.sh [path/to/kehu]   (default: $CARGO_TARGET_DIR or
# target, debug build; build it first with `cargo build --bin kehu`).
# Exit status 0 = pass. Needs: dbus-run-session, dbus-monitor, dunst, Xvfb.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [[ "${KEHU_NOTIFY_STAGE:-}" != inner ]]; then
    kehu=${1:-${CARGO_TARGET_DIR:-$root/target}/debug/kehu}
    [[ -x "$kehu" ]] || { echo "kehu binary not found at $kehu (cargo build --bin kehu)" >&2; exit 2; }
    for tool in dbus-run-session dbus-monitor dunst Xvfb python3; do
        command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
    done
    export KEHU_NOTIFY_STAGE=inner KEHU_BIN=$(readlink -f "$kehu")
    exec dbus-run-session -- "$0"
fi

# ---- inside the private session bus ----------------------------------------
kehu=$KEHU_BIN
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ "${KEEP:-}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

export KEHU_DB=$work/kehu.db LANG=zh_CN.UTF-8 LC_ALL=
unset LC_MESSAGES

# A virtual display for dunst.
disp=:$((90 + RANDOM % 100))
Xvfb "$disp" -screen 0 800x600x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=$disp
for _ in $(seq 50); do [[ -e /tmp/.X11-unix/X${disp#:} ]] && break; sleep 0.1; done

cat >"$work/dunstrc" <<'EOF'
[global]
    monitor = 0
[urgency_normal]
    timeout = 0
EOF
dunst -config "$work/dunstrc" >"$work/dunst.log" 2>&1 &
pids+=($!)
owned=false
for _ in $(seq 100); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null | grep -q 'boolean true'; then
        owned=true; break
    fi
    sleep 0.1
done
$owned || { echo "FAIL: dunst did not take org.freedesktop.Notifications"; cat "$work/dunst.log"; exit 1; }

dbus-monitor --session "interface='org.freedesktop.Notifications',member='Notify'" >"$work/monitor.log" 2>&1 &
pids+=($!)
sleep 0.5

# One customer with a call planned in 3 seconds, reminded at that time.
"$kehu" customer add --name 通知测试客户 >/dev/null
code=$("$kehu" customer list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["code"])')
at=$(date -d '+3 seconds' --iso-8601=seconds)
due_ms=$("$kehu" followup add "$code" --kind call --at "$at" --remind 0 --purpose 确认报价 --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["followup"]["remind_at"])')

# Count Notify calls whose summary (4th argument) is $1; print "count first_time".
notifies() {
    python3 - "$work/monitor.log" "$1" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
want = sys.argv[2]
hits = []
for block in text.split("method call ")[1:]:
    if "member=Notify" not in block:
        continue
    t = float(re.search(r"time=([0-9.]+)", block).group(1))
    strings = re.findall(r'^\s+string "(.*)"$', block, re.M)
    # Notify(app_name, replaces_id, app_icon, summary, body, ...): strings 0,1,2,3 = app, icon, summary, body
    if len(strings) >= 3 and strings[2] == want:
        hits.append(t)
print(len(hits), min(hits) if hits else 0)
PY
}

summary="跟进提醒：通知测试客户"

# 1. Delivered once, within 2 s of due.
"$kehu" remind run >"$work/run1.log" 2>&1 &
run1=$!
pids+=($run1)
now_ms=$(date +%s%3N)
sleep $(python3 -c "print(max(0, ($due_ms - $now_ms) / 1000 + 4))")
kill "$run1"; wait "$run1" 2>/dev/null || true
read -r count first <<<"$(notifies "$summary")"
if [[ "$count" != 1 ]]; then
    echo "FAIL: expected 1 Notify with summary $summary, got $count"
    cat "$work/monitor.log" "$work/run1.log"; exit 1
fi
late=$(python3 -c "print(round($first * 1000 - $due_ms))")
if (( late < -50 || late > 2000 )); then
    echo "FAIL: delivered ${late} ms after due (allowed 0..2000)"; exit 1
fi
echo "ok 1: delivered once, ${late} ms after due"

# 2. A restart does not deliver it again.
"$kehu" remind run >"$work/run2.log" 2>&1 &
run2=$!
pids+=($run2)
sleep 4
kill "$run2"; wait "$run2" 2>/dev/null || true
read -r count _ <<<"$(notifies "$summary")"
[[ "$count" == 1 ]] || { echo "FAIL: restart re-delivered ($count Notify calls)"; cat "$work/run2.log"; exit 1; }
fired=$("$kehu" remind due --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[[ "$fired" == 0 ]] || { echo "FAIL: reminder still pending after delivery"; exit 1; }
echo "ok 2: restart did not re-deliver"

# 3. Reminders missed while closed: one summary at the next start.
for name in 错过客户甲 错过客户乙 错过客户丙; do
    "$kehu" customer add --name "$name" >/dev/null
done
codes=$("$kehu" customer list --json | python3 -c 'import json,sys; print(" ".join(r["code"] for r in json.load(sys.stdin)["rows"] if r["name"].startswith("错过")))')
at=$(date -d '+2 seconds' --iso-8601=seconds)
for c in $codes; do
    "$kehu" followup add "$c" --kind visit --at "$at" --remind 0 >/dev/null
done
sleep 3
before=$(grep -c 'member=Notify' "$work/monitor.log" || true)
"$kehu" remind run >"$work/run3.log" 2>&1 &
run3=$!
pids+=($run3)
sleep 3
kill "$run3"; wait "$run3" 2>/dev/null || true
after=$(grep -c 'member=Notify' "$work/monitor.log" || true)
read -r missed _ <<<"$(notifies "你有 3 条错过的跟进提醒")"
if [[ $((after - before)) != 1 || "$missed" != 1 ]]; then
    echo "FAIL: expected one summary for 3 missed reminders, got $((after - before)) Notify calls"
    cat "$work/run3.log"; exit 1
fi
echo "ok 3: 3 missed reminders shown as one summary"

# 4. The daily report: one notification, carrying a default action; a
#    click on it (dunst invokes the default action) asks to open Today.
dunstctl close-all
daily="Kehu 日报（昨日）"
"$kehu" remind run --daily --json >"$work/run4.log" 2>&1 &
run4=$!
pids+=($run4)
count=0
for _ in $(seq 100); do
    read -r count _ <<<"$(notifies "$daily")"
    [[ "$count" == 1 ]] && break
    sleep 0.1
done
[[ "$count" == 1 ]] || { echo "FAIL: no daily report notification"; cat "$work/run4.log"; exit 1; }
python3 - "$work/monitor.log" "$daily" <<'PY' || { echo "FAIL: the daily report notification has no default action"; exit 1; }
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
for block in text.split("method call ")[1:]:
    strings = re.findall(r'^\s+string "(.*)"$', block, re.M)
    if "member=Notify" in block and len(strings) >= 3 and strings[2] == sys.argv[2]:
        # actions follow the body: pairs of key, label
        sys.exit(0 if "default" in strings[4:] else 1)
sys.exit(1)
PY
sleep 0.5
dunstctl action 0
clicked=false
for _ in $(seq 50); do
    grep -q '"open_today"' "$work/run4.log" && { clicked=true; break; }
    sleep 0.1
done
kill "$run4"; wait "$run4" 2>/dev/null || true
$clicked || { echo "FAIL: clicking the daily report did not ask for Today"; cat "$work/run4.log"; exit 1; }
echo "ok 4: the daily report notification opens Today when clicked"
echo "PASS"
