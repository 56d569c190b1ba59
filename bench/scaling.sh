#!/usr/bin/env bash
# The scaling curve: antidote and dpdk-testpmd with 1, 2, 4… workers, each worker its own RX
# queue (bench/throughput.sh --workers N: net_pcap replaying the mix on every queue → net_null).
#
#   bench/scaling.sh [--workers "1 2 4"] [--rounds N] [--seconds S] [--policy FILE] [--shared-cpus]
#
# Worker counts above the machine's CPUs (one is left to the main lcore's CPU, which it shares
# with the last worker) are skipped unless --shared-cpus: workers sharing a CPU measure the
# scheduler, not the appliance. On real NICs the same question is asked of pktgen over RSS
# (bench/pktgen/README.md: a profile with rx_queues = N and N worker lcores).
#
# Prints a line per worker count and writes bench/out/scaling.csv:
#   workers,antidote_mpps,testpmd_mpps,ratio,antidote_speedup,testpmd_speedup
set -euo pipefail
cd "$(dirname "$0")/.."
COUNTS="1 2 4"
ROUNDS=2
SECS=4
POLICY=policies/default.policy
SHARED=
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) COUNTS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --seconds) SECS="$2"; shift 2 ;;
    --policy) POLICY="$2"; shift 2 ;;
    --shared-cpus) SHARED=1; shift ;;
    *) echo "usage: bench/scaling.sh [--workers \"1 2 4\"] [--rounds N] [--seconds S] [--policy FILE] [--shared-cpus]" >&2; exit 2 ;;
  esac
done
CPUS=$(nproc)
mkdir -p bench/out
out=bench/out/scaling.csv
echo "workers,antidote_mpps,testpmd_mpps,ratio,antidote_speedup,testpmd_speedup" > "$out"
a1=; t1=
for n in $COUNTS; do
  if [ "$n" -gt "$CPUS" ] && [ -z "$SHARED" ]; then
    echo "workers=$n skipped: $CPUS CPU(s) here (--shared-cpus runs it anyway)"
    continue
  fi
  line=$(bench/throughput.sh --policy "$POLICY" --rounds "$ROUNDS" --seconds "$SECS" --workers "$n" | tail -1)
  a=$(sed -n 's/.*antidote_mpps=\([0-9.]*\).*/\1/p' <<<"$line")
  t=$(sed -n 's/.*testpmd_mpps=\([0-9.]*\).*/\1/p' <<<"$line")
  r=$(sed -n 's/.*ratio=\([0-9.a-z]*\).*/\1/p' <<<"$line")
  [ -n "$a1" ] || { a1=$a; t1=$t; }
  sa=$(awk -v a="$a" -v b="$a1" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
  st=$(awk -v a="$t" -v b="$t1" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
  echo "$n,$a,$t,$r,$sa,$st" >> "$out"
  echo "workers=$n antidote_mpps=$a testpmd_mpps=$t ratio=$r antidote_speedup=$sa testpmd_speedup=$st"
done
echo "scaling.sh: $out"
