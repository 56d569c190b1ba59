#!/usr/bin/env bash
# Floods an attacker on the segment can send (bench/gen_flood.py: every frame a new ARP sender,
# NBT-NS registration, mDNS probe or DHCP client; forged answers — new names from new sources, from
# one source, for one name, in two or three VLAN tags; queries; malformed answers; fragments;
# first fragments over IPv4 and IPv6; SYNs to a learned poisoner, padded and short; SQL browser
# replies once a poisoner is learned; TCP with IPv4 options between other hosts; with --canaries,
# canary-answers, to-canary and arp-canary: frames for the canary identity)
# under the default policy, against dpdk-testpmd on the same vdevs, as bench/throughput.sh
# measures.
#
#   bench/flood.sh [--rounds N] [--seconds S] [--bin PATH] [--canaries] [KIND ...]
#
# --canaries: the pair with a canary identity (bench/throughput.sh --canaries): the `answers`
# flood is then the hold path's worst case — every frame an answer `verify` holds and probes.
#
# Prints one line per flood: flood=KIND antidote_mpps=A testpmd_mpps=T ratio=R
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=2
SECS=4
BIN=()
KINDS=()
CANARIES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --seconds) SECS="$2"; shift 2 ;;
    --bin) BIN=(--bin "$2"); shift 2 ;;
    --canaries) CANARIES=(--canaries); shift ;;
    -*) echo "usage: bench/flood.sh [--rounds N] [--seconds S] [--bin PATH] [KIND ...] (bench/gen_flood.py lists the kinds)" >&2; exit 2 ;;
    *) KINDS+=("$1"); shift ;;
  esac
done
[ ${#KINDS[@]} -gt 0 ] || KINDS=(arp nbns-reg mdns-probe dhcp answers answers-one-source answers-one-name answers-qinq vlan-stack queries malformed fragments first-fragments first-fragments-v6 syn-to-poisoner syn-to-poisoner-short ssrp-replies tcp-options)
mkdir -p bench/out
for k in "${KINDS[@]}"; do
  f=bench/out/flood-$k.pcap
  [ -s "$f" ] || /usr/bin/python3 bench/gen_flood.py "$k" "$f" >/dev/null
  line=$(bench/throughput.sh --policy policies/default.policy --mix "$f" --rounds "$ROUNDS" --seconds "$SECS" "${BIN[@]}" "${CANARIES[@]}" | tail -1)
  echo "flood=$k $line"
done
