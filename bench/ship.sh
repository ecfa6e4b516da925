#!/usr/bin/env bash
# Shipping to Elasticsearch, side by side in one run over the same archive (issue 21's measure):
# CPU per event, throughput per core and peak RSS of
#
#   ecs     `sfevents ship --to elasticsearch+http://...?mode=ecs` (each event mapped to ECS)
#   raw     `sfevents ship --to elasticsearch+http://...?mode=raw` (each archive line sent as the
#           document); reported as missing when this sfevents does not know mode=raw
#   ecs-zstd, raw-zstd
#           the same from an archive collected with the default `archive_compression = "zstd"`
#           (the others read one collected with `none`: plain NDJSON, which Python and curl read)
#   ...-nogzip (e.g. raw-nogzip, raw-zstd-nogzip)
#           with `compression=none`: uncompressed bodies, as the Python client sends by default
#   python  the official Python client, PyPI `elasticsearch` 8.x (a venv made once under
#           ~/.cache/sfevents/bench-venv): `elasticsearch.helpers.streaming_bulk` of the archive's
#           lines as they are (json.loads each; `_op_type` create, `_id` the line's id, `_index`
#           logs-salesforce.api_total_usage-python), chunks of MAX_BATCH_EVENTS (bench/ship_python.py)
#   curl    the floor: one curl process POSTing pre-built `_bulk` bodies of the same events
#           (MAX_BATCH_EVENTS `create` actions + archive lines each, built before timing starts),
#           IN_FLIGHT at a time on one connection each
#
#   1. sfsim serves one big daily ApiTotalUsage file (CSV_BYTES, default 400 MB, which makes an
#      NDJSON archive of about 1.3 GB); `sfevents collect --no-ship` archives it twice: plain
#      (`--archive-compression none`) and zstd (the default), when a -zstd contender runs.
#   2. curl's bodies are written (untimed).
#   3. Each contender gets a FRESH `receivers elasticsearch` (target/release/receivers: it parses
#      every document and keeps it in memory) on 127.0.0.1 and runs under /usr/bin/time -v:
#      CPU = user + sys of the contender's process (Python's import and json.loads included);
#      the receiver's CPU is charged to nobody (shown apart, for information).
#   4. Exits non-zero when a contender fails (raw missing excepted), when a receiver holds a
#      different number of events than the archive has (each archived event is sent), or when
#      any event was sent or stored twice (the receiver's 409 conflicts and updates, an _id
#      offered twice, or an _id in two indexes).
#
#   bench/ship.sh
#   CSV_BYTES=40000000 bench/ship.sh                # quick
#   CONTENDERS="ecs python" NO_BUILD=1 bench/ship.sh
#
# Knobs: CSV_BYTES (default 400000000), ROUNDS (default 1: each contender that many times, the
# order reversed every other round, medians shown), MAX_BATCH_EVENTS (default 1000), IN_FLIGHT (default 2;
# sfevents' in_flight and curl's --parallel-max; streaming_bulk has one request in flight),
# CONTENDERS (default "ecs raw ecs-zstd raw-zstd raw-nogzip python curl"; `agent` adds `sfevents ship` in mode=agent, the old
# MODE=agent), SHIP_SETTINGS (extra query settings of the sfevents URLs, e.g.
# '&compression=none'; sfevents gzips bodies by default), PY_COMPRESS=1 (the Python client gzips
# too; its default is off), NO_BUILD=1, KEEP=1, BENCH_DIR, SFEVENTS_BENCH_VENV (default
# ~/.cache/sfevents/bench-venv).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
CSV_BYTES="${CSV_BYTES:-400000000}"
MAX_BATCH_EVENTS="${MAX_BATCH_EVENTS:-1000}"
ROUNDS="${ROUNDS:-1}"
IN_FLIGHT="${IN_FLIGHT:-2}"
DEFAULT_CONTENDERS="ecs raw ecs-zstd raw-zstd raw-nogzip python curl"
CONTENDERS="${CONTENDERS:-$DEFAULT_CONTENDERS}"
SHIP_SETTINGS="${SHIP_SETTINGS:-}"
PY_COMPRESS="${PY_COMPRESS:-0}"
VENV="${SFEVENTS_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sfevents/bench-venv}"
PY="$VENV/bin/python"
HELPER="$ROOT/bench/ship_python.py"
SFSIM="$ROOT/target/release/sfsim"
SFEVENTS="$ROOT/target/release/sfevents"
RECEIVER="$ROOT/target/release/receivers"
DATASET="salesforce.api_total_usage"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ensure_gnu_time
need curl || { echo "curl is needed" >&2; exit 2; }
need python3 || { echo "python3 is needed" >&2; exit 2; }
for c in $CONTENDERS; do
  case "$c" in
    ecs | raw | agent | ecs-* | raw-* | agent-* | python | curl) ;;
    *) echo "unknown contender $c (ecs raw agent, each with -zstd and/or -nogzip; python curl)" >&2; exit 2 ;;
  esac
