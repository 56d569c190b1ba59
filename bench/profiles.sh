# Bench profiles derived from hw-profiles/bench-pcap-null*.toml, shared by throughput.sh,
# paired.sh and phases.sh (sourced; run from the repository's root).

# mix_profile PCAP OUT: the bench profile replaying PCAP instead of the standard mix.
mix_profile() {
  mkdir -p "$(dirname "$2")"
  sed -e "s|rx_pcap=bench/out/mix.pcap|rx_pcap=$1|" hw-profiles/bench-pcap-null.toml > "$2"
}

# canary_profile IN OUT: IN with a canary identity on its pair (b = "b"). Canaries go out of
# net_null, and every frame is looked at for the identity.
canary_profile() {
  mkdir -p "$(dirname "$2")"
  sed -e 's|^b = "b"$|b = "b"\ncanary_mac = "02:cc:00:00:00:fa"\ncanary_ipv4 = "198.18.1.250/24"|' "$1" > "$2"
  grep -q canary_mac "$2" || { echo "bench: $1 has no [[pair]] b = \"b\" to give a canary identity" >&2; exit 1; }
}
