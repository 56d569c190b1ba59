#!/usr/bin/env bash
# Instructions per frame of antidote's own per-frame work, counted by callgrind: deterministic,
# where time on a shared VM is not (the same binary has run at 12 and at 21 Mpps minutes apart).
#
#   bench/instructions.sh [--policy FILE] [--bin PATH]
#
# Runs the throughput bench's profile (bench/out/mix.pcap → net_null) without hugepages under
# `valgrind --tool=callgrind --fair-sched=yes` for two seconds and prints the instructions the
# worker's poll loop executes per frame received, minus the two PMD calls (net_pcap RX and
# net_null TX, ~268 per frame, which testpmd pays too), and the PMDs' own count. Needs valgrind
# (`apt-get install valgrind`); not part of CI. The last line reads:
#   ours_ir_per_frame=N slow_path_ir_per_frame=S pmd_rx=R pmd_tx=T frames=F
set -euo pipefail
cd "$(dirname "$0")/.."
POLICY=policies/default.policy
# A portable build (valgrind cannot run every instruction of the host's set, which the
# repository's .cargo/config.toml builds for).
BIN=target/portable/release/antidote
while [ $# -gt 0 ]; do
  case "$1" in
    --policy) POLICY="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    *) echo "usage: bench/instructions.sh [--policy FILE] [--bin PATH]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "instructions.sh: run as root (DPDK)." >&2; exit 1; }
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind missing: apt-get install valgrind." >&2; exit 1; }
mkdir -p bench/out
[ -s bench/out/mix.pcap ] || /usr/bin/python3 bench/gen_mix.py bench/out/mix.pcap >/dev/null
[ "$BIN" != target/portable/release/antidote ] \
  || CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-cpu=x86-64" cargo build --release -q --target-dir target/portable
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The bench profile without hugepages (valgrind cannot map them) and a smaller pool.
sed -e 's/^hugepages = true/hugepages = false\nmemory_mb = 256/' -e 's/^mempool_mbufs = .*/mempool_mbufs = 8191/' \
  -e '0,/^name = .*/s//name = "bench-instructions"/' hw-profiles/bench-pcap-null.toml > "$out/profile.toml"
valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$out/cg.out" "$BIN" run --profile "$out/profile.toml" \
  --policy "$POLICY" --control off --duration 2 > "$out/run.log" 2>&1 || { cat "$out/run.log" >&2; exit 1; }
frames=$(grep "antidote final" "$out/run.log" | grep -o 'a→b rx [0-9]*' | awk '{print $3}')
callgrind_annotate --inclusive=yes "$out/cg.out" > "$out/inclusive.txt" 2>/dev/null
/usr/bin/python3 - "$out/inclusive.txt" "$frames" <<'PY'
import re, sys
frames = int(sys.argv[2])
total = {}
for line in open(sys.argv[1]):
    m = re.match(r'\s*([\d,]+) \([ \d.]+%\)\s+(\S+)', line)
    if m:
        total.setdefault(m.group(2), int(m.group(1).replace(',', '')))
def find(suffix):
    return next((v for k, v in total.items() if k.endswith(suffix)), 0)
poll = find('worker::Worker::poll_once')
rx, tx = find('shim.c:ad_rx_burst'), find('shim.c:ad_tx_burst')
slow = find('act::Outputs::act')
print(f"ours_ir_per_frame={(poll - rx - tx) / frames:.1f} slow_path_ir_per_frame={slow / frames:.1f} "
      f"pmd_rx={rx / frames:.1f} pmd_tx={tx / frames:.1f} frames={frames}")
PY
