#!/usr/bin/env bash
# Load benchmark of the server (issue 3): 500 agents on live updates (SSE),
# 50 new contacts a second through the API for 60 s; prints API latency
# percentiles, the offer → screen-pop delay and the resident memory.
#
#   bench/server-load.sh                 # server in the benchmark's process
#   bench/server-load.sh --process       # `switchboard serve` as its own process
#   bench/server-load.sh -- --rate 100   # anything after -- goes to the example
#
# See crates/web/examples/load.rs for what is measured and how.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
extra=()
if [[ "${1:-}" == "--process" ]]; then
    shift
    cargo build --release -p switchboard
    extra=(--server-bin "$target/release/switchboard")
fi
[[ "${1:-}" == "--" ]] && shift
cargo build --release -p web --example load
exec cargo run --quiet --release -p web --example load -- "${extra[@]}" "$@"
