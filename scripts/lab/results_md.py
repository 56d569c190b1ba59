#!/usr/bin/python3
"""Writes docs/lab-results.md from the lab's results (scripts/lab/scenarios.py --out, kept by
tests/lab_defense.rs as target/lab/results-a.json and results-b.json).

usage: scripts/lab/results_md.py RESULTS.json... > docs/lab-results.md
(target/lab/results-b-canaries.json: the run with canary queries on.)"""
import json
import sys

GOALS = ("legit_failed", "forged_after_first", "forged_owned")


def canary_table(r):
    out = [f"### Plan {r['plan']['plan']} ({r['plan']['prefix4']}.0/24), `{r['policy']}` unchanged, canary queries on (one a second per protocol)", "",
           "| mode | poisoner | caught by a canary after | forged answers reaching the victim, first included (goal 0) | legitimate lookups failed (goal 0) "
           "| hosts wrongly learned (goal 0) |", "|---|---|---:|---:|---:|---:|"]
    for m in r["modes"]:
        t = f"{m['canary_detection_s']} s" if m["canary_detection_s"] is not None else "not caught"
        out.append(f"| `{m['mode']}` | {m['what']} | {t} | {m['forged_total']} | {m['legit_failed']} | {len(m['wrongly_learned'])} |")
    return "\n".join(out) + "\n"


def table(r):
    if any(m.get("canary_detection_s") is not None for m in r["modes"]):
        return canary_table(r)
    out = [f"### Plan {r['plan']['plan']} ({r['plan']['prefix4']}.0/24), `{r['policy']}` unchanged", "",
           "| mode | poisoner | answers it sent | legitimate lookups failed (goal 0) | forged answers reaching the victim, first included "
           "(goal 0 if it answers probes) | of them after its first | forged answers for owned names reaching the victim (goal 0) "
           "| hosts wrongly learned (goal 0) | WPAD fetch from it |",
           "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for m in r["modes"]:
        wpad = "blocked" if m["wpad_fetch"] == "000" else f"HTTP {m['wpad_fetch']}"
        out.append(f"| `{m['mode']}` | {m['what']} | {m['poisoner_answers']} | {m['legit_failed']} | {m.get('forged_total', '-')} | "
                   f"{m['forged_after_first']} | {m['forged_owned']} | {len(m['wrongly_learned'])} | {wpad} |")
    h = r.get("hold_latency")
    if h:
        out += ["", f"Held first answers: {h['hosts']} Windows-like hosts (each its own MAC and address, answering LLMNR for its own name "
                f"only), each looked up twice by the victim with Windows' timers. First lookup (its answer held while the host is probed): "
                f"p50 {h['first_ms']['p50']} ms, p99 {h['first_ms']['p99']} ms; later lookups (not held): p50 {h['later_ms']['p50']} ms, "
                f"p99 {h['later_ms']['p99']} ms; {h['failed']} failed. Over the whole run: " +
                ", ".join(f"{k} {v}" for k, v in (r.get("held") or {}).items()) + "."]
    owners = ", ".join(f"`{o['name']}` ({o['evidence']})" for o in r["owners"])
    out += ["", f"Owners learned by the end: {owners}. DHCP lease for the victim: {'yes' if r['dhcp_lease'] else 'no'}.", ""]
    return "\n".join(out)


def main():
    runs = [json.load(open(p)) for p in sys.argv[1:]]
    print("""# The lab's results, per poisoner mode

Measured by `scripts/lab/scenarios.py` (run by `tests/lab_defense.rs`, which fails if a goal is
missed; regenerate this page with `scripts/lab/results_md.py target/lab/results-a.json
target/lab/results-b.json target/lab/results-b-canaries.json > docs/lab-results.md` after
`cargo nextest run --test lab_defense`).
How the lab is built and what each lookup is: `docs/learning.md` ("Measured in the lab").

Per mode the victim makes 18 lookups with the poisoner running: six lookups of names nobody owns
(first: the poisoner's first answer is for one of them), the six real-name lookups (CORPFS01
over NBT-NS, LLMNR v4 and v6, mDNS v4 and v6; WINHOST over LLMNR v6), and the six real-name
lookups again; LLMNR and mDNS lookups resend after 410 ms as Windows does. A lookup *fails* when
its first answer is not the owner's address; an answer is *forged* when it gives an address that
is not the name's owner's (every address, for a name nobody owns). "After its first" counts
lookups after the one the poisoner answered first.
""")
    for r in runs:
        print(table(r))
    print("""## Reading the table

- Every poisoner that answers names with an owner — Responder in its default configuration
  answers every query it hears, real names included — is caught at its first such answer: that
  answer is dropped, the poisoner learned by address and MAC, and nothing it sends afterwards
  reaches the victim.
- The first answer for a name nobody owns is held (40 ms) while its sender is probed from the
  pair's canary identity: Responder — default, `-t random`, `DontRespondToName` — and the
  project's poisoner answering every name answer the probe, and none of their answers reaches
  the victim, the first included.
- Poisoners that answer nothing from the appliance — only chosen names (`responder-name`,
  `chosen-names`), only the victim (`responder-victims`, `chosen-victims`), only from a name's
  second query (`after-n`, Inveigh-style) — look like real hosts to the probe: their first
  answer for a name nobody owns is released (over NBT-NS, LLMNR v4 and v6 it is one name), and
  they are caught at their second name or at a name that has an owner. Once caught, the names
  their released answers gave them are owned no more (a later poisoner answering `fileservr`
  meets a name nobody owns, not one owned by an earlier poisoner).
- `forged-source` forges the file server's IPv4 address as its source (with its own MAC): the
  network binds that address to the server's MAC, so the answers are dropped as forged and the
  server is not learned as a poisoner — the poisoner is learned from its IPv6 answers.
- `answer-elsewhere` puts another host's address in its answers; it is judged by the names it
  answers, not by the address, and caught the same way.
- With canary queries on (the last table: the profile gives the pair a canary identity), a
  poisoner that answers names it hears is caught by a canary a second or two after it starts,
  before the victim asks anything: none of its answers reaches the victim, the first included.
  A poisoner that answers only chosen names never answers a canary (nor a probe). One that
  answers a name only from its second query by one host (`after-n`) answers a canary's resend
  (canaries are asked again as their clients would: LLMNR after 410 ms). On 802.1Q VLANs (made
  in user space by `scripts/lab/vlan_tap.py`), Responder is caught by the canaries sent on its
  VLAN: over IPv4 and IPv6 where the profile gives the identities an address there (VLAN 42),
  over IPv6 where it does not (VLAN 43).
""")


if __name__ == "__main__":
    main()
