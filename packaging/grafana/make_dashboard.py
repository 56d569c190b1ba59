#!/usr/bin/env python3
"""Writes antidote.json, the Grafana dashboard over antidote's Prometheus metrics (GET /metrics).

Run `python3 make_dashboard.py` after changing a panel; tests/service.rs checks that every metric
the dashboard names exists in a running appliance's /metrics."""
import json
import os

DS = {"type": "prometheus", "uid": "${datasource}"}
panels = []


def panel(title, targets, unit="short", kind="timeseries", w=12, h=8, desc=""):
    n = len(panels)
    p = {
        "id": n + 1, "type": kind, "title": title, "description": desc, "datasource": DS,
        "gridPos": {"x": (n % 2) * 12 if w == 12 else 0, "y": (n // 2) * 8, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(65 + i), "datasource": DS, "expr": e, "legendFormat": l} for i, (e, l) in enumerate(targets)],
    }
    panels.append(p)


panel("Frames received per second, by port", [("sum by (port) (rate(antidote_port_rx_frames_total{instance=~\"$instance\"}[1m]))", "{{port}} rx")], "pps")
panel("Forwarded and dropped by the policy, per second", [
    ("sum by (port) (rate(antidote_port_forwarded_frames_total{instance=~\"$instance\"}[1m]))", "{{port}} forwarded"),
    ("sum by (port) (rate(antidote_port_policy_dropped_frames_total{instance=~\"$instance\"}[1m]))", "{{port}} dropped"),
], "pps")
panel("Frames lost (TX full, NIC missed, NIC errors, no mbuf)", [
    ("sum by (port) (rate(antidote_port_tx_full_frames_total{instance=~\"$instance\"}[1m]))", "{{port}} tx full"),
    ("sum by (port) (rate(antidote_nic_rx_missed_frames_total{instance=~\"$instance\"}[1m]))", "{{port}} nic missed"),
    ("sum by (port) (rate(antidote_nic_rx_errors_total{instance=~\"$instance\"}[1m]))", "{{port}} nic rx errors"),
    ("sum by (port) (rate(antidote_nic_rx_nombuf_total{instance=~\"$instance\"}[1m]))", "{{port}} no mbuf"),
    ("sum by (port) (rate(antidote_nic_tx_errors_total{instance=~\"$instance\"}[1m]))", "{{port}} nic tx errors"),
], "pps", desc="Every place a frame can be lost: docs/loss.md")
panel("Links", [
    ("antidote_port_link_up{instance=~\"$instance\"}", "{{port}} up"),
    ("increase(antidote_port_link_downs_total{instance=~\"$instance\"}[$__range])", "{{port}} downs"),
], "short")
panel("Rule hits per second", [("topk(10, sum by (rule) (rate(antidote_rule_hits_total{instance=~\"$instance\"}[5m])))", "{{rule}}")], "ops")
panel("Actions per second (held, over budget, bypassed, injected, …)", [("sum by (action) (rate(antidote_actions_total{instance=~\"$instance\"}[1m]))", "{{action}}")], "ops")
panel("Alerts per second, by rule", [("sum by (rule) (rate(antidote_alerts_total{instance=~\"$instance\"}[5m]))", "{{rule}}")], "ops")
panel("Alerts lost and sink documents", [
    ("sum(rate(antidote_alerts_lost_total{instance=~\"$instance\"}[5m]))", "lost (queue full)"),
    ("sum by (sink, result) (rate(antidote_alert_sink_documents_total{instance=~\"$instance\"}[5m]))", "{{sink}} {{result}}"),
], "ops")
panel("Workers: time since the last poll", [("antidote_worker_last_poll_age_seconds{instance=~\"$instance\"}", "worker {{worker}} (lcore {{lcore}})")], "s",
      desc="A worker that stops polling is stalled: the profile's [faults] on_stall decides (fail-open or fail-closed)")
panel("Workers: polls per second and bypass", [
    ("rate(antidote_worker_polls_total{instance=~\"$instance\"}[1m])", "worker {{worker}} polls"),
    ("antidote_worker_bypassed{instance=~\"$instance\"}", "worker {{worker}} bypassed"),
], "ops")
panel("Learned network: new bindings, conflicts, evictions", [
    ("sum by (table) (rate(antidote_learned_total{instance=~\"$instance\"}[5m]))", "{{table}} learned"),
    ("sum by (table) (rate(antidote_learned_conflicts_total{instance=~\"$instance\"}[5m]))", "{{table}} conflicts"),
    ("sum by (table) (rate(antidote_learned_evictions_total{instance=~\"$instance\"}[5m]))", "{{table}} evictions"),
    ("sum(rate(antidote_learn_refused_total{instance=~\"$instance\"}[5m]))", "learn refused"),
    ("sum by (kind) (rate(antidote_learn_mismatched_total{instance=~\"$instance\"}[5m]))", "{{kind}} mismatched"),
], "ops")
panel("Policy tables: entries, evictions, refusals", [
    ("antidote_policy_table_entries{instance=~\"$instance\"}", "{{table}} entries"),
    ("rate(antidote_policy_table_evictions_total{instance=~\"$instance\"}[5m])", "{{table}} evictions"),
    ("rate(antidote_policy_table_refused_total{instance=~\"$instance\"}[5m])", "{{table}} refused"),
], "short")
panel("Canaries: sent and answered (answered = a poisoner caught)", [
    ("sum by (proto) (rate(antidote_canaries_sent_total{instance=~\"$instance\"}[5m]))", "{{proto}} sent"),
    ("sum by (proto) (increase(antidote_canaries_answered_total{instance=~\"$instance\"}[$__range]))", "{{proto}} answered"),
    ("sum by (kind) (rate(antidote_canary_frames_total{instance=~\"$instance\"}[5m]))", "{{kind}}"),
], "short")
panel("Policy version and swap latency", [
    ("antidote_policy_version{instance=~\"$instance\"}", "version"),
    ("rate(antidote_policy_swap_latency_seconds_sum{instance=~\"$instance\"}[$__range]) / rate(antidote_policy_swap_latency_seconds_count{instance=~\"$instance\"}[$__range])", "mean swap latency"),
], "short")
panel("Build", [("antidote_build_info{instance=~\"$instance\"}", "{{version}}")], "short", kind="table", w=24)

dashboard = {
    "title": "antidote",
    "uid": "antidote-overview",
    "description": "An antidote appliance: frames, loss, links, rules, alerts, workers, learning, canaries, policy",
    "tags": ["antidote", "dpdk", "ids"],
    "schemaVersion": 39,
    "version": 1,
    "editable": True,
    "time": {"from": "now-1h", "to": "now"},
    "refresh": "30s",
    "templating": {"list": [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"},
        {"name": "instance", "type": "query", "datasource": DS, "query": "label_values(antidote_build_info, instance)",
         "refresh": 2, "includeAll": True, "multi": True, "label": "appliance"},
    ]},
    "panels": panels,
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "antidote.json"), "w") as f:
    json.dump(dashboard, f, indent=1)
    f.write("\n")
