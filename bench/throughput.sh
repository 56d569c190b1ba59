#!/usr/bin/env bash
# Throughput of antidote against dpdk-testpmd (io forwarding) on the same vdevs, in one run.
#
#   bench/throughput.sh [--policy FILE] [--seconds N] [--rounds N] [--quiet | --smb | --mix PCAP] [--bin PATH]
#                       [--canaries] [--workers N]
#
# --quiet: the same mix without its name-resolution answers (a network with no poisoner: the
# default policy learns none, and its rules about learned poisoners stay dormant).
# --smb: the mix with a fifth of its data frames SMB2 segments between hosts (a file-server
# network, poisoners known: what the follow-on rules watch).
# --mix PCAP: any other capture (bench/flood.sh's floods); --bin PATH: another antidote build;
# --canaries: the pair with a canary identity, canaries every second (docs/canaries.md).
# --workers N: N workers, each with its own RX queue (net_pcap gives one queue per `rx_pcap`,
# each replaying the mix from its own copy: no hash spreads them, each queue is a whole mix), on
# lcores 1..N; lcore k runs on CPU k mod (the machine's CPUs), so N may exceed the CPUs only
# by sharing them (bench/scaling.sh runs N up to the CPUs). testpmd gets the same queues and
# lcores (--rxq/--txq/--nb-cores N).
#
# Source: net_pcap replaying bench/out/mix.pcap from memory forever (infinite_rx), a realistic
# mix written by bench/gen_mix.py; sink: net_null. Both forwarders get the same lcores (main 0,
# worker 1), hugepages (--in-memory) and vdev arguments. Each round runs testpmd then antidote;
# a forwarder's rate is the median of its per-second RX rates (antidote's first second and
# testpmd's first two skipped as warm-up: runs are at least 4 s).
# The last line reads: antidote_mpps=A testpmd_mpps=T ratio=R
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/profiles.sh

SECONDS_PER_RUN=6
ROUNDS=2
BIN_OVERRIDE=
CANARIES=
WORKERS=1
POLICY=()
MIX=bench/out/mix.pcap
PROFILE=hw-profiles/bench-pcap-null.toml
while [ $# -gt 0 ]; do
  case "$1" in
    --quiet) MIX=bench/out/mix-quiet.pcap; PROFILE=hw-profiles/bench-pcap-null-quiet.toml; shift ;;
    --smb) MIX=bench/out/mix-smb.pcap; PROFILE=hw-profiles/bench-pcap-null-smb.toml; shift ;;
    --policy) POLICY=(--policy "$2"); shift 2 ;;
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --mix)
      MIX="$2"; PROFILE=bench/out/profile-mix.toml; shift 2
      mix_profile "$MIX" "$PROFILE" ;;
    --bin) BIN_OVERRIDE="$2"; shift 2 ;;
    --canaries) CANARIES=1; shift ;;
    --workers) WORKERS="$2"; shift 2 ;;
    *) echo "usage: bench/throughput.sh [--policy FILE] [--seconds N] [--rounds N] [--quiet | --smb | --mix PCAP] [--bin PATH] [--canaries] [--workers N]" >&2; exit 2 ;;
  esac
done
# (Shorter runs leave too few seconds past the warm-up to take a median of.)
[[ "$SECONDS_PER_RUN" =~ ^[0-9]+$ ]] && [ "$SECONDS_PER_RUN" -ge 4 ] \
  || { echo "throughput.sh: --seconds must be a whole number of at least 4 (the first seconds of each run are warm-up)." >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "throughput.sh: run as root (DPDK)." >&2; exit 1; }
command -v dpdk-testpmd >/dev/null || { echo "throughput.sh: dpdk-testpmd missing: run scripts/setup.sh." >&2; exit 1; }

mkdir -p bench/out
[ -s bench/out/mix.pcap ] || /usr/bin/python3 bench/gen_mix.py bench/out/mix.pcap >/dev/null
[ -s bench/out/mix-quiet.pcap ] || /usr/bin/python3 bench/gen_mix.py bench/out/mix-quiet.pcap --quiet >/dev/null
[ -s bench/out/mix-smb.pcap ] || /usr/bin/python3 bench/gen_mix.py bench/out/mix-smb.pcap 4096 --smb-share 0.2 >/dev/null
[ -x target/release/antidote ] && [ -z "$(find src dataplane policy-lang control Cargo.toml .cargo -newer target/release/antidote -print -quit 2>/dev/null)" ] \
  || cargo build --release -q
BIN=${BIN_OVERRIDE:-target/release/antidote}
EXTRA=()
if [ -n "$CANARIES" ]; then
  # The pair gets a canary identity; canaries every second per protocol.
  canary_profile "$PROFILE" bench/out/profile-canaries.toml
  PROFILE=bench/out/profile-canaries.toml
  EXTRA=(--canary-interval 1)
