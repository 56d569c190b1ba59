#!/usr/bin/env bash
# The lab demo: sets the machine up, builds antidote, brings up the lab network
# (ad-victim | antidote | ad-legit, ad-poisoner), runs the appliance in the middle, sends real
# traffic through it and shows the counters. Ends by itself and tears everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (it installs packages and creates namespaces)." >&2; exit 1; }
bash scripts/setup.sh
cargo build --release --locked -q
BIN=target/release/antidote
LOG=$(mktemp /tmp/antidote-demo.XXXXXX)
APP=
cleanup() {
  [ -n "$APP" ] && kill -INT "$APP" 2>/dev/null && wait "$APP" 2>/dev/null || true
  bash scripts/lab.sh down >/dev/null 2>&1 || true
  rm -f "$LOG"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
in_ns() { ip netns exec "$@"; }

step "lab network"
bash scripts/lab.sh up
step "without antidote the victim's segment is cut off"
in_ns ad-victim ping -c 1 -W 1 198.18.0.20 >/dev/null 2>&1 && echo "unexpected: reachable" || echo "ping 198.18.0.20: no answer (as expected)"

step "antidote run --profile hw-profiles/lab.toml"
"$BIN" run --profile hw-profiles/lab.toml --stats-interval 2 > "$LOG" 2>&1 &
APP=$!
tail -n +1 -f "$LOG" --pid "$APP" &
for _ in $(seq 50); do grep -q "running:" "$LOG" && break; sleep 0.1; done

step "traffic through the appliance"
in_ns ad-victim ping -c 3 -i 0.3 198.18.0.20 | tail -2
in_ns ad-victim ping -6 -c 3 -i 0.3 fd00:198:18::20 | tail -2
in_ns ad-legit timeout 3 socat -T 2 UDP-RECVFROM:7777,reuseaddr EXEC:cat & sleep 0.3
echo "hello through antidote" | in_ns ad-victim timeout 3 socat -T 1 - UDP-SENDTO:198.18.0.20:7777 | sed 's/^/udp echo: /'
in_ns ad-victim timeout 3 nmblookup -B 198.18.0.255 nosuchname >/dev/null 2>&1 || true
sleep 2.5

step "stopping antidote (SIGINT): final counters"
kill -INT "$APP"; wait "$APP" || true; APP=
sleep 0.2