done

# The Python client's venv, made once: the 8.x client (a 9.x client asks for compatible-with=9,
# which an 8.x cluster, and the receiver playing one, refuses).
if ! "$PY" -c 'import elasticsearch' 2>/dev/null; then
  echo "making the bench venv at $VENV (pip install 'elasticsearch>=8,<9')" >&2
  python3 -m venv "$VENV" || { echo "python3 -m venv failed: apt-get install python3-venv" >&2; exit 2; }
  "$VENV/bin/pip" install -q 'elasticsearch>=8,<9' >&2
fi

build_release -p receivers

bench_scratch ship

# --- the machine and the command ---------------------------------------------------------------
bench_header "bench/ship.sh: the archive to Elasticsearch, sfevents (ecs, raw), the Python client and curl"
cmd="CSV_BYTES=$CSV_BYTES MAX_BATCH_EVENTS=$MAX_BATCH_EVENTS IN_FLIGHT=$IN_FLIGHT ROUNDS=$ROUNDS"
[[ "$CONTENDERS" != "$DEFAULT_CONTENDERS" ]] && cmd+=" CONTENDERS='$CONTENDERS'"
[[ -n "$SHIP_SETTINGS" ]] && cmd+=" SHIP_SETTINGS='$SHIP_SETTINGS'"
[[ "$PY_COMPRESS" != 0 ]] && cmd+=" PY_COMPRESS=$PY_COMPRESS"
echo "| command | $cmd bench/ship.sh |"
machine_rows
PY_VERSIONS="$("$PY" -c 'import sys, elasticsearch, elastic_transport, urllib3; print(sys.version.split()[0], "elasticsearch", elasticsearch.__versionstr__, "elastic-transport", elastic_transport.__version__, "urllib3", urllib3.__version__)')"
echo "| python | $PY_VERSIONS |"
echo "| curl | $(curl --version | head -1 | cut -d' ' -f1-2) |"
echo "| load average at the start | $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; the machine may be shared) |"
git_row
echo

# --- 1. the archive ----------------------------------------------------------------------------
# --days 2: the big file is the daily file of the oldest day (see cpu.sh); yesterday's 24-row
# daily file may come along, and every contender ships it too.
sim_serve "$BENCH_DIR/sim.out" "$BENCH_DIR/sim.err" --out "$BENCH_DIR/sim" --seed 1 --days 2 \
  --event-type ApiTotalUsage --no-hourly --no-late-files --rows-per-hour 1-1 \
  --big-file-bytes "$CSV_BYTES"
echo "collecting the archive: $(head -1 "$BENCH_DIR/sim.out")" >&2
"$SFEVENTS" collect --config "$BENCH_DIR/sim/sfevents.toml" --output-dir "$BENCH_DIR/archive" \
  --quiet --interval daily --event-type ApiTotalUsage --no-ship --archive-compression none
