#!/usr/bin/env bash
# Starts the lab's actors in their namespaces (after scripts/lab.sh up):
#   ad-legit:    Samba's nmbd answering its own NetBIOS name LEGIT, and an LLMNR responder for
#                its own names (legit, ad-legit) over IPv4 and IPv6;
#   ad-poisoner: a Responder-like poisoner (scripts/lab/poisoner.py) logging what it answers.
# Usage: scripts/lab/actors.sh start DIR | stop DIR    (DIR holds configs, logs and pids)
set -euo pipefail
cd "$(dirname "$0")/../.."
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: scripts/lab/actors.sh start|stop DIR" >&2; exit 2; }

start() {
  mkdir -p "$dir"/samba/{lock,state,cache,private,pid,log}
  cat > "$dir/smb.conf" <<CONF
[global]
  netbios name = LEGIT
  workgroup = LAB
  interfaces = 198.18.0.20/24
  bind interfaces only = yes
  disable netbios = no
  lock directory = $dir/samba/lock
  state directory = $dir/samba/state
  cache directory = $dir/samba/cache
  private dir = $dir/samba/private
  pid directory = $dir/samba/pid
  log file = $dir/samba/log/%m.log
  ncalrpc dir = $dir/samba/state/ncalrpc
  local master = no
  domain master = no
  preferred master = no
  dns proxy = no
CONF
  ip netns exec ad-legit nmbd --foreground --no-process-group --configfile="$dir/smb.conf" > "$dir/nmbd.out" 2>&1 &
  echo $! > "$dir/nmbd.pid"
  ip netns exec ad-legit /usr/bin/python3 scripts/lab/legit_llmnr.py > "$dir/legit.out" 2>&1 &
  echo $! > "$dir/legit.pid"
  : > "$dir/poisoner.jsonl"
  ip netns exec ad-poisoner /usr/bin/python3 scripts/lab/poisoner.py --log "$dir/poisoner.jsonl" > "$dir/poisoner.out" 2>&1 &
  echo $! > "$dir/poisoner.pid"
  for _ in $(seq 50); do grep -q ready "$dir/poisoner.jsonl" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$dir/poisoner.jsonl" || { echo "actors.sh: the poisoner did not start:" >&2; cat "$dir/poisoner.out" >&2; exit 1; }
}

stop() {
  for p in nmbd legit poisoner; do
    [ -f "$dir/$p.pid" ] && kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
  done
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/lab/actors.sh start|stop DIR" >&2; exit 2 ;;
esac
