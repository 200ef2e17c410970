#!/usr/bin/env bash
# The same M/M/14+M queue (Erlang A vector A1: 200 calls/h, exponential
# AHT 180 s, exponential patience 300 s, 14 agents, threshold 20 s),
# 1,000,000 calls, in SimPy 4.1.2 (the reference model of
# shared/research/wfm-kpi-sim-anchors.md §5.3) and in `switchboard
# simulate` (the real routing engine in virtual time). Prints both times,
# their ratio and the KPIs side by side with the exact Erlang A values.
#
#   bench/simpy.sh                  # CALLS=200000 bench/simpy.sh for a quicker run
#   INTERVAL_MINUTES=60 bench/simpy.sh   # switchboard also reports every hour
source "$(dirname "$0")/common.sh"
setup_venv
build_switchboard
"$PY" "$ROOT/bench/simpy_bench.py" "$SWITCHBOARD" "${CALLS:-1000000}"