if [[ " $CONTENDERS " == *-zstd* ]]; then
  ensure_zstd
  "$SFEVENTS" collect --config "$BENCH_DIR/sim/sfevents.toml" --output-dir "$BENCH_DIR/archive-zstd" \
    --quiet --interval daily --event-type ApiTotalUsage --no-ship
  ZST_EVENTS=$(find "$BENCH_DIR/archive-zstd/events" -name '*.ndjson.zst' -exec zstd -dcq {} + | grep -c .)
fi
stop_sim
mapfile -t FILES < <(find "$BENCH_DIR/archive/events" -name '*.ndjson' | sort)
((${#FILES[@]})) || { echo "the archive holds no NDJSON file" >&2; exit 1; }
EVENTS=$(cat "${FILES[@]}" | grep -c .)
NDJSON_BYTES=$(cat "${FILES[@]}" | wc -c)
echo "archive: $EVENTS events in ${#FILES[@]} NDJSON file(s), $NDJSON_BYTES bytes" >&2
if [[ -n "${ZST_EVENTS:-}" && "$ZST_EVENTS" != "$EVENTS" ]]; then
  echo "the zstd archive holds $ZST_EVENTS events, the plain one $EVENTS" >&2; exit 1
fi

# --- 2. curl's bodies (untimed) -----------------------------------------------------------------
if [[ " $CONTENDERS " == *" curl "* ]]; then
  read -r BODIES BODY_EVENTS < <(python3 "$HELPER" bodies "$BENCH_DIR/bodies" \
    "logs-$DATASET-curl" "$MAX_BATCH_EVENTS" "${FILES[@]}")
  [[ "$BODY_EVENTS" == "$EVENTS" ]] || { echo "the bodies hold $BODY_EVENTS of $EVENTS events" >&2; exit 1; }
  echo "curl: $BODIES bodies of up to $MAX_BATCH_EVENTS events" >&2
fi

# --- 3. the contenders --------------------------------------------------------------------------
RESULTS="$BENCH_DIR/results.tsv"
: >"$RESULTS"
failed=0
# run_contender NAME ROUND: a fresh receiver, NAME under /usr/bin/time -v, then the receiver's
# counts; appends a row to RESULTS: name status time-file stored duplicates receiver-CPU-s label.
run_contender() {
  local name="$1" out="$BENCH_DIR/$1-r$2" rc=0 status=ok label
  es_receiver_start "$out.es.out" "$out.es.err"
  local url="$RECEIVER_URL" cmd=()
  case "$name" in
    ecs* | raw* | agent*)
      local mode="${name%%-*}" archive="$BENCH_DIR/archive" extra=""
      label="sfevents ship, mode=$mode"
      if [[ "$name" == *-zstd* ]]; then archive="$BENCH_DIR/archive-zstd"; label+=", zstd archive"; fi
      if [[ "$name" == *-nogzip* ]]; then extra="&compression=none"; label+=", compression=none"; fi
      # An output of its own per round: each starts from the archive's beginning.
      cmd=("$SFEVENTS" ship --output-dir "$archive"
        --to "elasticsearch+$url?name=bench-$name-r$2&mode=$mode&max_batch_events=$MAX_BATCH_EVENTS&in_flight=$IN_FLIGHT$extra$SHIP_SETTINGS")
      ;;
    python)
      label="Python elasticsearch $("$PY" -c 'import elasticsearch; print(elasticsearch.__versionstr__)') streaming_bulk"
      cmd=("$PY" "$HELPER" ship "$url" "logs-$DATASET-python" "$MAX_BATCH_EVENTS" "$PY_COMPRESS" "${FILES[@]}")
      ;;
    curl)
      label="curl, pre-built _bulk bodies (floor)"
      # One curl process, one transfer per body, IN_FLIGHT at a time; -T streams each file
      # (--data-binary @file would read them all into memory when parsing the options).
      # A `next` between transfers, none after the last (curl then fails: no URL specified).
      local f sep=""
      for f in "$BENCH_DIR"/bodies/body-*.ndjson; do
        printf '%surl = "%s/_bulk"\nupload-file = "%s"\nrequest = "POST"\n' "$sep" "$url" "$f"
        printf 'header = "Content-Type: application/x-ndjson"\nheader = "Expect:"\n'
        printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
        sep=$'next\n'
      done >"$out.curlrc"
      cmd=(curl --no-progress-meter --parallel --parallel-max "$IN_FLIGHT" --config "$out.curlrc")
      ;;
  esac
  echo "running $label..." >&2
  local r0 r1
  r0=$(cpu_secs "$RECEIVER_PID")
  /usr/bin/time -v -o "$out.time" "${cmd[@]}" >"$out.stdout" 2>"$out.stderr" || rc=$?
  r1=$(cpu_secs "$RECEIVER_PID")

  # What the receiver holds: created, conflicts + updated, and every _id offered once, in one
  # index (offers counts each create/index of an (index, _id)).
  local stored dup
  read -r stored dup < <(python3 -c '
import json, sys, urllib.request
url = sys.argv[1]
s = json.load(urllib.request.urlopen(url + "/__receiver/stats"))
offers = json.load(urllib.request.urlopen(url + "/__receiver/offers"))["offers"]
ids = {}
for o in offers:
    ids[o["id"]] = ids.get(o["id"], 0) + o["count"]
twice = sum(1 for n in ids.values() if n > 1)
print(s["created"], s["conflicts"] + s["updated"] + twice)
' "$url") || { echo "$name: cannot read the receiver's counts" >&2; stored="?" dup="?"; }
  es_receiver_stop

  if [[ "$rc" != 0 ]]; then
    if [[ "$name" == raw ]] && grep -q "mode = 'raw' is not known" "$out.stderr"; then
      status=missing
      echo "raw: this sfevents has no mode=raw yet ($(grep -m1 "mode = 'raw'" "$out.stderr"))" >&2
    else
      status="exit $rc"
      echo "FAIL: $label exited $rc:" >&2; tail -20 "$out.stderr" >&2; tail -5 "$out.stdout" >&2
      failed=1
    fi
  fi
  if [[ "$status" != missing ]]; then
    if [[ "$stored" != "$EVENTS" ]]; then
      echo "FAIL: $label: the receiver holds $stored events; $EVENTS were archived and sent" >&2
      failed=1
    fi
    if [[ "$dup" != 0 ]]; then
      echo "FAIL: $label: $dup events were sent or stored twice (conflicts, updates, _ids offered twice) in a run without faults" >&2
      failed=1
    fi
    if [[ "$name" == curl ]]; then
      local codes; codes=$(grep -c '^200$' "$out.stdout" || true)
      [[ "$codes" == "$BODIES" ]] || { echo "FAIL: curl: $codes of $BODIES bodies answered 200" >&2; failed=1; }
    fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$out.time" "$stored" "$dup" \
    "$(awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%.1f", b - a }')" "$label" >>"$RESULTS"
}
# ROUNDS rounds, the order reversed every other round; the table shows each contender's median.
read -r -a ORDER <<<"$CONTENDERS"
for ((round = 1; round <= ROUNDS; round++)); do
  if ((round % 2 == 0)); then
    for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do run_contender "${ORDER[$i]}" "$round"; done
  else
    for c in "${ORDER[@]}"; do run_contender "$c" "$round"; done
  fi
done

# --- 4. the table -------------------------------------------------------------------------------
python3 - "$RESULTS" "$EVENTS" "$NDJSON_BYTES" "$MAX_BATCH_EVENTS" "$IN_FLIGHT" "$ROUNDS" <<'PY'
import statistics, sys
results, events, nd, batch, inflight, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])

