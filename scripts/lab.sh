#!/usr/bin/env bash
# The lab network: namespaces joined only through the appliance.
#
#   ad-victim (VICTIM)                                  ad-lan: bridge br0
#     eth0 ══ veth ══ ad-a  [antidote]  ad-b ══ veth ══ uplink ──┬─ p-legit    ══ eth0 ad-legit    (LEGIT: file server, DHCP server)
#                      (host side, no IP)                        ├─ p-win      ══ eth0 ad-win      (WIN: a Windows-like host)
#   ad-victim2 (VICTIM2)                                         ├─ p-poisoner ══ eth0 ad-poisoner (POISONER)
#     eth0 ══ veth ══ ad-c  [antidote]  ad-d ══ veth ══ uplink2 ─┘
#
# The second victim segment (ad-c / ad-d) is a second port pair of the same appliance (the shape
# of a two-segment profile such as the X710's): hw-profiles/lab.toml bridges only a/b, and
# frames the LAN floods to uplink2 go nowhere until a profile names c and d
# (tests/lab_bridge.rs: two pairs at once).
#
# Two addressing plans, so that nothing the appliance does can depend on the lab's numbers:
#   a: 198.18.0.0/24, hosts .10 (victim) .20 (legit) .30 (win) .66 (poisoner) .11 (victim2),
#      MACs 02:ad:00:00:00:xx
#   b: 198.19.77.0/24, hosts .131 .57 .88 .201 .132, fd00:198:18::b:…, MACs 02:bb:…
# Usage: scripts/lab.sh up [a|b] | down | status | plan [a|b]   (`plan` prints the plan as JSON)
# `up` first removes whatever a failed run left, so it always starts clean. Only addresses in
# 198.18.0.0/15 and fd00:198:18::/64 are used; the host's own interfaces are never touched.
set -euo pipefail

NS=(ad-victim ad-victim2 ad-lan ad-legit ad-win ad-poisoner)
die() { echo "lab.sh: $*" >&2; exit 1; }

plan() { # a|b: sets NET4 BCAST V6P MACP and the hosts' last octets / IPv6 suffixes
  case "${1:-a}" in
    a) NET4=198.18.0; BCAST=198.18.0.255; V6P=fd00:198:18::; MACP=02:ad:00:00:00
       H_VICTIM=10; H_LEGIT=20; H_WIN=30; H_POISONER=66; H_VICTIM2=11 ;;
    b) NET4=198.19.77; BCAST=198.19.77.255; V6P=fd00:198:18::b:; MACP=02:bb:00:00:00
       H_VICTIM=131; H_LEGIT=57; H_WIN=88; H_POISONER=201; H_VICTIM2=132 ;;
    *) die "unknown addressing plan '$1' (a or b)" ;;
  esac
  PLAN=${1:-a}
}
mac() { printf '%s:%02x' "$MACP" "$1"; }

plan_json() {
  local first=1
  printf '{"plan": "%s", "broadcast": "%s", "prefix4": "%s", "hosts": {' "$PLAN" "$BCAST" "$NET4"
  for h in victim legit win poisoner victim2; do
    local var="H_${h^^}" n
    n=${!var}
    [ $first -eq 1 ] || printf ', '
    first=0
    printf '"%s": {"ns": "ad-%s", "ip4": "%s.%s", "ip6": "%s%s", "mac": "%s"}' "$h" "$h" "$NET4" "$n" "$V6P" "$n" "$(mac "$n")"
  done
  printf '}}\n'
}

# Offloads off: frames cross af_packet, so checksums must be complete and segments real.
offloads_off() { # [netns] iface
  local pre=()
  [ "$1" != "-" ] && pre=(ip netns exec "$1")
  "${pre[@]}" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
}

down() {
  for ns in "${NS[@]}"; do
    if ip netns list | grep -qw "^$ns"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    fi
  done
  sleep 0.1
  for ns in "${NS[@]}"; do
    if ip netns list | grep -qw "^$ns"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns" || true
    fi
  done
  for l in ad-a ad-b ad-c ad-d; do ip link del "$l" 2>/dev/null || true; done
}

host_port() { # name: a host-side port of the appliance, silent (no IPv6, no IP)
  sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"
  ip link set "$1" up
  offloads_off - "$1"
}

node() { # ns n (the host's number in the plan)
  ip -n "$1" link set eth0 address "$(mac "$2")"
  ip -n "$1" addr add "$NET4.$2/24" brd "$BCAST" dev eth0
  ip -n "$1" addr add "$V6P$2/64" dev eth0 nodad
  ip -n "$1" link set eth0 up
  ip -n "$1" link set lo up
  # Multicast (LLMNR 224.0.0.252, mDNS 224.0.0.251) leaves by eth0, as on any LAN host.
  ip -n "$1" route add 224.0.0.0/4 dev eth0
  offloads_off "$1" eth0
}

up() {
  [ "$(id -u)" -eq 0 ] || die "run me as root: I create network namespaces."
  down
  for ns in "${NS[@]}"; do ip netns add "$ns"; done
  # victim <-> ad-a
  ip link add ad-a type veth peer name eth0 netns ad-victim
  node ad-victim "$H_VICTIM"
  # ad-b <-> ad-lan's bridge, with the LAN's hosts on it
  ip link add ad-b type veth peer name uplink netns ad-lan
  ip -n ad-lan link add br0 type bridge stp_state 0 mcast_snooping 0 forward_delay 0
  ip -n ad-lan link set uplink master br0
  for h in legit win poisoner; do
    ip link add "p-$h" netns ad-lan type veth peer name eth0 netns "ad-$h"
    ip -n ad-lan link set "p-$h" master br0
    ip -n ad-lan link set "p-$h" up
    offloads_off ad-lan "p-$h"
  done
  # victim2 <-> ad-c; ad-d <-> the same bridge: the second segment
  ip link add ad-c type veth peer name eth0 netns ad-victim2
  node ad-victim2 "$H_VICTIM2"
  ip link add ad-d type veth peer name uplink2 netns ad-lan
  ip -n ad-lan link set uplink2 master br0
  ip netns exec ad-lan sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  for u in uplink uplink2; do
    ip -n ad-lan link set "$u" up
    offloads_off ad-lan "$u"
  done
  ip -n ad-lan link set br0 up
  ip -n ad-lan link set lo up
  node ad-legit "$H_LEGIT"
  node ad-win "$H_WIN"
  node ad-poisoner "$H_POISONER"
  for p in ad-a ad-b ad-c ad-d; do host_port "$p"; done
  echo "lab.sh: up (plan $PLAN): ad-victim $NET4.$H_VICTIM on ad-a | ad-b: ad-legit $NET4.$H_LEGIT, ad-win $NET4.$H_WIN, ad-poisoner $NET4.$H_POISONER | ad-d: the same LAN | ad-c: ad-victim2 $NET4.$H_VICTIM2"
}

status() {
  for ns in "${NS[@]}"; do
    if ip netns list | grep -qw "^$ns"; then echo "$ns: $(ip -n "$ns" -br addr | tr '\n' ' ')"; else echo "$ns: absent"; fi
  done
}

case "${1:-}" in
  up) plan "${2:-a}"; up ;;
  down) [ "$(id -u)" -eq 0 ] || die "run me as root: I delete network namespaces."; down; echo "lab.sh: down" ;;
  status) status ;;
  plan) plan "${2:-a}"; plan_json ;;
  *) die "usage: scripts/lab.sh up [a|b] | down | status | plan [a|b]" ;;
esac
