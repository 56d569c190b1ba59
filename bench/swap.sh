#!/usr/bin/env bash
# Policy swap latency: from `PUT /v1/policy` to every worker on the new version, measured by
# the appliance itself (it spins until each worker reports the version after its next poll
# round) while bench/out/mix.pcap flows at full rate. Pushes the default policy N times.
#   bench/swap.sh [--pushes N]
# Last line: swaps=N p50_us=A p99_us=B max_us=C
set -euo pipefail
cd "$(dirname "$0")/.."
N=200
[ "${1:-}" = "--pushes" ] && N=$2
[ "$(id -u)" -eq 0 ] || { echo "swap.sh: run as root (DPDK)." >&2; exit 1; }
mkdir -p bench/out
[ -s bench/out/mix.pcap ] || /usr/bin/python3 bench/gen_mix.py bench/out/mix.pcap >/dev/null
cargo build --release -q
STATE=$(mktemp -d /tmp/antidote-swap.XXXXXX)
echo "bench:swap-bench-token-0123456789" > "$STATE/token"
target/release/antidote run --profile hw-profiles/bench-pcap-null.toml --policy policies/default.policy \
  --control 127.0.0.1:9449 --token-file "$STATE/token" --state-dir "$STATE" --stats-interval 0 > bench/out/swap.log 2>&1 &
PID=$!
trap 'kill -INT $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$STATE"' EXIT
for _ in $(seq 100); do grep -q "control API" bench/out/swap.log && break; sleep 0.1; done
H="Authorization: Bearer swap-bench-token-0123456789"
for _ in $(seq "$N"); do
  curl -sf -o /dev/null -X PUT -H "$H" --data-binary @policies/default.policy http://127.0.0.1:9449/v1/policy
done
curl -sf -H "$H" http://127.0.0.1:9449/v1/stats | /usr/bin/python3 -c '
import json,sys
s=json.load(sys.stdin)["swap_latency_us"]
print("swaps=%d p50_us=%d p99_us=%d max_us=%d" % (s["count"], s["p50"], s["p99"], s["max"]))'
