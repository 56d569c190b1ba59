#!/usr/bin/python3
"""The results of bench/pktgen/run.sh in DIR: results.json (every result), results.csv (NDR, PDR
and latency rows), the cross-check of each device's own counters against pktgen's, and the chart
(bench/pktgen/plot). Exits non-zero when a sanity check fails: no rate found for a size, or a
device's counters that disagree with pktgen's beyond the loss tolerance.

usage: bench/pktgen/report.py DIR
"""
import csv
import json
import os
import re
import subprocess
import sys


def device_counters(log_text, dut):
    """(frames received on port A, frames sent out of port B) as the device counted them."""
    if dut.startswith("antidote"):
        line = next((l for l in reversed(log_text.splitlines()) if l.startswith("antidote final:")), "")
        m = re.search(r"a→b rx (\d+) tx (\d+)", line)
        return (int(m.group(1)), int(m.group(2))) if m else None
    # testpmd's port counters, printed every second (port 0 received, port 1 sent): the highest
    # of each (they only grow; a print as the ports close can read zero).
    ports = {}
    for m in re.finditer(r"NIC statistics for port (\d+)\s*#+\s*RX-packets: (\d+).*?TX-packets: (\d+)", log_text, re.S):
        old = ports.get(int(m.group(1)), (0, 0))
        ports[int(m.group(1))] = (max(old[0], int(m.group(2))), max(old[1], int(m.group(3))))
    if 0 in ports and 1 in ports:
        return ports[0][0], ports[1][1]
    return None


def main():
    out = sys.argv[1]
    rows = [json.loads(l) for l in open(os.path.join(out, "results.jsonl")) if l.strip()]
    problems = []
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(rows, f, indent=1)
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["dut", "size", "kind", "rate_pct", "mpps", "gbps", "line_pct", "loss_pct", "confirmed", "min_us", "avg_us", "max_us"])
        for r in rows:
            if r["kind"] in ("ndr", "pdr", "latency"):
                w.writerow([r["dut"], r["size"], r["kind"] if r["kind"] != "latency" else f"latency@{r['pdr_fraction_pct']}%pdr",
                            r.get("rate_pct"), r.get("mpps", ""), r.get("gbps", ""), r.get("line_pct", ""), r.get("loss_pct"),
                            r.get("confirmed", ""), r.get("min_us", ""), r.get("avg_us", ""), r.get("max_us", "")])
    duts = sorted({r["dut"] for r in rows})
    for dut in duts:
        mine = [r for r in rows if r["dut"] == dut]
        for kind in ("ndr", "pdr"):
            for r in (x for x in mine if x["kind"] == kind):
                if not r["received"] > 0:
                    problems.append(f"{dut} {r['size']} {kind}: no rate found (nothing received)")
        # The device's counters against pktgen's: every frame pktgen sent in its trials was
        # received on port A, every frame it received came out of port B (within the loss
        # tolerance: frames sent between trials, the generator's own ARP).
        trials = [r for r in mine if r["kind"] == "trial"]
        sent = sum(r["sent"] for r in trials)
        received = sum(r["received"] for r in trials)
        log = os.path.join(out, f"dut-{dut}.log")
        counters = device_counters(open(log, errors="replace").read(), dut) if os.path.exists(log) else None
        if counters is None:
            problems.append(f"{dut}: its counters were not found in {log}")
            continue
        rx, tx = counters
        tol = max(0.005 * sent, 64)
        ok = abs(rx - sent) <= tol and abs(tx - received) <= max(0.005 * received, 64)
        print(f"report: {dut}: pktgen sent {sent}, the device received {rx}; the device sent {tx}, pktgen received {received} — {'agree' if ok else 'DISAGREE'}")
        if not ok:
            problems.append(f"{dut}: the device's counters (rx {rx}, tx {tx}) disagree with pktgen's (sent {sent}, received {received})")
    for dut in duts:
        for r in rows:
            if r["dut"] == dut and r["kind"] in ("ndr", "pdr"):
                print(f"report: {dut:24} {str(r['size']):>5} {r['kind']}: {r['mpps']:8.3f} Mpps {r['line_pct']:6.2f} % of line, loss {r['loss_pct']:.3f} %{'' if r['confirmed'] else ' (not confirmed)'}")
            if r["dut"] == dut and r["kind"] == "latency":
                print(f"report: {dut:24} {str(r['size']):>5} latency at {r['pdr_fraction_pct']}% of PDR: min {r['min_us']:.1f} avg {r['avg_us']:.1f} max {r['max_us']:.1f} µs ({r['probes']} probes)")
    # Each appliance against testpmd, per size: the ratio of PDRs.
    base = {r["size"]: r["mpps"] for r in rows if r["dut"] == "testpmd" and r["kind"] == "pdr"}
    for dut in duts:
        if dut == "testpmd":
            continue
        for r in rows:
            if r["dut"] == dut and r["kind"] == "pdr" and base.get(r["size"]):
                print(f"report: {dut} / testpmd at {r['size']}: {r['mpps'] / base[r['size']]:.3f}")
    plot = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plot")
    p = subprocess.run([sys.executable, plot, out], capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    if p.returncode != 0:
        problems.append("the chart: " + p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "the chart failed")
    for pr in problems:
        print("report: PROBLEM: " + pr, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
