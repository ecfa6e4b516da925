#!/usr/bin/env bash
# End to end, issue 21's measure: CPU seconds per GB of CSV from Salesforce (sfsim) to the index,
# for the plain archive (`--archive-compression none`) and the zstd one (the default), the same
# file.
#
#   1. sfsim serves one big daily ApiTotalUsage file (CSV_BYTES, default 1 GB);
#   2. per archive (ARCHIVES, default "plain zstd"): `sfevents collect --no-ship` into a fresh
#      archive (with `--archive-compression none` or `zstd`), under /usr/bin/time -v;
#   3. per archive: a FRESH `receivers elasticsearch` (target/release/receivers) on 127.0.0.1,
#      and `sfevents ship --to 'elasticsearch+http://127.0.0.1:PORT?name=e2e'` (mode ecs, every
#      other setting its default: gzip bodies, the default batch and in-flight), under
#      /usr/bin/time -v.
#
# CPU = user + sys of the two sfevents processes (collect + ship); sfsim's and the receiver's CPU
# are charged to nobody (shown apart). GB = 1e9 bytes of CSV as archived. Exits non-zero when a
# step fails, when a receiver holds other than exactly the archived events (created = the
# archive's rows; no 409s, no updates, no _id offered twice), or when the two archives hold
# different rows or NDJSON lines (the .zst read back with `zstd -dc`).
#
#   bench/e2e.sh
#   CSV_BYTES=40000000 bench/e2e.sh         # quick
#
# Memory: the test receiver keeps every document as a JSON tree, about 15 KB per event (5.4 GiB
# for the 378,429 events of 110 MB of CSV), so 1 GB of CSV would need about 55 GiB: the script
# refuses a CSV_BYTES whose estimate (CSV_BYTES / 290 bytes per row x 16 KB) exceeds the
# memory available now, unless FORCE=1.
#
# Knobs: CSV_BYTES (default 200000000), ARCHIVES (default "plain zstd"), NO_BUILD=1, KEEP=1,
# BENCH_DIR, FORCE=1.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
CSV_BYTES="${CSV_BYTES:-200000000}"
ARCHIVES="${ARCHIVES:-plain zstd}"
SFSIM="$ROOT/target/release/sfsim"
SFEVENTS="$ROOT/target/release/sfevents"
RECEIVER="$ROOT/target/release/receivers"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ensure_gnu_time
ensure_zstd
need curl || { echo "curl is needed" >&2; exit 2; }
need python3 || { echo "python3 is needed" >&2; exit 2; }
for a in $ARCHIVES; do
  case "$a" in plain | zstd) ;; *) echo "unknown archive $a (plain zstd)" >&2; exit 2 ;; esac
done
need_kib=$(( CSV_BYTES / 290 * 16 ))
avail_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
if (( need_kib > avail_kib )) && [[ "${FORCE:-0}" != 1 ]]; then
  echo "CSV_BYTES=$CSV_BYTES: the receiver would hold about $((need_kib / 1048576)) GiB of documents; $((avail_kib / 1048576)) GiB available (FORCE=1 to try anyway)" >&2
  exit 2
fi
build_release -p receivers

bench_scratch e2e

bench_header "bench/e2e.sh: one big LogFile from sfsim to the Elasticsearch receiver (collect + ship, mode ecs)"
echo "| command | CSV_BYTES=$CSV_BYTES${ARCHIVES:+ ARCHIVES='$ARCHIVES'} bench/e2e.sh |"
machine_rows
load_row
git_row
echo

# --- 1 and 2. sfsim and the collects -------------------------------------------------------------
# --days 2: the big file is the daily file of the oldest day (see bench/cpu.sh); yesterday's
# 24-row daily file may come along, and is collected and shipped too.
sim_serve "$BENCH_DIR/sim.out" "$BENCH_DIR/sim.err" --out "$BENCH_DIR/sim" --seed 1 --days 2 \
  --event-type ApiTotalUsage --no-hourly --no-late-files --rows-per-hour 1-1 \
  --big-file-bytes "$CSV_BYTES"
