#!/usr/bin/env bash
# Streaming against polling, side by side in one run (crates/sfevents/examples/stream_bench.rs):
#
#   1. CPU per million events: two identical frozen sfsim orgs holding 2 days of LoginEvent
#      records (RECORDS_PER_HOUR an hour, all within the stream's 72-hour retention);
#      `sfevents run --stream /event/LoginEventStream` reads one until its archive holds every
#      event, `sfevents collect --object LoginEvent` reads the other. CPU = user + system.
#   2. Latency and REST calls: two identical sfsim orgs whose clocks run in real time;
#      `run --stream` against one, `run --object LoginEvent --object-every 60` against the
#      other, for SECONDS. Latency = the commit of the event's archive file (state.db) less
#      the moment sfsim published it; REST requests are counted by each sfsim.
#
# The run fails when an archive holds an event twice, when an event published in the measured
# span is missing from either archive, or when the two paths archived different numbers.
#
#   bench/stream.sh                          # 240 s of real time, 1,000 records an hour
#   SECONDS_RUN=600 RECORDS_PER_HOUR=20000 bench/stream.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SECONDS_RUN="${SECONDS_RUN:-240}"
RECORDS_PER_HOUR="${RECORDS_PER_HOUR:-1000}"
cargo build --release -p sfevents --bin sfevents --example stream_bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -srm)"
echo "command: bench/stream.sh (SECONDS_RUN=$SECONDS_RUN RECORDS_PER_HOUR=$RECORDS_PER_HOUR)"
target/release/examples/stream_bench "$SECONDS_RUN" "$RECORDS_PER_HOUR"