def tv(path):
    v = {}
    for line in open(path):
        k, _, x = line.strip().rpartition(": ")
        v[k] = x
    wall = 0.0
    for part in v["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
        wall = wall * 60 + float(part)
    cpu = float(v["User time (seconds)"]) + float(v["System time (seconds)"])
    return wall, cpu, int(v["Maximum resident set size (kbytes)"]) * 1024

runs = {}  # name -> (label, [(wall, cpu, rss, status, stored, dup, receiver cpu)])
for line in open(results):
    name, status, tfile, stored, dup, rcpu, label = line.rstrip("\n").split("\t")
    wall, cpu, rss = tv(tfile) if status != "missing" else (0.0, 0.0, 0)
    runs.setdefault(name, (label, []))[1].append((wall, cpu, rss, status, stored, dup, rcpu))
rows = {}
print(f"{events:,} events, {nd / 1e9:.2f} GB of NDJSON; batches of {batch} events, "
      f"{inflight} in flight (streaming_bulk: 1). A fresh receiver per contender and run; "
      f"{rounds} round(s), medians, each round's µs in the last column.")
print()
print("| contender | events | wall s | CPU s | µs CPU per event | events/s/core | peak RSS MiB | stored | µs per round |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
for name, (label, rs) in runs.items():
    if any(r[3] == "missing" for r in rs):
        print(f"| {label} | missing (this sfevents has no mode=raw) | | | | | | | |")
        continue
    wall = statistics.median(r[0] for r in rs)
    cpu = statistics.median(r[1] for r in rs)
    rss = max(r[2] for r in rs)
    us = cpu / events * 1e6
    rows[name] = (us, rss, "/".join(r[6] for r in rs))
    bad = [r[3] for r in rs if r[3] != "ok"]
    note = "" if not bad else f" ({', '.join(bad)})"
    held = ", ".join(sorted({(f"{int(r[4]):,}" if r[4].isdigit() else "?")
                             + ("" if r[5] == "0" else f", {r[5]} twice") for r in rs}))
    per_core = f"{events / cpu:,.0f}" if cpu else "-"
    each = " / ".join(f"{r[1] / events * 1e6:.2f}" for r in rs)
    print(f"| {label}{note} | {events:,} | {wall:.1f} | {cpu:.2f} | {us:.2f} | {per_core} | "
          f"{rss / 2**20:.1f} | {held} | {each} |")
print()
print("Receiver CPU s (charged to nobody): " + ", ".join(
    f"{n} {r[2]}" for n, r in rows.items()) + ".")
print()

def verdict(ok):
    return "met" if ok else "**not met**"

print("| goal (issue 21) | measured | |")
print("|---|---|---|")
for mode, limit in (("ecs", 5.0), ("raw", 2.0), ("ecs-zstd", 5.0), ("raw-zstd", 2.0),
                    ("raw-nogzip", 2.0)):
    if mode in rows:
        print(f"| {mode}: ≤ {limit:g} µs CPU per event | {rows[mode][0]:.2f} µs | {verdict(rows[mode][0] <= limit)} |")
    else:
        print(f"| {mode}: ≤ {limit:g} µs CPU per event | not measured | |")
for mode in ("ecs", "raw", "ecs-zstd", "raw-zstd", "raw-nogzip"):
    if mode in rows and "python" in rows:
        f = rows["python"][0] / rows[mode][0] if rows[mode][0] else float("inf")
        print(f"| {mode}: ≥ 10× cheaper than the Python client | {f:.1f}× | {verdict(f >= 10)} |")
for mode in ("ecs", "raw"):
    if mode in rows:
        rss = rows[mode][1]
        print(f"| {mode}: peak RSS < 50 MB | {rss / 1e6:.1f} MB ({rss / 2**20:.1f} MiB) | {verdict(rss < 50e6)} |")
if "curl" in rows:
    for mode in ("ecs", "raw"):
        if mode in rows and rows["curl"][0]:
            print(f"| {mode} against the curl floor (no goal) | {rows[mode][0] / rows['curl'][0]:.1f}× curl's CPU | |")
PY

exit "$failed"