RESULTS="$BENCH_DIR/results.tsv"   # archive step time-file csv-bytes rows lines archive-bytes stored dup other-cpu status
: >"$RESULTS"
failed=0
declare -A CSVB=() ROWS=() LINES=() ABYTES=()

# timed NAME CMD...: CMD under /usr/bin/time -v into BENCH_DIR/NAME.{time,stdout,stderr}; RC set.
timed() {
  local name="$1"; shift
  sync   # the previous step's dirty pages are not written back during this one
  echo "running $name: $*" >&2
  RC=0
  /usr/bin/time -v -o "$BENCH_DIR/$name.time" "$@" >"$BENCH_DIR/$name.stdout" 2>"$BENCH_DIR/$name.stderr" || RC=$?
  if [[ "$RC" != 0 ]]; then
    echo "FAIL: $name exited $RC:" >&2; tail -10 "$BENCH_DIR/$name.stderr" >&2; failed=1
  fi
}

for a in $ARCHIVES; do
  arch="$BENCH_DIR/archive-$a"
  # Each form named, whichever is the default (zstd since 2026-12-07).
  extra=(--archive-compression none); [[ "$a" == zstd ]] && extra=(--archive-compression zstd)
  s0=$(cpu_secs "$SIM_PID")
  timed "collect-$a" "$SFEVENTS" collect --config "$BENCH_DIR/sim/sfevents.toml" --output-dir "$arch" \
    --quiet --interval daily --event-type ApiTotalUsage --no-ship "${extra[@]}"
  s1=$(cpu_secs "$SIM_PID")
  # CSV bytes and rows as state.db has them.
  read -r CSVB[$a] ROWS[$a] < <(python3 - "$arch/state.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
b, r = c.execute("SELECT coalesce(sum(bytes), 0), coalesce(sum(rows), 0) FROM files").fetchone()
print(b, r)
EOF
  )
  LINES[$a]=$(ndjson_lines "$arch")
  ABYTES[$a]=$(archive_bytes "$arch")
  echo "archive $a: ${CSVB[$a]} bytes of CSV, ${ROWS[$a]} rows, ${LINES[$a]} NDJSON lines, ${ABYTES[$a]} bytes of CSV + NDJSON" >&2
  printf '%s\tcollect\t%s\t%s\t%s\t%s\t%s\t-\t-\tsfsim %s\t%s\n' "$a" "$BENCH_DIR/collect-$a.time" \
    "${CSVB[$a]}" "${ROWS[$a]}" "${LINES[$a]}" "${ABYTES[$a]}" \
    "$(awk -v x="$s0" -v y="$s1" 'BEGIN { printf "%.1f", y - x }')" "$RC" >>"$RESULTS"
done
stop_sim

