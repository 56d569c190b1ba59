#!/usr/bin/env bash
# Two builds of antidote against each other, in alternated, paired runs on the throughput
# bench's vdevs and mix: the way to tell whether a change to the packet path costs anything on a
# machine whose speed moves by a few percent from minute to minute (a pair's two runs are
# seconds apart; the order within a pair alternates, so a drift favours neither).
#
#   bench/paired.sh BEFORE_BIN AFTER_BIN [--pairs N] [--seconds S] [--policy FILE] [--quiet | --smb]
#                   [--canaries]
#
# --canaries: the pair with a canary identity and canaries every second, as throughput.sh's.
#
# Each run is `antidote run` on hw-profiles/bench-pcap-null.toml for S seconds; its rate is the
# median of its per-second rates (the first second skipped), as in throughput.sh. Builds with
# the `phase-cycles` feature (bench/phases.sh builds one into target/phases) also report their
# judging cycles per frame. Prints each pair and, last:
#   before_mpps=B after_mpps=A median_pair_ratio=R
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/profiles.sh
[ $# -ge 2 ] || { echo "usage: bench/paired.sh BEFORE_BIN AFTER_BIN [--pairs N] [--seconds S] [--policy FILE] [--quiet | --smb]" >&2; exit 2; }
BEFORE=$1 AFTER=$2
shift 2
PAIRS=6
SECONDS_PER_RUN=5
POLICY=(--policy policies/default.policy)
MIX=bench/out/mix.pcap
PROFILE=hw-profiles/bench-pcap-null.toml
CANARIES=
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) PAIRS="$2"; shift 2 ;;
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --policy) POLICY=(--policy "$2"); shift 2 ;;
    --quiet) MIX=bench/out/mix-quiet.pcap; PROFILE=hw-profiles/bench-pcap-null-quiet.toml; shift ;;
    --smb) MIX=bench/out/mix-smb.pcap; PROFILE=hw-profiles/bench-pcap-null-smb.toml; shift ;;
    --canaries) CANARIES=1; shift ;;
    *) echo "paired.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "paired.sh: run as root (DPDK)." >&2; exit 1; }
for b in "$BEFORE" "$AFTER"; do [ -x "$b" ] || { echo "paired.sh: $b is not an executable antidote build." >&2; exit 1; }; done
mkdir -p bench/out
[ -s bench/out/mix.pcap ] || /usr/bin/python3 bench/gen_mix.py bench/out/mix.pcap >/dev/null
[ -s bench/out/mix-quiet.pcap ] || /usr/bin/python3 bench/gen_mix.py bench/out/mix-quiet.pcap --quiet >/dev/null
[ -s bench/out/mix-smb.pcap ] || /usr/bin/python3 bench/gen_mix.py bench/out/mix-smb.pcap 4096 --smb-share 0.2 >/dev/null
if [ -n "$CANARIES" ]; then
  canary_profile "$PROFILE" bench/out/profile-paired-canaries.toml
  PROFILE=bench/out/profile-paired-canaries.toml
  EXTRA=(--canary-interval 1)
fi

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print 0} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

# One run: "MPPS JUDGE" (JUDGE: judging cycles per frame, or - without the feature).
run() {
  local out
  out=$("$1" run --profile "$PROFILE" "${POLICY[@]}" "${EXTRA[@]}" --control off --stats-interval 1 --duration "$SECONDS_PER_RUN" 2>&1) \
    || { echo "paired.sh: $1 failed:" >&2; echo "$out" >&2; exit 1; }
  local mpps judge
  mpps=$(echo "$out" | awk '/^antidote: [0-9.]+s \|/ {u=$NF; v=$(NF-1); print (u=="Mpps") ? v : (u=="kpps") ? v/1e3 : v/1e6}' | tail -n +2 | median)
  judge=$(echo "$out" | grep "^antidote phases" | head -1 | sed -E 's/.*judge ([0-9.]+).*/\1/')
  echo "$mpps ${judge:--}"
}

b_all=(); a_all=(); r_all=()
for p in $(seq 1 "$PAIRS"); do
  if [ $((p % 2)) -eq 1 ]; then
    read -r b bj <<<"$(run "$BEFORE")"; read -r a aj <<<"$(run "$AFTER")"
  else
    read -r a aj <<<"$(run "$AFTER")"; read -r b bj <<<"$(run "$BEFORE")"
  fi
  r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print "nan" }')
  echo "pair $p: before ${b} Mpps (judge ${bj}), after ${a} Mpps (judge ${aj}), after/before ${r}"
  b_all+=("$b"); a_all+=("$a"); r_all+=("$r")
done
printf 'before_mpps=%.3f after_mpps=%.3f median_pair_ratio=%s\n' \
  "$(printf '%s\n' "${b_all[@]}" | median)" "$(printf '%s\n' "${a_all[@]}" | median)" "$(printf '%s\n' "${r_all[@]}" | median)"
