#!/usr/bin/env bash
# The lab network: namespaces joined only through the appliance.
#
#   ad-victim (198.18.0.10, fd00:198:18::10)            ad-lan: bridge br0
#     eth0 ══ veth ══ ad-a  [antidote]  ad-b ══ veth ══ uplink ─┬─ p-legit    ══ eth0 ad-legit    (198.18.0.20, ::20)
#                      (host side, no IP)                       └─ p-poisoner ══ eth0 ad-poisoner (198.18.0.66, ::66)
#
# Usage: scripts/lab.sh up | down | status
# `up` first removes whatever a failed run left, so it always starts clean. Only addresses in
# 198.18.0.0/24 and fd00:198:18::/64 are used; the host's own interfaces are never touched.
set -euo pipefail

NS=(ad-victim ad-lan ad-legit ad-poisoner)
die() { echo "lab.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run me as root: I create network namespaces."

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
  for l in ad-a ad-b; do ip link del "$l" 2>/dev/null || true; done
}

host_port() { # name: a host-side port of the appliance, silent (no IPv6, no IP)
  sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"
  ip link set "$1" up
  offloads_off - "$1"
}

node() { # ns mac v4 v6
  ip -n "$1" link set eth0 address "$2"
  ip -n "$1" addr add "$3/24" dev eth0
  ip -n "$1" addr add "$4/64" dev eth0 nodad
  ip -n "$1" link set eth0 up
  ip -n "$1" link set lo up
  # Multicast (LLMNR 224.0.0.252, mDNS 224.0.0.251) leaves by eth0, as on any LAN host.
  ip -n "$1" route add 224.0.0.0/4 dev eth0
  offloads_off "$1" eth0
}

up() {
  down
  for ns in "${NS[@]}"; do ip netns add "$ns"; done
  # victim <-> ad-a
  ip link add ad-a type veth peer name eth0 netns ad-victim
  node ad-victim 02:ad:00:00:00:10 198.18.0.10 fd00:198:18::10
  # ad-b <-> ad-lan's bridge, with legit and poisoner on it
  ip link add ad-b type veth peer name uplink netns ad-lan
  ip -n ad-lan link add br0 type bridge stp_state 0 mcast_snooping 0 forward_delay 0
  ip -n ad-lan link set uplink master br0
  for h in legit poisoner; do
    ip link add "p-$h" netns ad-lan type veth peer name eth0 netns "ad-$h"
    ip -n ad-lan link set "p-$h" master br0
    ip -n ad-lan link set "p-$h" up
    offloads_off ad-lan "p-$h"
  done
  ip netns exec ad-lan sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n ad-lan link set uplink up
  offloads_off ad-lan uplink
  ip -n ad-lan link set br0 up
  ip -n ad-lan link set lo up
  node ad-legit 02:ad:00:00:00:20 198.18.0.20 fd00:198:18::20
  node ad-poisoner 02:ad:00:00:00:66 198.18.0.66 fd00:198:18::66
  host_port ad-a
  host_port ad-b
  echo "lab.sh: up: ad-victim 198.18.0.10 on ad-a | ad-b: ad-legit 198.18.0.20, ad-poisoner 198.18.0.66"
}

status() {
  for ns in "${NS[@]}"; do
    if ip netns list | grep -qw "^$ns"; then echo "$ns: $(ip -n "$ns" -br addr | tr '\n' ' ')"; else echo "$ns: absent"; fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down; echo "lab.sh: down" ;;
  status) status ;;
  *) die "usage: scripts/lab.sh up|down|status" ;;
esac
