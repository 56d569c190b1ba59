#!/usr/bin/env bash
# Where the worker's time goes, in TSC cycles per frame: the poll round (PMDs included), the
# judging of the bursts, and in it the header look and the slow path. Steadier than packet
# rates on a shared machine, and in time, where bench/instructions.sh counts instructions
# (which did not predict time here: see RESULTS.md, session 12).
#
#   bench/phases.sh [--policy FILE] [--rounds N] [--seconds S] [--quiet | --smb | --mix PCAP]
#
# Builds antidote with the `phase-cycles` feature (into target/phases), runs the throughput
# bench's profile and mix for S seconds N times, and prints each round and the medians:
#   poll=P judge=J look=L slow=S mpps=M
# A change to the packet path is compared by running this on both builds, alternated.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/profiles.sh
POLICY=policies/default.policy
ROUNDS=3
SECONDS_PER_RUN=4
MIX=bench/out/mix.pcap
PROFILE=hw-profiles/bench-pcap-null.toml
while [ $# -gt 0 ]; do
  case "$1" in
    --policy) POLICY="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --quiet) MIX=bench/out/mix-quiet.pcap; PROFILE=hw-profiles/bench-pcap-null-quiet.toml; shift ;;
    --smb) MIX=bench/out/mix-smb.pcap; PROFILE=hw-profiles/bench-pcap-null-smb.toml; shift ;;
    --mix)
      # Any other capture, replayed as the standard mix is.
      MIX="$2"; PROFILE=bench/out/profile-phases-mix.toml; shift 2
      mix_profile "$MIX" "$PROFILE" ;;
    *) echo "usage: bench/phases.sh [--policy FILE] [--rounds N] [--seconds S] [--quiet | --smb | --mix PCAP]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "phases.sh: run as root (DPDK)." >&2; exit 1; }
mkdir -p bench/out
[ -s bench/out/mix.pcap ] || /usr/bin/python3 bench/gen_mix.py bench/out/mix.pcap >/dev/null
[ -s bench/out/mix-quiet.pcap ] || /usr/bin/python3 bench/gen_mix.py bench/out/mix-quiet.pcap --quiet >/dev/null
[ -s bench/out/mix-smb.pcap ] || /usr/bin/python3 bench/gen_mix.py bench/out/mix-smb.pcap 4096 --smb-share 0.2 >/dev/null
cargo build --release -q --features phase-cycles --target-dir target/phases
BIN=target/phases/release/antidote
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print 0} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
declare -A all
for r in $(seq 1 "$ROUNDS"); do
  out=$("$BIN" run --profile "$PROFILE" --policy "$POLICY" --control off --duration "$SECONDS_PER_RUN" 2>&1) \
    || { echo "phases.sh: antidote failed:" >&2; echo "$out" >&2; exit 1; }
  line=$(echo "$out" | grep "^antidote phases" | head -1)
  [ -n "$line" ] || { echo "phases.sh: no phases line (was the feature built?)" >&2; exit 1; }
  mpps=$(echo "$out" | grep "antidote final" | grep -o '[0-9.]* Mpps' | awk '{print $1}')
  read -r poll judge look slow <<<"$(echo "$line" | sed -E 's/.*poll ([0-9.]+) judge ([0-9.]+) look ([0-9.]+) slow ([0-9.]+).*/\1 \2 \3 \4/')"
  echo "round $r: poll=$poll judge=$judge look=$look slow=$slow mpps=$mpps"
  for k in poll judge look slow mpps; do all[$k]+="${!k} "; done
done
printf 'poll=%s judge=%s look=%s slow=%s mpps=%s\n' \
  "$(tr ' ' '\n' <<<"${all[poll]}" | grep . | median)" "$(tr ' ' '\n' <<<"${all[judge]}" | grep . | median)" \
  "$(tr ' ' '\n' <<<"${all[look]}" | grep . | median)" "$(tr ' ' '\n' <<<"${all[slow]}" | grep . | median)" \
  "$(tr ' ' '\n' <<<"${all[mpps]}" | grep . | median)"