# --- 3. the ships --------------------------------------------------------------------------------
for a in $ARCHIVES; do
  es_receiver_start "$BENCH_DIR/es-$a.out" "$BENCH_DIR/es-$a.err"
  url="$RECEIVER_URL"
  r0=$(cpu_secs "$RECEIVER_PID")
  timed "ship-$a" "$SFEVENTS" ship --output-dir "$BENCH_DIR/archive-$a" --quiet \
    --to "elasticsearch+$url?name=e2e"
  r1=$(cpu_secs "$RECEIVER_PID")
  rpeak=$(peak_rss_mib "$RECEIVER_PID")
  # What the receiver holds: created, and conflicts + updates + _ids offered more than once.
  read -r stored dup < <(python3 -c '
import json, sys, urllib.request
url = sys.argv[1]
s = json.load(urllib.request.urlopen(url + "/__receiver/stats"))
offers = json.load(urllib.request.urlopen(url + "/__receiver/offers"))["offers"]
ids = {}
for o in offers:
    ids[o["id"]] = ids.get(o["id"], 0) + o["count"]
print(s["created"], s["conflicts"] + s["updated"] + sum(1 for n in ids.values() if n > 1))
' "$url") || { echo "cannot read the receiver's counts" >&2; stored="?" dup="?"; }
  es_receiver_stop
  if [[ "$stored" != "${ROWS[$a]}" || "$dup" != 0 ]]; then
    echo "FAIL: ship $a: the receiver holds $stored events ($dup twice); the archive ${ROWS[$a]}" >&2
    failed=1
  fi
  printf '%s\tship\t%s\t%s\t%s\t%s\t%s\t%s\t%s\treceiver %s\t%s\n' "$a" "$BENCH_DIR/ship-$a.time" \
    "${CSVB[$a]}" "${ROWS[$a]}" "${LINES[$a]}" "${ABYTES[$a]}" "$stored" "$dup" \
    "$(awk -v x="$r0" -v y="$r1" 'BEGIN { printf "%.1f", y - x }'), peak $rpeak MiB" "$RC" >>"$RESULTS"
done

# The two archives hold the same events.
first=""
for a in $ARCHIVES; do
  if [[ "${LINES[$a]}" != "${ROWS[$a]}" ]]; then
    echo "FAIL: archive $a: ${LINES[$a]} NDJSON lines, state.db ${ROWS[$a]} rows" >&2; failed=1
  fi
  [[ -z "$first" ]] && first="$a"
  if [[ "${ROWS[$a]}" != "${ROWS[$first]}" || "${CSVB[$a]}" != "${CSVB[$first]}" ]]; then
    echo "FAIL: archive $a holds ${ROWS[$a]} rows of ${CSVB[$a]} CSV bytes, $first ${ROWS[$first]} of ${CSVB[$first]}" >&2
    failed=1
  fi
done

# --- the table -----------------------------------------------------------------------------------
python3 - "$RESULTS" <<'PY'
import sys

def tv(path):
    v = {}
    for line in open(path):
        k, _, x = line.strip().rpartition(": ")
        v[k] = x
    wall = 0.0
    for part in v["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
        wall = wall * 60 + float(part)
    return wall, float(v["User time (seconds)"]) + float(v["System time (seconds)"]), \
        int(v["Maximum resident set size (kbytes)"]) / 1024

steps = {}
for line in open(sys.argv[1]):
    a, step, tfile, csvb, rows, lines, abytes, stored, dup, other, rc = line.rstrip("\n").split("\t")
    wall, cpu, rss = tv(tfile)
    steps.setdefault(a, {})[step] = dict(wall=wall, cpu=cpu, rss=rss, csv=int(csvb), rows=int(rows),
                                         lines=lines, abytes=int(abytes), stored=stored, dup=dup,
                                         other=other, rc=rc)
print("CPU s = user + sys (/usr/bin/time -v) of `sfevents collect --no-ship`, then of `sfevents ship` "
      "(mode ecs, default settings) to a fresh receiver; GB = 10^9 bytes of CSV; MiB = 2^20 bytes. "
      "sfsim's and the receiver's CPU are charged to nobody.")
print()
print("| archive | step | CSV GB | events | wall s | CPU s | CPU s per GB of CSV | peak RSS MiB | stored | not charged (CPU s) | exit |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for a, s in steps.items():
    for step, r in s.items():
        gb = r["csv"] / 1e9
        stored = f"{int(r['stored']):,}" if r["stored"].isdigit() else r["stored"]
        print(f"| {a} | {step} | {gb:.3f} | {r['rows']:,} | {r['wall']:.1f} | {r['cpu']:.2f} | "
              f"{r['cpu'] / gb:.2f} | {r['rss']:.1f} | {stored} | {r['other']} | {r['rc']} |")
print()
print("| archive | archive bytes per CSV byte (raw CSV + NDJSON) | collect CPU s per GB | ship CPU s per GB | end to end CPU s per GB | goal ≤ 30 |")
print("|---|---:|---:|---:|---:|---|")
for a, s in steps.items():
    if "collect" not in s or "ship" not in s:
        continue
    gb = s["collect"]["csv"] / 1e9
    c, sh = s["collect"]["cpu"] / gb, s["ship"]["cpu"] / gb
    print(f"| {a} | {s['collect']['abytes'] / s['collect']['csv']:.3f} | {c:.2f} | {sh:.2f} | "
          f"**{c + sh:.2f}** | {'met' if c + sh <= 30 else 'NOT met'} |")
PY
exit "$failed"
