#!/usr/bin/env bash
# RFC 2544 through the appliance with pktgen-dpdk: pktgen port 0 → device port A, device port B →
# pktgen port 1, over net_memif here (one process each; the device is the memif server). For
# each device — dpdk-testpmd io, antidote with no policy, antidote with the default policy — and
# each frame size (and the poisoning mix, replayed from port 0), bench/pktgen/rfc2544.lua finds
# the no-drop and partial-drop rates and measures latency at 10/50/90 % of the PDR. Then the
# device's own counters are checked against pktgen's, and the results written as JSON, CSV and
# a chart (bench/pktgen/plot).
#
#   bench/pktgen/run.sh [--smoke] [--sizes 64,128,...] [--mix] [--trial-ms N] [--iterations N]
#                       [--duts testpmd,none,default] [--out DIR]
#
# --smoke: a few seconds per frame size (64 and 1518 and the mix, 1.5 s trials, 4 steps per
# search) — what CI runs. Without it: 64, 128, 256, 512, 1024, 1280, 1518 and the mix, 2 s
# trials. On this machine's memif the figures are a functional check (2 vCPUs: pktgen's main and
# worker lcores share CPU 0 with the device's main lcore; the device's worker has CPU 1): the
# script is what an operator runs on real NICs (docs: bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
die() { echo "pktgen/run.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (DPDK)."

SIZES=64,128,256,512,1024,1280,1518
MIX=1
TRIAL_MS=2000
ITERATIONS=10
DUTS=testpmd,none,default
OUT=bench/out/pktgen
SMOKE=
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1; SIZES=64,1518; TRIAL_MS=1500; ITERATIONS=4; DUTS=testpmd,default; shift ;;
    --sizes) SIZES=$2; shift 2 ;;
    --no-mix) MIX=; shift ;;
    --mix) MIX=1; shift ;;
    --trial-ms) TRIAL_MS=$2; shift 2 ;;
    --iterations) ITERATIONS=$2; shift 2 ;;
    --duts) DUTS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) die "usage: bench/pktgen/run.sh [--smoke] [--sizes LIST] [--no-mix] [--trial-ms N] [--iterations N] [--duts testpmd,none,default] [--out DIR]" ;;
  esac
done
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd missing: run scripts/setup.sh."
PKTGEN=$(bench/pktgen/build.sh | tail -1)
TREE=$(dirname "$(dirname "$(dirname "$PKTGEN")")")
[ -x target/release/antidote ] && [ -z "$(find src dataplane policy-lang control Cargo.toml -newer target/release/antidote -print -quit 2>/dev/null)" ] \
  || cargo build --release -q
