#!/usr/bin/python3
"""The soak: the lab for a while with mixed traffic, a poisoner, a policy pushed every second
and every fault once; at the end every frame and every alert accounted for, memory flat.

usage: scripts/lab/soak.py --bin PATH --minutes M --work DIR [--plan a|b] [--out F]

antidote runs the default policy on the lab (hw-profiles/lab.toml with a canary identity,
canaries every 5 s), its alerts to a file and to a syslog-over-TCP receiver that accepts the
connection and never reads it (a hung sink, from the start to the end). Throughout: the victim
pings the file server (IPv4 and IPv6) and looks names up (real ones and typos, every protocol);
the project's poisoner answers every name; the policy is pushed every second over the API,
alternating the default and alert-only policies. Once each, spread over the run: the segment
side's data link goes down for two seconds and comes back; 100 API clients hammer the API for
five seconds (with a half-sent request and 64 KiB of headers among them); at the end SIGTERM.

Checked at the end (written as JSON, exit 1 if one fails):
  accounting   per direction, rx = tx + dropped + txfull, exactly (the run's final line)
  alerts       raised = written + folded + lost (queue full); documents in the file = the
               documents written minus what the sinks lost (counted)
  memory       resident memory at the end within 8 MiB of its level after the first minute
               (or the first fifth of a shorter run)
  pushes       every push answered 200, and the run saw them all (the policy's version)
  alive        the API answered throughout; antidote exited 0 on SIGTERM; nothing left in
               /var/run/dpdk
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scenarios  # noqa: E402  (the lab's helpers)
from scenarios import REPO, TOKEN, PORT, Lab, api, ns, start, stop  # noqa: E402


def put_policy(src):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}/v1/policy", data=src.encode(), method="PUT",
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=5) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, {}


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class HungSink:
    """A syslog-over-TCP receiver that accepts and never reads."""

    def __init__(self):
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(8)
        self.port = self.s.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.s.accept()
                self.conns.append(c)
            except OSError:
                return


def hammer(seconds):
    """100 clients for `seconds`, a half-sent request, 64 KiB of headers. Returns the answers."""
    stop_at = time.time() + seconds
    answered = [0]

    def client(path):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while time.time() < stop_at:
            try:
                with opener.open(urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", headers={"Authorization": f"Bearer {TOKEN}"}), timeout=5):
                    answered[0] += 1
            except Exception:
                pass

    half = socket.create_connection(("127.0.0.1", PORT))
    half.sendall(b"GET /v1/stats HTTP/1.1\r\nHost: x\r\n")
    big = socket.create_connection(("127.0.0.1", PORT))
    big.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"x" * 65536 + b"\r\n\r\n")
    ts = [threading.Thread(target=client, args=(p,)) for p in ["/v1/stats", "/metrics", "/v1/tables", "/v1/health"] * 25]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    half.close()
    big.close()
    return answered[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--work", required=True)
    ap.add_argument("--plan", default="a")
    ap.add_argument("--out")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    a.policy = os.path.join(REPO, "policies/default.policy")
    a.no_identity = False
    a.canaries = 5
    lab = Lab(a)
    lab.up()
    procs = []
    app = None
    result = {"minutes": a.minutes, "plan": a.plan}
    try:
        lab.legit_software()
        sink = HungSink()
        # The lab's profile with a canary identity (as scenarios.py gives it).
        prof = open(os.path.join(REPO, "hw-profiles/lab.toml")).read().replace(
            '[[pair]]\na = "a"\nb = "b"', f'[[pair]]\na = "a"\nb = "b"\ncanary_mac = "02:cc:00:00:00:fa"\ncanary_ipv4 = "{lab.plan["prefix4"]}.250/24"')
        open(lab.path("soak.toml"), "w").write(prof)
        open(lab.path("token"), "w").write(f"lab:{TOKEN}\n")
        app = start(lab.path("antidote.log"), a.bin, "run", "--profile", lab.path("soak.toml"), "--policy", a.policy, "--alerts", lab.path("alerts.jsonl"),
                    "--alerts", f"syslog+tcp://127.0.0.1:{sink.port}", "--stats-interval", "10", "--control", f"127.0.0.1:{PORT}", "--token-file",
                    lab.path("token"), "--state-dir", lab.path("state"), "--canary-interval", "5")
        for _ in range(300):
            if "control API on" in open(lab.path("antidote.log")).read():
                break
            if app.poll() is not None:
                raise SystemExit("soak: antidote did not start:\n" + open(lab.path("antidote.log")).read())
            time.sleep(0.1)
        L, P = lab.h["legit"], lab.h["poisoner"]
        # Traffic: pings both ways of IP, lookups, the poisoner.
        procs.append(start(lab.path("ping4.log"), "ip", "netns", "exec", "ad-victim", "ping", "-i", "0.05", L["ip4"]))
        procs.append(start(lab.path("ping6.log"), "ip", "netns", "exec", "ad-victim", "ping", "-6", "-i", "0.05", L["ip6"]))
        jl = lab.path("poisoner.jsonl")
        procs.append(start(lab.path("poisoner.log"), "ip", "netns", "exec", "ad-poisoner", "/usr/bin/python3", os.path.join(HERE, "poisoner.py"), "--ip4",
                           P["ip4"], "--ip6", P["ip6"], "--log", jl))
        lookups = ("while true; do for n in corpfs01 fileservr wpad; do for p in llmnr4 llmnr6 mdns; do "
                   f"/usr/bin/python3 {HERE}/resolve.py $p $n --timeout 1 >/dev/null 2>&1; done; nmblookup -B {lab.plan['broadcast']} $n >/dev/null 2>&1; done; done")
        procs.append(start(lab.path("lookups.log"), "ip", "netns", "exec", "ad-victim", "bash", "-c", lookups))

        policies = [open(a.policy).read(), open(os.path.join(REPO, "policies/alert-only.policy")).read()]
        total = a.minutes * 60
        t0 = time.time()
        faults = {"link": 0.25, "hammer": 0.5}
        done = set()
        pushes = bad_pushes = api_fail = 0
        rss = []
        last_rss = 0
        while time.time() - t0 < total:
            el = time.time() - t0
            code, _ = put_policy(policies[pushes % 2])
            pushes += 1
            bad_pushes += code != 200
            if el - last_rss >= 5:
                last_rss = el
                rss.append((round(el), rss_kib(app.pid)))
                try:
                    api("/v1/health")
                except Exception:
                    api_fail += 1
            if "link" not in done and el >= faults["link"] * total:
                done.add("link")
                subprocess.run(["ip", "link", "set", "ad-b", "down"], check=True)
                time.sleep(2)
                subprocess.run(["ip", "link", "set", "ad-b", "up"], check=True)
            if "hammer" not in done and el >= faults["hammer"] * total:
                done.add("hammer")
                result["hammer_answers"] = hammer(5)
            time.sleep(max(0.0, 1 - (time.time() - t0 - el)))
        version = api("/v1/policy").get("version")
        for p in procs:
            stop(p)
        procs = []
        stop(app, signal.SIGTERM)
        log = open(lab.path("antidote.log")).read()
        final = [l for l in log.splitlines() if l.startswith("antidote final:")]
        checks = {}
        dirs = []
        for part in (final[-1].split("|") if final else []):
            m = re.search(r"(\S+→\S+) rx (\d+) tx (\d+) dropped (\d+) txfull (\d+)", part)
            if m:
                rx, tx, dr, tf = map(int, m.groups()[1:])
                dirs.append({"dir": m.group(1), "rx": rx, "tx": tx, "dropped": dr, "txfull": tf})
        checks["accounting"] = bool(dirs) and all(d["rx"] == d["tx"] + d["dropped"] + d["txfull"] for d in dirs)
        al = next((l for l in log.splitlines() if l.startswith("antidote: alerts: ")), "")
        n = [int(x) for x in re.findall(r"\d+", al)]
        in_file = sum(1 for _ in open(lab.path("alerts.jsonl"))) if os.path.exists(lab.path("alerts.jsonl")) else 0
        if n:
            raised, written, folded, dropped, documents, sink_lost = n[0], n[1], n[2], n[-3], n[-2], n[-1]
            # Two sinks: the file holds every document; the hung TCP sink lost what it could not send.
            checks["alerts"] = raised == written + folded + dropped and in_file == documents
            result["alerts"] = {"raised": raised, "written": written, "folded": folded, "lost_queue_full": dropped, "documents": documents,
                                "lost_by_sinks": sink_lost, "in_file": in_file}
        else:
            checks["alerts"] = False
        warm = [k for t, k in rss if t >= min(60, total / 5)]
        checks["memory"] = bool(warm) and warm[-1] - warm[0] <= 8 * 1024
        checks["pushes"] = bad_pushes == 0 and version is not None and version >= pushes
        # This run's runtime folder (another antidote's, killed before the soak, is not its doing).
        stale = [d for d in [f"antidote-{app.pid}"] if os.path.exists(f"/var/run/dpdk/{d}")]
        checks["alive"] = app.returncode == 0 and api_fail == 0 and not stale
        result.update({"directions": dirs, "rss_kib": rss, "pushes": pushes, "bad_pushes": bad_pushes, "policy_version": version, "api_failures": api_fail,
                       "exit": app.returncode, "stale_runtime_dirs": stale, "link_flap_seen": "link DOWN" in log, "checks": checks,
                       "final": final[-1] if final else None})
    finally:
        for p in procs:
            stop(p)
        stop(app, signal.SIGTERM)
        lab.down()
    text = json.dumps(result, indent=1)
    if a.out:
        open(a.out, "w").write(text)
    print(text)
    ok = all(result.get("checks", {}).values()) and result.get("checks")
    print("soak:", "passed" if ok else "FAILED", {k: v for k, v in result.get("checks", {}).items()})
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
