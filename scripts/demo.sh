#!/usr/bin/env bash
# The lab demo: sets the machine up, builds antidote, brings up the lab network
# (ad-victim | antidote | ad-legit, ad-win, ad-poisoner), runs the appliance in the middle, sends
# real traffic through it, then sets real poisoners on the victim (scripts/lab/scenarios.py) and
# shows what got through, what was learned and the alerts. Ends by itself and tears everything
# down.
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

step "antidote run --profile hw-profiles/lab.toml --policy policies/default.policy"
"$BIN" run --profile hw-profiles/lab.toml --policy policies/default.policy --stats-interval 3 --control off > "$LOG" 2>&1 &
APP=$!
tail -n +1 -f "$LOG" --pid "$APP" &
for _ in $(seq 50); do grep -q "running:" "$LOG" && break; sleep 0.1; done

step "ordinary traffic passes through the appliance"
in_ns ad-victim ping -c 3 -i 0.3 198.18.0.20 | tail -2
in_ns ad-victim ping -6 -c 3 -i 0.3 fd00:198:18::20 | tail -2
in_ns ad-legit timeout 3 socat -T 2 UDP-RECVFROM:7777,reuseaddr EXEC:cat & sleep 0.3
echo "hello through antidote" | in_ns ad-victim timeout 3 socat -T 1 - UDP-SENDTO:198.18.0.20:7777 | sed 's/^/udp echo: /'
kill -INT "$APP"; wait "$APP" || true; APP=
bash scripts/lab.sh down >/dev/null

step "the poisoners, one after another, against real software and the default policy unchanged"
cat <<'TXT'
The lab again, with the file server CORPFS01 (Samba's nmbd, llmnrd, avahi-daemon, dnsmasq), a
Windows-like host WINHOST (LLMNR over IPv6 only), antidote in the middle, and a poisoner: the
real Responder, then the project's poisoner forging the file server's address. The victim looks
the real names up, mistypes names, looks the real names up again, and reaches for the poisoner's
WPAD file. Nothing is listed anywhere: antidote learns who owns which name from the wire.
TXT
WORK=$(mktemp -d /tmp/antidote-demo.XXXXXX)
/usr/bin/python3 scripts/lab/scenarios.py --bin "$BIN" --plan a --work "$WORK" --modes responder,responder-name,forged-source --out "$WORK/results.json"
step "what antidote learned: who owns which name (from registrations, announcements, DHCP and confirmed answers)"
/usr/bin/python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
for o in r["owners"]:
    print("  %-12s %s  (%s)" % (o["name"], o["mac"], o["evidence"]))' "$WORK/results.json"
step "the alerts (ECS JSON lines), one line each"
/usr/bin/python3 -c 'import json,sys,collections
c = collections.Counter()
for l in open(sys.argv[1]):
    d = json.loads(l); c[(d["log"]["level"], d["rule"]["name"], d["event"]["action"])] += d["event"].get("count", 1)
for (lvl, rule, act), n in sorted(c.items()):
    print(f"  {n:4} x {lvl:<8} {rule} [{act}]")
' "$WORK/alerts.jsonl"
step "antidote's last words"
tail -n 4 "$WORK/antidote.log"
rm -rf "$WORK"

step "canary queries: the pair gets a canary identity; Responder is caught before the victim asks"
WORK=$(mktemp -d /tmp/antidote-demo.XXXXXX)
/usr/bin/python3 scripts/lab/scenarios.py --bin "$BIN" --plan a --work "$WORK" --modes responder --canaries 1 --out "$WORK/results.json"
/usr/bin/python3 -c 'import json,sys
m = json.load(open(sys.argv[1]))["modes"][0]
print("  Responder caught by a canary %s s after it started; forged answers that reached the victim: %d" % (m["canary_detection_s"], m["forged_total"]))' "$WORK/results.json"
grep -m 3 canary-answered "$WORK/alerts.jsonl" | /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l); print("  ", d["log"]["level"], d["rule"]["name"] + ":", d["message"])'
rm -rf "$WORK"