ANTIDOTE=$(pwd)/target/release/antidote
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/results.jsonl "$OUT"/*.log

# The mix: bench/gen_mix.py's standard mix; its mean frame size with CRC paces pktgen.
MIXFILE=$(pwd)/bench/out/mix.pcap
mkdir -p "$(dirname "$MIXFILE")"
[ -s "$MIXFILE" ] || /usr/bin/python3 bench/gen_mix.py "$MIXFILE" >/dev/null
MIX_AVG=$(/usr/bin/python3 -c "
import struct,sys
f=open(sys.argv[1],'rb'); f.read(24); n=t=0
while True:
    h=f.read(16)
    if len(h)<16: break
    l=struct.unpack('<IIII',h)[2]; f.read(l); n+=1; t+=max(l,60)+4
print(round(t/n))" "$MIXFILE")

# pktgen takes ~1.25 GB of hugepages per port; the device ~0.2 GB.
HP=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
[ "$(cat $HP)" -ge 1600 ] || echo 1600 > $HP
[ "$(cat $HP)" -ge 1600 ] || die "could not reserve 1600 hugepages of 2 MiB (pktgen needs ~1.25 GB a port)."

RUN=/run/antidote-pktgen-$$
mkdir -p "$RUN"
DUT_PID=
cleanup() {
  [ -n "$DUT_PID" ] && kill -TERM "$DUT_PID" 2>/dev/null || true
  pkill -TERM -f "file-prefix=pg-(dut|gen)-$$" 2>/dev/null || true
  sleep 1
  rm -rf "$RUN" /var/run/dpdk/pg-dut-$$ /var/run/dpdk/pg-gen-$$
}
trap cleanup EXIT

SIZELIST=$SIZES${MIX:+,mix}
for dut in ${DUTS//,/ }; do
  rm -f "$RUN"/*.sock
  A="net_memif0,role=server,socket=$RUN/a.sock,id=0"
  B="net_memif1,role=server,socket=$RUN/b.sock,id=0"
  case "$dut" in
    testpmd)
      name=testpmd
      # (testpmd quits when its stdin ends: it gets one that never does; it is stopped by
      # signal. Its port counters are printed every second: the last print is read. memif sizes
      # its rings by the descriptors: 1024, as the appliance's profile has.)
      ( tail -f /dev/null | dpdk-testpmd -l 0,1 --in-memory --no-pci --file-prefix=pg-dut-$$ --log-level='*:warning' \
          --vdev="$A" --vdev="$B" -- --forward-mode=io --rxd=1024 --txd=1024 --stats-period=1 ) > "$OUT/dut-testpmd.log" 2>&1 &
      for _ in $(seq 1 50); do DUT_PID=$(pgrep -f "dpdk-testpmd .*file-prefix=pg-dut-$$" | head -1); [ -n "$DUT_PID" ] && break; sleep 0.1; done
      # It waits up to ~9 s for links that come up only once pktgen connects.
      ready="Checking link statuses"
      ;;
    none | default)
      name=antidote-$([ "$dut" = none ] && echo no-policy || echo default-policy)
      cat > "$RUN/profile.toml" <<EOF
name = "pktgen-memif"
description = "pktgen port 0 -> a (memif) ... b (memif) -> pktgen port 1"
hugepages = true
main_lcore = 0
worker_lcores = [1]
mempool_mbufs = 16383
mempool_cache = 512
[[port]]
name = "a"
device = "$A"
[[port]]
name = "b"
device = "$B"
[[pair]]
a = "a"
b = "b"
EOF
      policy=()
      [ "$dut" = default ] && policy=(--policy "$(pwd)/policies/default.policy")
      ANTIDOTE_CONFIG=none "$ANTIDOTE" run --profile "$RUN/profile.toml" "${policy[@]}" --control off --stats-interval 0 > "$OUT/dut-$name.log" 2>&1 &
      DUT_PID=$!
      ready="running:"
      ;;
    *) die "unknown device under test \`$dut\` (testpmd, none, default)" ;;
  esac
  for _ in $(seq 1 300); do grep -q "$ready" "$OUT/dut-$name.log" 2>/dev/null && break; kill -0 "$DUT_PID" 2>/dev/null || break; sleep 0.1; done
  grep -q "$ready" "$OUT/dut-$name.log" || { cat "$OUT/dut-$name.log" >&2; die "$name did not start."; }

  # pktgen: its main lcore and its worker on CPU 0 (lcores 0 and 1); the worker polls both
  # ports. It wants a terminal: `script` gives it one.
  n_sizes=$(echo "$SIZELIST" | tr ',' '\n' | wc -l)
  limit=$(( n_sizes * (ITERATIONS + 8) * 2 * (TRIAL_MS + 1200) / 1000 + 60 ))
  cmd="$PKTGEN --lcores 0@0,1@0 --in-memory --no-pci --file-prefix=pg-gen-$$ --log-level='*:warning' \
--vdev=net_memif0,role=client,socket=$RUN/a.sock,id=0 --vdev=net_memif1,role=client,socket=$RUN/b.sock,id=0 -- \
-P -m 1.[0-1] ${MIX:+-s 0:$MIXFILE} -f $(pwd)/bench/pktgen/rfc2544.lua"
  # What the policy drops of the mix by design (its poisoned answers): the replay of the mix
  # with the same policy says; not a loss.
  # pktgen replays the mix in a loop: the steady state is a later pass (the first teaches the
  # poisoners), so the replay reads it twice and counts the second pass.
  drop=0
  if [ -n "$MIX" ] && [ "$dut" = default ]; then
    /usr/bin/python3 -c "
import sys
d = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(d + d[24:])" "$MIXFILE" "$RUN/mix2.pcap"
    dropped() { ANTIDOTE_CONFIG=none "$ANTIDOTE" replay --policy policies/default.policy --in "$1" --out "$RUN/replayed.pcap" 2>/dev/null \
      | awk '/frames in/ {for (i=1;i<=NF;i++) if ($i=="dropped") print $(i-1)}'; }
    once=$(dropped "$MIXFILE"); twice=$(dropped "$RUN/mix2.pcap")
    n=$(/usr/bin/python3 -c "
import struct,sys
f=open(sys.argv[1],'rb'); f.read(24); n=0
while True:
    h=f.read(16)
    if len(h)<16: break
    f.read(struct.unpack('<IIII',h)[2]); n+=1
print(n)" "$MIXFILE")
    drop=$(awk -v a="$once" -v b="$twice" -v n="$n" 'BEGIN {printf "%.4f", 100*(b-a)/n}')
  fi
  (
    cd "$TREE"
    export AD_MIX_POLICY_DROP=$drop
    export AD_DUT=$name AD_SIZES=$SIZELIST AD_TRIAL_MS=$TRIAL_MS AD_ITERATIONS=$ITERATIONS AD_MIX_AVG=$MIX_AVG AD_OUT=$OUT/results.jsonl
    export AD_DONE=$RUN/done-$name AD_RELEASE=$RUN/release-$name
    timeout -s INT "$limit" script -qfec "$cmd" "$OUT/pktgen-$name.log" < /dev/null > /dev/null 2>&1 &
    gen=$!
    # Its display and command threads poll too: they yield to its worker.
    sleep 3
    for t in /proc/$(pgrep -f "file-prefix=pg-gen-$$" | head -1)/task/*; do
      [ "$(cat "$t/comm" 2>/dev/null)" = "rte-worker-1" ] || renice -n 19 -p "$(basename "$t")" >/dev/null 2>&1 || true
    done
    # The device stops while pktgen is still connected, then pktgen quits (rfc2544.lua: AD_DONE,
    # AD_RELEASE). The other order crashes a device on DPDK 22.11's memif (its PMD unmaps the
    # rings of a peer that left under the polling worker: testpmd and antidote alike, measured),
    # and testpmd's port counters read zero once its peer is gone.
    while kill -0 "$gen" 2>/dev/null && [ ! -e "$AD_DONE" ]; do sleep 0.2; done
    # (testpmd prints its counters every second: the last print comes after pktgen's last frame.)
    sleep 1.5
    kill -TERM "$DUT_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$DUT_PID" 2>/dev/null || break; sleep 0.1; done
    touch "$AD_RELEASE"
    wait "$gen" || true
  )
  wait "$DUT_PID" 2>/dev/null && rc=0 || rc=$?
  DUT_PID=
  # testpmd stopped by SIGTERM exits with its own status; the appliance must exit 0.
  case "$name" in antidote-*) [ "$rc" -eq 0 ] || { tail -20 "$OUT/dut-$name.log" >&2; die "$name exited with status $rc when stopped."; } ;; esac
  rm -rf /var/run/dpdk/pg-dut-$$ /var/run/dpdk/pg-gen-$$
  grep -q "\"dut\":\"$name\",\"kind\":\"error\"" "$OUT/results.jsonl" 2>/dev/null && die "$name: $(grep "\"dut\":\"$name\",\"kind\":\"error\"" "$OUT/results.jsonl")"
  grep -q "\"dut\":\"$name\"" "$OUT/results.jsonl" 2>/dev/null || { tail -20 "$OUT/pktgen-$name.log" >&2; die "$name: pktgen wrote no result."; }
done

# JSON, CSV, the counters' cross-check and the chart.
/usr/bin/python3 bench/pktgen/report.py "$OUT"
