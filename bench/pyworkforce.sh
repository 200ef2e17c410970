#!/usr/bin/env bash
# Erlang C and Erlang A staffing side by side: pyworkforce 0.5.4 and
# `switchboard wfm bench` on the same workload — 50 queues × 96 intervals
# of 15 minutes (a 24-hour day with a double-peak intraday curve, 600–6,000
# calls a day per queue, AHT 3–7 minutes), target 80 % answered within
# 20 s, patience 2 minutes for Erlang A. Prints both times (computation
# only, inside each process: best of several runs for the fast ones), their
# ratio, and checks the results: Erlang C must agree everywhere; where
# Erlang A differs, the script checks with pyworkforce's own service-level
# function that switchboard's smaller staffing meets the target
# (pyworkforce searches Erlang A upward from the offered load, never below).
#
#   bench/pyworkforce.sh            # QUEUES=10 bench/pyworkforce.sh for a quicker run
source "$(dirname "$0")/common.sh"
setup_venv
build_switchboard
QUEUES="${QUEUES:-50}"
W="$OUT/workload.csv"
"$PY" "$ROOT/bench/pyworkforce_bench.py" workload "$W" "$QUEUES"
echo "bench: switchboard wfm bench ($(wc -l < "$W") rows)" >&2
"$SWITCHBOARD" wfm bench --workload "$W" --interval-minutes 15 --target-sl 0.8 --sl-threshold 20 --patience 120 \
    --repeat 50 > "$OUT/switchboard-staffing.json"
echo "bench: pyworkforce (Erlang A takes a few minutes)" >&2
"$PY" "$ROOT/bench/pyworkforce_bench.py" run "$W" "$OUT/pyworkforce-staffing.json"
"$PY" "$ROOT/bench/pyworkforce_bench.py" compare "$W" "$OUT/pyworkforce-staffing.json" "$OUT/switchboard-staffing.json"
