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

step "the lab's actors: Samba nmbd (LEGIT) and an LLMNR responder on ad-legit, a Responder-like poisoner on ad-poisoner"
ACT=$(mktemp -d /tmp/antidote-demo-actors.XXXXXX)
bash scripts/lab/actors.sh start "$ACT"
ALERTS="$ACT/alerts.jsonl"
trap 'bash scripts/lab/actors.sh stop "$ACT" >/dev/null 2>&1 || true; rm -rf "$ACT"; cleanup' EXIT
for _ in $(seq 60); do ip netns exec ad-legit nmblookup -B 198.18.0.255 LEGIT 2>/dev/null | grep -q 198.18.0.20 && break; sleep 0.3; done

step "antidote run --profile hw-profiles/lab.toml --policy policies/default.policy --alerts $ALERTS"
"$BIN" run --profile hw-profiles/lab.toml --policy policies/default.policy --alerts "$ALERTS" --stats-interval 3 > "$LOG" 2>&1 &
APP=$!
tail -n +1 -f "$LOG" --pid "$APP" &
for _ in $(seq 50); do grep -q "running:" "$LOG" && break; sleep 0.1; done

step "ordinary traffic passes through the appliance"
in_ns ad-victim ping -c 3 -i 0.3 198.18.0.20 | tail -2
in_ns ad-victim ping -6 -c 3 -i 0.3 fd00:198:18::20 | tail -2
in_ns ad-legit timeout 3 socat -T 2 UDP-RECVFROM:7777,reuseaddr EXEC:cat & sleep 0.3
echo "hello through antidote" | in_ns ad-victim timeout 3 socat -T 1 - UDP-SENDTO:198.18.0.20:7777 | sed 's/^/udp echo: /'

step "the victim mistypes a name: the poisoner answers, antidote drops the forged answers"
in_ns ad-victim nmblookup -B 198.18.0.255 fileservr || true
echo "LLMNR/IPv4:"; in_ns ad-victim /usr/bin/python3 scripts/lab/resolve.py llmnr4 fileservr; echo "(no answer)"
echo "LLMNR/IPv6:"; in_ns ad-victim /usr/bin/python3 scripts/lab/resolve.py llmnr6 fileservr; echo "(no answer)"
echo "what the poisoner sent the victim:"; grep -E "198.18.0.10|fe80::ad:ff:fe00:10" "$ACT/poisoner.jsonl" | sed "s/^/  /"

step "the typo asked by unicast (WINS-style) to ad-legit, which stays silent: antidote's negative answer ends the wait at once"
time in_ns ad-victim nmblookup -U 198.18.0.20 --recursion fileservr || true

step "the real name still resolves"
in_ns ad-victim nmblookup -B 198.18.0.255 legit
in_ns ad-victim /usr/bin/python3 scripts/lab/resolve.py llmnr4 legit

step "a follow-on: the victim reaches for the poisoner's WPAD file (blocked)"
in_ns ad-victim curl -s -m 3 -o /dev/null -w "HTTP status: %{http_code} (000: no connection)\n" http://198.18.0.66/wpad.dat || true
sleep 1

step "stopping antidote (SIGINT): final counters and alerts"
kill -INT "$APP"; wait "$APP" || true; APP=
sleep 0.2
step "the alerts (ECS JSON lines in $ALERTS), one line each"
if command -v jq >/dev/null; then
  jq -r '"\(.["@timestamp"]) \(.log.level) \(.rule.name): \(.message) [\(.event.action)]"' "$ALERTS"
else
  /usr/bin/python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d=json.loads(l); print(d["@timestamp"], d["log"]["level"], d["rule"]["name"]+":", d["message"], "["+d["event"]["action"]+"]")' "$ALERTS"
fi
