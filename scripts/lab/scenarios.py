#!/usr/bin/python3
"""The lab's proof, per poisoner mode: real legitimate software and a real (or the project's)
poisoner on a lab network, antidote inline between the victim and the LAN, and the victim looking
names up as any network does. Writes what happened as JSON and prints a table.

usage: scripts/lab/scenarios.py --bin PATH --plan a|b --work DIR [--modes M,...] [--out F]
       [--policy FILE] [--responder-venv DIR]

The lab (scripts/lab.sh up PLAN) holds the victim on the appliance's port a and, on port b's
bridge, the file server CORPFS01 (Samba's nmbd registers its NetBIOS name, Debian's llmnrd answers
LLMNR over IPv4 and IPv6, avahi-daemon probes and announces corpfs01.local, dnsmasq hands out
DHCP leases), a Windows-like host that answers LLMNR for its own name WINHOST over IPv6 only
(it registers nothing), and the poisoner. antidote runs the policy unchanged, with its control
API on 127.0.0.1 (read for the learned tables).

The victim asks as real clients do: Samba's nmblookup (NBT-NS), a Windows-like LLMNR and mDNS
client with Windows' resend timers (resolve.py), and avahi-resolve through the victim's own
avahi-daemon (on a D-Bus bus of its own), which caches what it is told.

Warm-up: the victim takes a DHCP lease naming itself VICTIM01 and looks the legitimate names up,
twice, as a network does all day. Then, for each mode, a poisoner with a new MAC and new
addresses starts, and the victim looks up the legitimate names, names nobody owns (typos, WPAD),
and the legitimate names again. Counted per mode:
  legit_failed       legitimate lookups whose first answer is not the owner's (goal 0)
  forged_after_first lookups that got a forged answer after the one the poisoner answered first
                     (goal 0)
  forged_owned       lookups of a name that has an owner that got a forged answer (goal 0, the
                     first one included)
  wrongly_learned    learned poisoner entries that are not the poisoner's (goal 0)
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(REPO, "scripts", "lab.sh")
HERE = os.path.join(REPO, "scripts", "lab")
TOKEN = "lab-scenarios-token-0123456789"
PORT = 9461

# The modes: (name, what it is, how it is run). "own" modes run scripts/lab/poisoner.py with
# these arguments ({legit4}, {victim4} … are the plan's addresses); "responder" modes the real
# Responder with these Responder.conf settings.
MODES = [
    ("responder", "Responder 3.2.2.0, default configuration", ("responder", {})),
    ("responder-name", "Responder, RespondToName = CORPFS01 (a name that exists)", ("responder", {"RespondToName": "CORPFS01"})),
    ("responder-random-ttl", "Responder, -t random (answer TTLs 10-90 s, skipping the known ones)", ("responder", {"-t": "random"})),
    ("responder-dont-name", "Responder, DontRespondToName = WPAD, ISATAP", ("responder", {"DontRespondToName": "WPAD, ISATAP"})),
    ("responder-victims", "Responder, RespondTo = the victim (nobody else is answered)", ("responder", {"RespondTo": "{victim4}"})),
    ("all-names", "project poisoner: Responder's answers, every name", ("own", [])),
    ("after-n", "project poisoner: a name answered only from its 2nd query by one host (Inveigh)", ("own", ["--after", "2"])),
    ("chosen-names", "project poisoner: only names nobody owns (fileservr, wpad, printer)", ("own", ["--names", "fileservr,wpad,printer"])),
    ("chosen-victims", "project poisoner: only the victim's queries", ("own", ["--victims", "{victim4},{victim6},{victim_ll}"])),
    ("answer-elsewhere", "project poisoner: answers with another host's address (-e)", ("own", ["--answer-with", "{other4}"])),
    ("forged-source", "project poisoner: IP source forged as the file server's (Metasploit)", ("own", ["--spoof-src", "{legit4}"])),
]
# Modes run only when named (--modes): Responder in analyze mode (-A) poisons nothing over LLMNR,
# NBT-NS and mDNS, but its rogue SQL browser answers every instance request — a canary's too.
EXTRA_MODES = [
    ("responder-analyze", "Responder -A (analyze: no LLMNR/NBT-NS/mDNS answers; its SQL browser still answers)", ("responder", {"-A": None})),
    ("responder-vlan", "Responder on VLAN 42 (the profile gives the canary identities an address there)", ("responder", {})),
    ("responder-vlan-unnamed", "Responder on VLAN 43 (seen, no canary address there: IPv6 canaries and probes only)", ("responder", {})),
    ("responder-flood", "Responder, and beside it a flood of forged LLMNR answers to the victim (40,000 a second, each a new name from a new source)",
     ("responder", {})),
]
# Modes with a flood of forged answers (scripts/lab/flood.py) from the poisoner's namespace while
# the victim looks names up: its sources are attackers too (MACs 02:f1:…, addresses .100–.249).
FLOOD_MODES = {"responder-flood": 40000}
# Modes whose poisoner and victim sit on a VLAN (802.1Q over the lab's links): the victim asks
# only names nobody owns there (the legitimate hosts are untagged). The profile gives the canary
# identities addresses on VLAN 42 (`[[pair.canary_vlan]]`), none on VLAN 43.
VLAN_MODES = {"responder-vlan": 42, "responder-vlan-unnamed": 43}
CANARY_VLAN = 42
# Modes that answer no canary and no probe (a name filter, a victim filter, a query count): their
# first answer for a name nobody owns cannot be told from a real host's.
NO_PROBE_ANSWER = {"responder-name", "chosen-names", "responder-victims", "chosen-victims", "after-n"}

LEGIT_LOOKUPS = [("nbns", "CORPFS01"), ("llmnr4", "corpfs01"), ("llmnr6", "corpfs01"), ("mdns", "corpfs01.local"), ("mdns6", "corpfs01.local"),
                 ("avahi4", "corpfs01.local"), ("avahi6", "corpfs01.local"), ("llmnr6", "winhost")]
TYPO_LOOKUPS = [("nbns", "fileservr"), ("llmnr4", "fileservr"), ("llmnr6", "fileservr"), ("mdns", "printer.local"), ("avahi4", "scanner.local"), ("llmnr4", "wpad"), ("nbns", "wpad")]


def sh(*cmd, timeout=60, check=True, capture=True):
    r = subprocess.run(cmd, timeout=timeout, capture_output=capture, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"scenarios: {' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def ns(name, *cmd, **kw):
    return sh("ip", "netns", "exec", name, *cmd, **kw)


def start(logf, *cmd):
    """A process of ours, in its own process group, its output to `logf`."""
    return subprocess.Popen(cmd, stdout=open(logf, "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def stop(p, sig=signal.SIGTERM):
    if p is None or p.poll() is not None:
        return
    try:
        os.killpg(p.pid, sig)
        p.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def api(path):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=5) as r:
        return json.load(r)


def link_local(mac):
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 2
    w = [(b[0] << 8) | b[1], (b[2] << 8) | 0xff, (0xfe << 8) | b[3], (b[4] << 8) | b[5]]
    return "fe80::" + ":".join(f"{x:x}" for x in w)


class Lab:
    def __init__(self, a):
        self.a = a
        self.plan = json.loads(sh("bash", LAB, "plan", a.plan).stdout)
        self.h = self.plan["hosts"]
        for h in self.h.values():
            h["ll"] = link_local(h["mac"])
        self.procs = []
        self.vlan_taps = {}
        self.work = a.work

    def path(self, f):
        return os.path.join(self.work, f)

    def up(self):
        sh("bash", LAB, "up", self.a.plan)

    def down(self):
        for p in self.procs:
            stop(p)
        sh("bash", LAB, "down", check=False)

    def appliance(self):
        with open(self.path("token"), "w") as f:
            f.write(f"lab:{TOKEN}\n")
        profile = os.path.join(REPO, "hw-profiles/lab.toml")
        if not self.a.no_identity:
            # The lab's profile with two canary identities on the pair (free addresses of the plan):
            # what probes a responder whose first answer is held, and sends the canaries (when
            # --canaries is given).
            text = open(profile).read().replace('[[pair]]\na = "a"\nb = "b"',
                                                f'[[pair]]\na = "a"\nb = "b"\ncanary_mac = ["02:cc:00:00:00:fa", "02:cc:00:00:00:f9"]\n'
                                                f'canary_ipv4 = ["{self.plan["prefix4"]}.250/24", "{self.plan["prefix4"]}.249/24"]')
            assert "canary_mac" in text, "hw-profiles/lab.toml: no [[pair]] a/b to give a canary identity"
            v = self.vnet(CANARY_VLAN)
            text += f'\n[[pair.canary_vlan]]\nvlan = {CANARY_VLAN}\nipv4 = ["{v}.250/24", "{v}.249/24"]\n'
            if self.a.answers_per_ms is not None:
                text = text.replace("[[port]]", f"[floods]\nanswers_per_ms = {self.a.answers_per_ms}\n\n[[port]]", 1)
            profile = self.path("lab-canary.toml")
            open(profile, "w").write(text)
        self.profile = profile
        p = start(self.path("antidote.log"), self.a.bin, "run", "--profile", profile, "--policy", self.a.policy,
                  "--alerts", self.path("alerts.jsonl"), "--stats-interval", "0", "--control", f"127.0.0.1:{PORT}", "--token-file", self.path("token"),
                  "--state-dir", self.path("state"), "--canary-interval", str(self.a.canaries))
        self.procs.append(p)
        self.app = p
        for _ in range(300):
            if "control API on" in open(self.path("antidote.log")).read():
                return
            if p.poll() is not None:
                break
            time.sleep(0.1)
        raise SystemExit("scenarios: antidote did not start:\n" + open(self.path("antidote.log")).read())

    def vnet(self, vlan):
        """The IPv4 /24 of a VLAN in the plan's range (198.18.42 for plan a, 198.19.42 for b)."""
        return self.plan["prefix4"].rsplit(".", 1)[0] + f".{vlan}"

    def vlan_iface(self, ns_name, vlan, n):
        """eth0.VLAN in namespace `ns_name`, host number `n` on the VLAN's /24 and IPv6 prefix.
        (This machine's kernel has no 8021q: scripts/lab/vlan_tap.py makes it in user space, a
        TAP device whose frames leave eth0 tagged.)"""
        dev = f"eth0.{vlan}"
        self.drop_vlan_iface(ns_name, vlan)
        ready = self.path(f"vlan-{ns_name}-{vlan}.ready")
        if os.path.exists(ready):
            os.remove(ready)
        p = start(self.path(f"vlan-{ns_name}-{vlan}.log"), "ip", "netns", "exec", ns_name, "/usr/bin/python3", os.path.join(HERE, "vlan_tap.py"), "--vlan",
                  str(vlan), "--tap", dev, "--ready", ready)
        self.procs.append(p)
        self.vlan_taps[(ns_name, vlan)] = p
        t = time.time()
        while not os.path.exists(ready):
            if p.poll() is not None or time.time() - t > 10:
                raise SystemExit(f"scenarios: vlan_tap.py did not start in {ns_name}:\n" + open(self.path(f"vlan-{ns_name}-{vlan}.log")).read())
            time.sleep(0.05)
        ns(ns_name, "ip", "addr", "add", f"{self.vnet(vlan)}.{n}/24", "brd", f"{self.vnet(vlan)}.255", "dev", dev)
        ns(ns_name, "ip", "addr", "add", f"fd00:198:18::{vlan:x}:{n}/64", "dev", dev, "nodad")
        return dev

    def drop_vlan_iface(self, ns_name, vlan):
        p = self.vlan_taps.pop((ns_name, vlan), None)
        if p is not None:
            stop(p)

    def legit_software(self):
        """The file server's real daemons and the Windows-like host."""
        L, d = self.h["legit"], self.path("legit")
        for sub in ("lock", "state", "cache", "private", "pid", "log"):
            os.makedirs(os.path.join(d, "samba", sub), exist_ok=True)
        with open(os.path.join(d, "smb.conf"), "w") as f:
            f.write(f"""[global]
  netbios name = CORPFS01
  workgroup = LAB
  interfaces = {L['ip4']}/24
  bind interfaces only = yes
  disable netbios = no
  lock directory = {d}/samba/lock
  state directory = {d}/samba/state
  cache directory = {d}/samba/cache
  private dir = {d}/samba/private
  pid directory = {d}/samba/pid
  log file = {d}/samba/log/%m.log
  ncalrpc dir = {d}/samba/state/ncalrpc
  local master = no
  domain master = no
  preferred master = no
  dns proxy = no
""")
        with open(os.path.join(d, "avahi.conf"), "w") as f:
            f.write("[server]\nhost-name=corpfs01\ndomain-name=local\nuse-ipv4=yes\nuse-ipv6=yes\nallow-interfaces=eth0\nenable-dbus=no\n"
                    "[wide-area]\nenable-wide-area=no\n[publish]\npublish-addresses=yes\npublish-hinfo=no\npublish-workstation=no\npublish-domain=no\n")
        net = self.plan["prefix4"]
        run = lambda name, *cmd: self.procs.append(start(os.path.join(d, name + ".log"), "ip", "netns", "exec", *cmd))
        run("nmbd", "ad-legit", "nmbd", "--foreground", "--no-process-group", f"--configfile={d}/smb.conf")
        run("llmnrd", "ad-legit", "llmnrd", "-i", "eth0", "-H", "corpfs01", "-6")
        run("avahi", "ad-legit", "avahi-daemon", "--no-drop-root", "--no-chroot", "--no-rlimits", "--no-proc-title", "-f", f"{d}/avahi.conf")
        run("dnsmasq", "ad-legit", "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=eth0", "--bind-interfaces",
            f"--dhcp-range={net}.150,{net}.199,255.255.255.0,1h", f"--dhcp-leasefile={d}/leases", f"--pid-file={d}/dnsmasq.pid", "--dhcp-authoritative")
        W = self.h["win"]
        run("winhost", "ad-win", "/usr/bin/python3", os.path.join(HERE, "legit_llmnr.py"), "--names", "winhost", "--only6", "--ip4", W["ip4"], "--ip6", W["ll"])
        # nmbd answers broadcast queries once its name is registered.
        t = time.time()
        while time.time() - t < 30:
            out = ns("ad-win", "nmblookup", "-B", self.plan["broadcast"], "CORPFS01", check=False, timeout=10).stdout
            if f"{L['ip4']} CORPFS01<00>" in out:
                return
            time.sleep(0.5)
        raise SystemExit("scenarios: nmbd never answered for CORPFS01")

    def victim_avahi(self):
        """The victim's own avahi-daemon, with a D-Bus system bus of its own (a private socket in
        the work directory; the host's bus is not touched), for `avahi-resolve` lookups: a real
        mDNS stack that caches what it is told. Its pid file directory is a tmpfs private to its
        namespace's mount table (the file server's avahi-daemon has the host's)."""
        d = self.path("victim")
        os.makedirs(d, exist_ok=True)
        bus = os.path.join(d, "bus")
        with open(os.path.join(d, "dbus.conf"), "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={bus}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
""")
        with open(os.path.join(d, "avahi.conf"), "w") as f:
            f.write("[server]\nhost-name=victim01\ndomain-name=local\nuse-ipv4=yes\nuse-ipv6=yes\nallow-interfaces=eth0\nenable-dbus=yes\n"
                    "[wide-area]\nenable-wide-area=no\n[publish]\npublish-addresses=yes\npublish-hinfo=no\npublish-workstation=no\npublish-domain=no\n")
        self.procs.append(start(os.path.join(d, "dbus.log"), "dbus-daemon", f"--config-file={d}/dbus.conf", "--nofork", "--nopidfile"))
        t = time.time()
        while not os.path.exists(bus):
            if time.time() - t > 10:
                raise SystemExit("scenarios: the victim's dbus-daemon did not start:\n" + open(os.path.join(d, "dbus.log")).read())
            time.sleep(0.05)
        os.makedirs("/run/avahi-daemon", exist_ok=True)
        env = f"DBUS_SYSTEM_BUS_ADDRESS=unix:path={bus}"
        self.procs.append(start(os.path.join(d, "avahi.log"), "ip", "netns", "exec", "ad-victim", "sh", "-c",
                                f"mount -t tmpfs tmpfs /run/avahi-daemon && exec env {env} avahi-daemon --no-drop-root --no-chroot --no-rlimits "
                                f"--no-proc-title -f {d}/avahi.conf"))
        self.avahi_env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={bus}")
        t = time.time()
        while "Server startup complete" not in open(os.path.join(d, "avahi.log")).read():
            if time.time() - t > 20:
                raise SystemExit("scenarios: the victim's avahi-daemon did not start:\n" + open(os.path.join(d, "avahi.log")).read())
            time.sleep(0.1)

    def actions(self):
        try:
            return api("/v1/stats")["actions"]
        except Exception:
            return {}

    def lookup(self, proto, name, vlan=0):
        """The victim asks (on `vlan`'s interface when given); the answers' addresses in the order
        they came."""
        t = time.time()
        if proto == "nbns":
            bcast = f"{self.vnet(vlan)}.255" if vlan else self.plan["broadcast"]
            out = ns("ad-victim", "nmblookup", "-B", bcast, name, check=False, timeout=20).stdout
            addrs = [m.group(1) for m in re.finditer(r"^(\S+) \S+<[0-9a-f]{2}>", out, re.M)]
        elif proto in ("avahi4", "avahi6"):
            # avahi-resolve asks the victim's avahi-daemon (which answers from its cache when it can).
            r = subprocess.run(["avahi-resolve", "-4" if proto == "avahi4" else "-6", "-n", name], env=self.avahi_env, capture_output=True, text=True,
                               timeout=20)
            addrs = [line.split()[1] for line in r.stdout.splitlines() if len(line.split()) == 2]
        else:
            out = ns("ad-victim", "/usr/bin/python3", os.path.join(HERE, "resolve.py"), proto, name, "--timeout", "1", "--windows", "--iface",
                     f"eth0.{vlan}" if vlan else "eth0", check=False, timeout=20).stdout
            addrs = [a for line in out.splitlines() if line.startswith("{") for a in json.loads(line)["answers"]]
        return addrs, round(time.time() - t, 2)

    def owners_of(self, name):
        n = name.lower().split(".")[0]
        if n == "corpfs01":
            L = self.h["legit"]
            return {L["ip4"], L["ip6"], L["ll"]}
        if n == "winhost":
            W = self.h["win"]
            return {W["ip4"], W["ip6"], W["ll"]}
        return set()

    def warm_up(self):
        # DHCP: a lease for the victim, which names itself (option 12). udhcpc configures nothing.
        # (-B: broadcast replies, as Windows asks for them.)
        r = ns("ad-victim", "busybox", "udhcpc", "-i", "eth0", "-x", "hostname:victim01", "-s", "/bin/true", "-q", "-n", "-t", "5", "-T", "1", "-B",
               check=False, timeout=30)
        self.dhcp_lease = "obtained" in (r.stdout + r.stderr)
        for _ in range(2):
            for proto, name in LEGIT_LOOKUPS:
                self.lookup(proto, name)
            time.sleep(1.2)

    def hold_latency(self, count=16):
        """What holding first answers costs legitimate lookups: `count` Windows-like hosts (each
        its own MAC and address, answering LLMNR for its own name only, registering nothing) are
        looked up by the victim, each twice: the first answer is held while its host is probed,
        the second is not (the host owns its name by then). Times are the victim's, from its
        query to the first answer."""
        first = int(self.plan.get("hosts_first", 100))
        log = self.path("many-hosts.log")
        p = start(log, "ip", "netns", "exec", "ad-win", "/usr/bin/python3", os.path.join(HERE, "many_hosts.py"), "--prefix4", self.plan["prefix4"],
                  "--first", str(first), "--count", str(count))
        self.procs.append(p)
        t = time.time()
        while "ready" not in open(log).read():
            if p.poll() is not None or time.time() - t > 30:
                raise SystemExit("scenarios: many_hosts.py did not start:\n" + open(log).read())
            time.sleep(0.1)
        time.sleep(0.5)
        firsts, laters, failed = [], [], 0
        for k in range(count):
            name, ip4 = f"ws-{k:02d}", f"{self.plan['prefix4']}.{first + k}"
            for out in (firsts, laters):
                r = ns("ad-victim", "/usr/bin/python3", os.path.join(HERE, "resolve.py"), "llmnr4", name, "--timeout", "1", "--windows", check=False,
                       timeout=20).stdout
                got = [json.loads(l) for l in r.splitlines() if l.startswith("{")]
                if got and got[0]["answers"] == [ip4]:
                    out.append(got[0]["after_ms"])
                else:
                    failed += 1
                time.sleep(0.05)
        stop(p)

        def pct(v, q):
            v = sorted(v)
            return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if v else None
        return {"hosts": count, "failed": failed, "first_ms": {"p50": pct(firsts, 0.5), "p99": pct(firsts, 0.99), "max": max(firsts, default=None)},
                "later_ms": {"p50": pct(laters, 0.5), "p99": pct(laters, 0.99), "max": max(laters, default=None)}, "first": firsts, "later": laters}

    def poisoner_identity(self, i, vlan=0):
        """A new attacker for mode i: a new MAC and new addresses on ad-poisoner (on `vlan`'s
        interface when given)."""
        P = self.h["poisoner"]
        base = int(P["ip4"].rsplit(".", 1)[1])
        n = base + i
        mac = P["mac"].rsplit(":", 1)[0] + f":{n:02x}"
        ip4 = f"{self.plan['prefix4']}.{n}"
        ip6 = P["ip6"].rsplit(":", 1)[0] + f":{n}"
        ns("ad-poisoner", "ip", "link", "set", "eth0", "down")
        ns("ad-poisoner", "ip", "addr", "flush", "dev", "eth0")
        ns("ad-poisoner", "ip", "link", "set", "eth0", "address", mac)
        ns("ad-poisoner", "ip", "link", "set", "eth0", "up")
        ns("ad-poisoner", "ip", "addr", "add", f"{ip4}/24", "brd", self.plan["broadcast"], "dev", "eth0")
        ns("ad-poisoner", "ip", "addr", "add", f"{ip6}/64", "dev", "eth0", "nodad")
        ns("ad-poisoner", "ip", "route", "replace", "224.0.0.0/4", "dev", "eth0")
        for v in VLAN_MODES.values():
            self.drop_vlan_iface("ad-poisoner", v)
        if vlan:
            self.vlan_iface("ad-poisoner", vlan, n)
            ip4, ip6 = f"{self.vnet(vlan)}.{n}", f"fd00:198:18::{vlan:x}:{n}"
        time.sleep(0.5)
        return {"mac": mac, "ip4": ip4, "ip6": ip6, "ll": link_local(mac), "iface": f"eth0.{vlan}" if vlan else "eth0"}

    def start_poisoner(self, i, mode, how, me):
        kind, cfg = how
        log = self.path(f"poisoner-{mode}.log")
        if kind == "own":
            fill = {"victim4": self.h["victim"]["ip4"], "victim6": self.h["victim"]["ip6"], "victim_ll": self.h["victim"]["ll"],
                    "legit4": self.h["legit"]["ip4"], "other4": f"{self.plan['prefix4']}.99"}
            args = [x.format(**fill) for x in cfg]
            jl = self.path(f"poisoner-{mode}.jsonl")
            open(jl, "w").close()
            p = start(log, "ip", "netns", "exec", "ad-poisoner", "/usr/bin/python3", os.path.join(HERE, "poisoner.py"), "--ip4", me["ip4"], "--ip6",
                      me["ip6"], "--log", jl, *args)
            ready = lambda: "ready" in open(jl).read()
            count = lambda: sum(1 for l in open(jl) if '"proto": "' in l and '"ready"' not in l and "http" not in l)
        else:
            d = self.path(f"responder-{mode}")
            shutil.rmtree(d, ignore_errors=True)
            sh("tar", "xzf", self.a.responder_tar, "-C", self.work)
            top = [x for x in os.listdir(self.work) if x.startswith("responder-") and os.path.isdir(os.path.join(self.work, x)) and x.count(".") >= 2]
            os.rename(os.path.join(self.work, top[0]), d)
            conf = open(os.path.join(d, "Responder.conf")).read()
            fill = {"victim4": self.h["victim"]["ip4"]}
            cli = []
            for k, v in cfg.items():
                if k.startswith("-"):
                    cli += [k] if v is None else [k, v]
                    continue
                conf = re.sub(rf"^{k} =.*$", f"{k} = {v.format(**fill)}", conf, flags=re.M)
            open(os.path.join(d, "Responder.conf"), "w").write(conf)
            for _ in range(8):
                p = subprocess.Popen(["ip", "netns", "exec", "ad-poisoner", os.path.join(self.a.responder_venv, "bin", "python"), "-u", "Responder.py", "-I",
                                      me["iface"], "-v", *cli], cwd=d, stdout=open(log, "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
                # (Responder 3.2.2.0's `-t random` fails to start when the TTL it draws is below 16
                # — a one-digit hex string: started again, as its user would.)
                try:
                    p.wait(timeout=1.5)
                except subprocess.TimeoutExpired:
                    break
                if "fromhex" not in open(log, errors="replace").read():
                    break
            ready = lambda: "Listening for events" in open(log, errors="replace").read()
            count = lambda: open(log, errors="replace").read().count("Poisoned answer sent")
        self.procs.append(p)
        t = time.time()
        while not ready():
            if p.poll() is not None or time.time() - t > 60:
                raise SystemExit(f"scenarios: the poisoner ({mode}) did not start:\n" + open(log, errors="replace").read()[-3000:])
            time.sleep(0.2)
        time.sleep(1.0)
        return p, count

    def run_mode(self, i, mode, what, how):
        vlan = VLAN_MODES.get(mode, 0)
        if vlan:
            self.vlan_iface("ad-victim", vlan, int(self.h["victim"]["ip4"].rsplit(".", 1)[1]))
        me = self.poisoner_identity(i, vlan)
        t0 = time.time()
        p, count = self.start_poisoner(i, mode, how, me)
        flood, flood_count = None, self.path(f"flood-{mode}.count")
        if mode in FLOOD_MODES:
            flood = start(self.path(f"flood-{mode}.log"), "ip", "netns", "exec", "ad-poisoner", "/usr/bin/python3", os.path.join(HERE, "flood.py"), "--iface",
                          "eth0", "--dst-mac", self.h["victim"]["mac"], "--dst", self.h["victim"]["ip4"], "--prefix", self.plan["prefix4"], "--pps",
                          str(FLOOD_MODES[mode]), "--count-file", flood_count)
            self.procs.append(flood)
            # A web server on the file server's host, for an ordinary connection during the flood.
            web = start(self.path(f"web-{mode}.log"), "ip", "netns", "exec", "ad-legit", "/usr/bin/python3", "-m", "http.server", "8080", "--bind",
                        self.h["legit"]["ip4"], "--directory", self.work)
            self.procs.append(web)
            time.sleep(1.0)
            over_before = self.actions().get("over_budget", 0)
        detection = None
        if self.a.canaries > 0:
            # Canaries on: the poisoner should be caught before the victim asks anything.
            while time.time() - t0 < 60:
                try:
                    if me["mac"].lower() in [k.lower() for k in (e["key"] for e in api("/v1/tables/poisoner_macs")["entries"])]:
                        detection = round(time.time() - t0, 2)
                        break
                except Exception:
                    pass
                time.sleep(0.2)
        lookups = []
        # Names nobody owns first: the poisoner's first answer is for one of them, which only a
        # held answer and its probe can judge.
        # (On a VLAN, where the legitimate hosts are not, the names nobody owns alone.)
        phases = (("typo", TYPO_LOOKUPS),) if vlan else (("typo", TYPO_LOOKUPS), ("legit", LEGIT_LOOKUPS), ("legit-again", LEGIT_LOOKUPS))
        for phase, names in phases:
            for proto, name in names:
                before = count()
                addrs, took = self.lookup(proto, name, vlan)
                time.sleep(0.3)
                owners = self.owners_of(name)
                forged = [x for x in addrs if x not in owners]
                lookups.append({"phase": phase, "proto": proto, "name": name, "answers": addrs, "forged": len(forged), "took_s": took,
                                "poisoner_answered": count() - before, "owned": bool(owners), "first_ok": bool(addrs) and addrs[0] in owners})
        # A follow-on: the victim fetches the poisoner's WPAD file (blocked once it is known).
        followon = ns("ad-victim", "curl", "-s", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}", f"http://{me['ip4']}/wpad.dat", check=False,
                      timeout=10).stdout.strip()
        flooded = None
        if flood is not None:
            # An ordinary connection during the flood: the victim fetches a page from the file
            # server's host.
            code = ns("ad-victim", "curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", f"http://{self.h['legit']['ip4']}:8080/", check=False,
                      timeout=10).stdout.strip()
            ordinary = code == "200"
            stop(web, signal.SIGTERM)
            over = self.actions().get("over_budget", 0) - over_before
            stop(flood, signal.SIGTERM)
            sent = int(open(flood_count).read() or 0) if os.path.exists(flood_count) else 0
            nic = [pt.get("nic") for pt in api("/v1/stats").get("ports", [])]
            flooded = {"sent": sent, "over_budget": over, "ordinary_connection": ordinary, "nic": nic}
        stop(p, signal.SIGINT)
        if vlan:
            self.drop_vlan_iface("ad-victim", vlan)
        # What the appliance learned: the poisoner tables' keys that are not this poisoner's.
        mine = {me["ip4"], me["ip6"], me["ll"]}
        learned = {}
        for table in ("poisoners", "poisoner_macs"):
            try:
                learned[table] = [e["key"] for e in api(f"/v1/tables/{table}")["entries"]]
            except Exception as e:  # a policy without the table
                learned[table] = []
        if flood is not None:
            # The flood's sources are attackers as much as the poisoner.
            mine |= {f"{self.plan['prefix4']}.{n}" for n in range(100, 250)}
        wrong = [k for k in learned.get("poisoners", []) if k not in mine and k not in self.previous_poisoners] + \
                [k for k in learned.get("poisoner_macs", []) if k.lower() != me["mac"].lower() and k not in self.previous_poisoners
                 and not (flood is not None and k.lower().startswith("02:f1:"))]
        self.previous_poisoners |= mine | {me["mac"]}
        # The canary answers alerted for this poisoner: on which VLANs, over which IP versions.
        caught = {"vlans": set(), "ip4": False, "ip6": False}
        try:
            for line in open(self.path("alerts.jsonl")):
                d = json.loads(line)
                if d.get("rule", {}).get("name") != "canary-answered" or d.get("source", {}).get("mac", "").lower().replace("-", ":") != me["mac"].lower():
                    continue
                caught["vlans"].add(int(d.get("network", {}).get("vlan", {}).get("id", 0)))
                caught["ip6" if ":" in d["source"].get("ip", "") else "ip4"] = True
        except OSError:
            pass
        caught["vlans"] = sorted(caught["vlans"])
        first = next((k for k, l in enumerate(lookups) if l["poisoner_answered"] > 0), None)
        return {
            "mode": mode,
            "what": what,
            "poisoner": me,
            "poisoner_answers": sum(l["poisoner_answered"] for l in lookups),
            "legit_failed": sum(1 for l in lookups if l["owned"] and not l["first_ok"]),
            "forged_after_first": sum(1 for k, l in enumerate(lookups) if first is not None and k > first and l["forged"] > 0),
            "forged_owned": sum(1 for l in lookups if l["owned"] and l["forged"] > 0),
            "wrongly_learned": wrong,
            "wpad_fetch": followon,
            "canary_detection_s": detection,
            "vlan": vlan,
            "canary_answers": caught,
            "forged_total": sum(1 for l in lookups if l["forged"] > 0),
            "learned": learned,
            "lookups": lookups,
            "flood": flooded,
        }

    def start_captures(self):
        """--capture DIR: the appliance's input and output on both ports, taken at the far end of
        each veth (what the victim sends and receives; what the LAN's bridge sends to the
        appliance and receives from it) — `in-a`, `out-a`, `in-b`, `out-b`.pcap, and `window.json`:
        the wall-clock span during which every capture ran and the appliance forwarded. (In
        immediate mode: otherwise the frames of a ring block not yet handed over when tcpdump
        stops are lost without being counted as dropped.)"""
        os.makedirs(self.a.capture, exist_ok=True)
        caps = []
        for name, netns, iface, direction in (("in-a", "ad-victim", "eth0", "out"), ("out-a", "ad-victim", "eth0", "in"),
                                              ("in-b", "ad-lan", "uplink", "out"), ("out-b", "ad-lan", "uplink", "in")):
            f = os.path.join(self.a.capture, name + ".pcap")
            log = self.path(f"tcpdump-{name}.log")
            caps.append((name, log, start(log, "ip", "netns", "exec", netns, "tcpdump", "-i", iface, "-Q", direction, "-n", "-s", "0", "-B", "16384", "--immediate-mode",
                                          "-U", "-w", f)))
        for name, log, p in caps:
            for _ in range(100):
                if "listening on" in open(log).read():
                    break
                if p.poll() is not None:
                    raise SystemExit(f"scenarios: tcpdump for {name} did not start:\n" + open(log).read())
                time.sleep(0.05)
        self.procs += [p for _, _, p in caps]
        self.capture_window = {"start": time.time()}
        return caps

    def stop_captures(self, caps):
        """Ends the captures (the appliance still running): inputs first, the outputs a second
        later, so every captured input's fate is captured; each tcpdump must have dropped nothing."""
        self.capture_window["end"] = time.time()
        ins, outs = [c for c in caps if c[0].startswith("in")], [c for c in caps if c[0].startswith("out")]
        for group in (ins, outs):
            if group is outs:
                time.sleep(1.0)
            for name, log, p in group:
                stop(p, signal.SIGINT)
                m = re.search(r"(\d+) packets? dropped by kernel", open(log).read())
                if m is None or int(m.group(1)) != 0:
                    raise SystemExit(f"scenarios: tcpdump for {name} lost frames or did not say:\n" + open(log).read())
        with open(os.path.join(self.a.capture, "window.json"), "w") as f:
            json.dump(self.capture_window, f)
        # The live profile, for a replay of the captures (its canary identities and answer budget).
        shutil.copy(self.profile, os.path.join(self.a.capture, "profile.toml"))

    def run(self):
        self.previous_poisoners = set()
        self.up()
        try:
            self.appliance()
            caps = self.start_captures() if self.a.capture else None
            self.legit_software()
            self.victim_avahi()
            self.warm_up()
            hold = self.hold_latency() if not self.a.no_identity else None
            if hold:
                print(f"hold: first lookups p50 {hold['first_ms']['p50']} ms, p99 {hold['first_ms']['p99']} ms; later lookups p50 "
                      f"{hold['later_ms']['p50']} ms, p99 {hold['later_ms']['p99']} ms; {hold['failed']} failed", flush=True)
            modes = [MODES_BY_NAME[m] for m in self.a.modes] if self.a.modes else MODES
            results = []
            for i, (mode, what, how) in enumerate(modes):
                r = self.run_mode(i, mode, what, how)
                results.append(r)
                print(row(r), flush=True)
            held = {k: v for k, v in self.actions().items() if k.startswith("hold") or k in ("held", "probes")}
            canaries = api("/v1/stats").get("canaries")
            owners = api("/v1/tables/owners")["entries"]
            hosts = api("/v1/tables/hosts")["entries"]
            if caps:
                self.stop_captures(caps)
            stop(self.app, signal.SIGINT)
            return {"plan": self.plan, "policy": os.path.relpath(self.a.policy, REPO), "modes": results, "dhcp_lease": self.dhcp_lease,
                    "hold_latency": hold, "held": held, "canaries": canaries,
                    "owners": [{"name": e["key"], "mac": e["mac"], "evidence": e["evidence"]} for e in owners],
                    "hosts": len(hosts), "host_keys": sorted(f"{e['key']} {e.get('mac')}" for e in hosts), "antidote": open(self.path("antidote.log")).read().strip().splitlines()[-3:]}
        finally:
            self.down()


def row(r):
    blocked = "blocked" if r["wpad_fetch"] == "000" else f"HTTP {r['wpad_fetch']}"
    return (f"| {r['mode']} | {r['what']} | {r['poisoner_answers']} | {r['legit_failed']} | {r['forged_after_first']} | {r['forged_owned']} | "
            f"{len(r['wrongly_learned'])} | {blocked} |")


HEADER = ("| mode | poisoner | answers it sent | legitimate lookups failed | forged answers reaching the victim after its first | "
          "forged answers for owned names reaching the victim | hosts wrongly learned | WPAD fetch from it |\n|---|---|---|---|---|---|---|---|")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--plan", default="a", choices=["a", "b"])
    p.add_argument("--work", required=True)
    p.add_argument("--modes", default="")
    p.add_argument("--answers-per-ms", type=int, default=None, help="the profile's [floods] answers_per_ms (default: the built-in budget)")
    p.add_argument("--out", default="")
    p.add_argument("--policy", default=os.path.join(REPO, "policies/default.policy"))
    p.add_argument("--canaries", type=float, default=0, help="canary queries every SECS on average per protocol (0: none)")
    p.add_argument("--capture", default="", help="a folder for captures of the appliance's input and output on both ports (tcpdump)")
    p.add_argument("--no-identity", action="store_true", help="no canary identity in the profile: nothing is probed, first answers pass")
    p.add_argument("--responder-venv", default=os.environ.get("RESPONDER_VENV", os.path.join(REPO, "target/lab/responder-venv")))
    p.add_argument("--responder-tar", default=os.path.join(REPO, "..", "shared", "vendor", "responder-3.2.2.0-92ea4e9.tar.gz"))
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("scenarios: run me as root: I build the lab's namespaces.")
    a.modes = [m for m in a.modes.split(",") if m]
    a.bin, a.policy, a.work = os.path.abspath(a.bin), os.path.abspath(a.policy), os.path.abspath(a.work)
    a.capture = os.path.abspath(a.capture) if a.capture else ""
    os.makedirs(a.work, exist_ok=True)
    if any(MODES_BY_NAME[m][2][0] == "responder" for m in (a.modes or MODES_BY_NAME)):
        if not os.path.exists(os.path.join(a.responder_venv, "bin", "python")):
            sys.exit(f"scenarios: no Responder venv at {a.responder_venv}: run scripts/setup.sh (it builds one) or pass --responder-venv")
    print(f"plan {a.plan}, {os.path.relpath(a.policy, REPO)}:\n{HEADER}", flush=True)
    res = Lab(a).run()
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)


MODES_BY_NAME = {m[0]: m for m in MODES + EXTRA_MODES}

if __name__ == "__main__":
    main()