fi
RX_PCAPS=$(for _ in $(seq 1 "$WORKERS"); do printf 'rx_pcap=%s,' "$MIX"; done)
VDEVS=(--vdev=net_pcap0,${RX_PCAPS}infinite_rx=1 --vdev=net_null0,no-rx=1)
# lcore k on CPU k mod the CPUs (lcore 0, the main one, mostly sleeps).
CPUS=$(nproc)
LCORES=0@0
for k in $(seq 1 "$WORKERS"); do LCORES+=",$k@$((k % CPUS))"; done
TESTPMD_Q=()
if [ "$WORKERS" -gt 1 ]; then
  # Every port gets one RX queue per worker.
  lcores=$(seq -s, 1 "$WORKERS"); wcpus=$(for k in $(seq 1 "$WORKERS"); do printf '%s,' $((k % CPUS)); done)
  awk -v l="$lcores" -v c="${wcpus%,}" -v n="$WORKERS" -v p="$RX_PCAPS" '
    /^worker_lcores = / { print "worker_lcores = [" l "]"; print "worker_cpus = [" c "]"; next }
    /^device = "net_pcap0,/ { sub(/rx_pcap=[^,]*,/, p) }
    { print }
    /^device = / { print "rx_queues = " n }
  ' "$PROFILE" > "bench/out/profile-workers.toml"
  grep -q "^worker_cpus" bench/out/profile-workers.toml || { echo "throughput.sh: $PROFILE has no worker_lcores line to widen" >&2; exit 1; }
  PROFILE=bench/out/profile-workers.toml
  TESTPMD_Q=(--rxq="$WORKERS" --txq="$WORKERS" --nb-cores="$WORKERS")
fi

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print 0} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

run_testpmd() {
  # testpmd exits at once when stdin is at EOF: feed it a never-ending stdin. It is stopped by
  # SIGINT after the run (timeout's exit code 124 is expected).
  tail -f /dev/null | timeout -s INT "$((SECONDS_PER_RUN + 1))" dpdk-testpmd --lcores="$LCORES" --in-memory --no-pci \
    --file-prefix="bench-testpmd-$$" --log-level='*:warning' "${VDEVS[@]}" -- \
    --forward-mode=io --stats-period=1 "${TESTPMD_Q[@]}" > bench/out/testpmd.log 2>&1 || true
  # testpmd leaves its runtime folder behind even with --in-memory.
  rm -rf "/var/run/dpdk/bench-testpmd-$$"
  awk '/NIC statistics for port/ {port=$(NF-1)} /Rx-pps:/ && port=="0" {print $2/1e6}' bench/out/testpmd.log \
    | tail -n +3 | median
}

run_antidote() {
  "$BIN" run --profile "$PROFILE" "${POLICY[@]}" "${EXTRA[@]}" --control off --stats-interval 1 \
    --duration "$SECONDS_PER_RUN" > bench/out/antidote.log 2>&1 &
  local pid=$! rss=()
  # Resident memory once a second: it must stay flat (no per-packet allocation, bounded tables).
  while kill -0 "$pid" 2>/dev/null; do
    r=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$r" ] && rss+=("$r")
    sleep 1
  done
  wait "$pid" || { echo "throughput.sh: antidote failed:" >&2; cat bench/out/antidote.log >&2; exit 1; }
  # RSS after warm-up (2nd sample) and at the end, in MiB.
  if [ ${#rss[@]} -ge 3 ]; then
    echo "${rss[1]} ${rss[${#rss[@]}-1]}" > bench/out/rss
  else
    echo "0 0" > bench/out/rss
  fi
  awk '/^antidote: [0-9.]+s \|/ {u=$NF; v=$(NF-1); print (u=="Mpps") ? v : (u=="kpps") ? v/1e3 : v/1e6}' bench/out/antidote.log | tail -n +2 | median
}

t_all=(); a_all=()
for r in $(seq 1 "$ROUNDS"); do
  t=$(run_testpmd); a=$(run_antidote)
  read -r rss0 rss1 < bench/out/rss
  # Held answers (verify), from the final line: what the hold path did over the run.
  hold=$(grep -o 'held [0-9]* released [0-9]* dropped [0-9]* fallback [0-9]* probes [0-9]*' bench/out/antidote.log | tail -1 || true)
  echo "round $r: testpmd ${t} Mpps, antidote ${a} Mpps, antidote RSS $((rss0 / 1024)) MiB after warm-up -> $((rss1 / 1024)) MiB at the end${hold:+; $hold in ${SECONDS_PER_RUN} s}"
  t_all+=("$t"); a_all+=("$a")
done
T=$(printf '%s\n' "${t_all[@]}" | median)
A=$(printf '%s\n' "${a_all[@]}" | median)
R=$(awk -v a="$A" -v t="$T" 'BEGIN { if (t > 0) printf "%.3f", a / t; else print "nan" }')
printf 'antidote_mpps=%.3f testpmd_mpps=%.3f ratio=%s\n' "$A" "$T" "$R"
