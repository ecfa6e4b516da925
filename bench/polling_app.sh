#!/usr/bin/env bash
# "The polling app, done right": `sfevents run --object SetupAuditTrail` every minute, shipping
# each change to rsyslog over TLS (README, "Recipe: the Setup Audit Trail to a syslog drain,
# every minute"), against sfsim in real time. Measures:
#   * API calls: the first run (start-up /limits, describe, the --backfill-days 1 backfill), then
#     per steady-state cycle and per day, from sfsim's /__sim/state counter and from the
#     "cycle done" JSON log lines;
#   * delivery latency per change: rsyslog's receipt time (%timegenerated%, microseconds) less
#     the change's CreatedDate, for the changes created after sfevents started;
#   * exactly once: every SetupAuditTrail record sfsim made visible up to the last cycle's query
#     arrived once (by Id in the MSG JSON), none twice, and what arrived equals the archive.
#
#   bench/polling_app.sh                    # about 16 minutes
#   RUN_SECS=120 KEEP=1 bench/polling_app.sh
#
# Steps: builds release binaries; starts `sfsim serve --days 1 --audit-per-hour AUDIT_PER_HOUR`
# (live clock: the changes of the coming hours become visible as their CreatedDate passes);
# makes a CA and a server certificate with openssl; starts rsyslogd (imtcp, TLS through the
# ossl driver, anonymous clients; omfile with receipt time, APP-NAME, MSGID and MSG); runs
# `sfevents --log-format json run --object SetupAuditTrail --object-every OBJECT_EVERY
# --backfill-days 1 --to syslog+tls://127.0.0.1:PORT?ca_file=CA&name=audit` for RUN_SECS,
# stops it with SIGTERM while it is idle between cycles (so the last cycle's changes have been
# shipped), stops rsyslogd, asks sfsim (REST, password grant, after the counters were read)
# for every SetupAuditTrail record, and prints the tables of BENCHMARKS.md.
#
# Knobs (environment): RUN_SECS (900), OBJECT_EVERY (60), AUDIT_PER_HOUR (360-360, sfsim
# --audit-per-hour: one change every 10 s, so a run has enough to measure), RECORDS_PER_HOUR (sfsim --records-per-hour, default sfsim's own),
# NO_BUILD=1, BENCH_DIR (scratch, default a fresh mktemp -d; removed at the end unless KEEP=1).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
RUN_SECS="${RUN_SECS:-900}"
OBJECT_EVERY="${OBJECT_EVERY:-60}"
AUDIT_PER_HOUR="${AUDIT_PER_HOUR:-360-360}"
SFSIM="$ROOT/target/release/sfsim"
SFEVENTS="$ROOT/target/release/sfevents"
RSYSLOG_MODULES="${RSYSLOG_MODULES:-/usr/lib/x86_64-linux-gnu/rsyslog}"

for tool in python3 curl openssl rsyslogd; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done

if [[ "${NO_BUILD:-0}" != 1 ]]; then
  echo "building release binaries (flock /tmp/cargo.lock)..." >&2
  flock /tmp/cargo.lock cargo build --release -p sfevents -p sfsim >&2
fi

BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/sfevents-pollingapp.XXXXXX)}"
mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
SIM_PID=""
SFE_PID=""
RSYSLOG_PID=""
# stop_pid PID SIGNAL: signal, wait up to 30 s, then SIGKILL.
stop_pid() {
  local pid="$1" sig="$2"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$SFE_PID" TERM
  stop_pid "$RSYSLOG_PID" TERM
  stop_pid "$SIM_PID" INT
  wait 2>/dev/null || true
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$BENCH_DIR"; else echo "kept $BENCH_DIR" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- sfsim, live clock ------------------------------------------------------------------------
SIM_OUT="$BENCH_DIR/sim"
mkdir -p "$SIM_OUT"
sim_args=(--days 1 --audit-per-hour "$AUDIT_PER_HOUR")
[[ -n "${RECORDS_PER_HOUR:-}" ]] && sim_args+=(--records-per-hour "$RECORDS_PER_HOUR")
"$SFSIM" serve --bind 127.0.0.1 --port 0 --out "$SIM_OUT" "${sim_args[@]}" \
  >"$BENCH_DIR/sim.stdout" 2>"$BENCH_DIR/sim.stderr" &
SIM_PID=$!
SIM_URL=""
for _ in $(seq 1 1200); do
  kill -0 "$SIM_PID" 2>/dev/null || { echo "sfsim exited early:" >&2; cat "$BENCH_DIR/sim.stderr" >&2; exit 1; }
  SIM_URL=$(sed -n 's#^sfsim serving \(http://127\.0\.0\.1:[0-9]*\).*#\1#p' "$BENCH_DIR/sim.stdout" | head -1)
  if [[ -n "$SIM_URL" ]] && curl -fsS -o /dev/null "$SIM_URL/services/data/"; then break; fi
  sleep 0.1
done
[[ -n "$SIM_URL" ]] || { echo "sfsim did not start in 120 s" >&2; exit 1; }
echo "sfsim pid $SIM_PID: $(head -1 "$BENCH_DIR/sim.stdout") (${sim_args[*]})" >&2
sim_calls() { curl -fsS "$SIM_URL/__sim/state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_calls"])'; }
# sfsim's clock less the wall clock, in seconds (latency compares the two): the wall clock is
# read around the request, in the same process.
sim_skew() {
  python3 - "$SIM_URL/__sim/state" <<'PY'
import datetime, json, sys, time, urllib.request
t0 = time.time()
n = json.load(urllib.request.urlopen(sys.argv[1]))["now"]
t1 = time.time()
sim = datetime.datetime.strptime(n, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
print(f"{sim - (t0 + t1) / 2:.3f}")
PY
}
# Busy and total jiffies of the whole machine (other jobs share it).
cpu_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

# --- TLS: a CA and a server certificate for 127.0.0.1 -----------------------------------------
TLS="$BENCH_DIR/tls"
mkdir -p "$TLS"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sfevents bench CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$TLS/server.ext"
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial \
  -days 2 -extfile "$TLS/server.ext" -out "$TLS/server.pem" 2>/dev/null

# --- rsyslogd: imtcp over TLS, one line per message with its receipt time ----------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RS="$BENCH_DIR/rsyslog"
mkdir -p "$RS/work"
RECEIVED="$RS/received.log"
cat >"$RS/rsyslog.conf" <<EOF
global(
  maxMessageSize="256k"
  workDirectory="$RS/work"
  defaultNetstreamDriver="ossl"
  defaultNetstreamDriverCAFile="$TLS/ca.pem"
  defaultNetstreamDriverCertFile="$TLS/server.pem"
  defaultNetstreamDriverKeyFile="$TLS/server.key"
)
module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="$PORT")
# Receipt time (date-rfc3339: microseconds), APP-NAME, MSGID, then MSG (the event as JSON).
template(name="received" type="string"
  string="%timegenerated:::date-rfc3339% %app-name% %msgid% %msg%\n")
if \$app-name == "sfevents" then {
  action(type="omfile" file="$RECEIVED" template="received")
  stop
}
action(type="omfile" file="$RS/other.log")
EOF
rsyslogd -n -f "$RS/rsyslog.conf" -i "$RS/rsyslogd.pid" -M "$RSYSLOG_MODULES" \
  >"$RS/stdout" 2>"$RS/stderr" &
RSYSLOG_PID=$!
ok=""
for _ in $(seq 1 100); do
  kill -0 "$RSYSLOG_PID" 2>/dev/null || { echo "rsyslogd exited early:" >&2; cat "$RS/stderr" >&2; exit 1; }
  # A verified TLS handshake with the bench CA: the port is up and the certificates are right.
  if openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$TLS/ca.pem" -verify_return_error \
    -verify_ip 127.0.0.1 </dev/null >"$RS/s_client.out" 2>&1; then ok=1; break; fi
  sleep 0.2
done
[[ -n "$ok" ]] || { echo "rsyslogd does not answer TLS on $PORT:" >&2; cat "$RS/s_client.out" "$RS/stderr" >&2; exit 1; }
echo "rsyslogd pid $RSYSLOG_PID: $(rsyslogd -v | head -1 | sed 's/ compiled with://'), TLS on 127.0.0.1:$PORT" >&2

# --- sfevents run ------------------------------------------------------------------------------
CONFIG="$SIM_OUT/sfevents.toml"
ARCHIVE="$BENCH_DIR/archive"
LOG="$BENCH_DIR/run.log"
TO="syslog+tls://127.0.0.1:$PORT?ca_file=$TLS/ca.pem&name=audit"
SFE_ARGS=(--log-format json run --config "$CONFIG" --output-dir "$ARCHIVE"
  --object SetupAuditTrail --object-every "$OBJECT_EVERY" --backfill-days 1 --to "$TO")
echo "$SFEVENTS ${SFE_ARGS[*]}" >"$BENCH_DIR/command"
calls_start=$(sim_calls)
skew_start=$(sim_skew)
read -r busy0 total0 < <(cpu_jiffies)
t_start=$(date +%s.%N)
"$SFEVENTS" "${SFE_ARGS[@]}" >"$BENCH_DIR/run.stdout" 2>"$LOG" &
SFE_PID=$!
echo "sfevents run pid $SFE_PID for ${RUN_SECS}s: $TO" >&2
# The first cycle (start-up /limits, describe, backfill) ends with the first "cycle done"; the
# next starts OBJECT_EVERY seconds later, so the counter read now separates the two.
for _ in $(seq 1 3000); do
  grep -q '"cycle done"' "$LOG" 2>/dev/null && break
  kill -0 "$SFE_PID" 2>/dev/null || { echo "sfevents exited early:" >&2; tail -20 "$LOG" >&2; exit 1; }
  sleep 0.1
done
calls_first=$(sim_calls)
t_first=$(date +%s.%N)
echo "  first cycle done: sfsim api_calls $calls_start -> $calls_first" >&2
# Run until RUN_SECS, then stop while idle: 5 s without a log line (a cycle logs "cycle done"
# and "shipped" within a second or so), so nothing collected is left unshipped.
end=$(python3 -c "print($t_start + $RUN_SECS)")
while python3 -c "import sys,time; sys.exit(0 if time.time() < $end else 1)"; do
  kill -0 "$SFE_PID" 2>/dev/null || { echo "sfevents exited early:" >&2; tail -20 "$LOG" >&2; exit 1; }
  sleep 1
done
for _ in $(seq 1 900); do
  python3 -c "import os,sys,time; sys.exit(0 if time.time() - os.path.getmtime('$LOG') >= 5 else 1)" && break
  sleep 0.1
done
# CPU seconds (utime + stime) and peak RSS of sfevents over the whole run.
read -r sfe_cpu sfe_hwm < <(python3 - "$SFE_PID" <<'PY'
import os, sys
pid = sys.argv[1]
f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
tick = os.sysconf("SC_CLK_TCK")
hwm = [l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM:")][0]
print(f"{(int(f[11]) + int(f[12])) / tick:.2f} {int(hwm) / 1024:.1f}")
PY
)
t_stop=$(date +%s.%N)
read -r busy1 total1 < <(cpu_jiffies)
machine_busy=$(python3 -c "print(f'{100 * ($busy1 - $busy0) / max(1, $total1 - $total0):.0f}')")
load=$(cut -d' ' -f1-3 /proc/loadavg)
rc=0
kill -TERM "$SFE_PID" 2>/dev/null || true
for _ in $(seq 1 300); do kill -0 "$SFE_PID" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$SFE_PID" 2>/dev/null || true
wait "$SFE_PID" || rc=$?
SFE_PID=""
calls_end=$(sim_calls)
skew_end=$(sim_skew)
echo "  stopped (exit $rc): sfsim api_calls $calls_first -> $calls_end" >&2
"$SFEVENTS" status --output-dir "$ARCHIVE" >"$BENCH_DIR/status.txt" 2>&1 || true

# rsyslogd flushes its file on SIGTERM.
stop_pid "$RSYSLOG_PID" TERM
wait "$RSYSLOG_PID" 2>/dev/null || true
RSYSLOG_PID=""

# --- what sfsim holds: every SetupAuditTrail record, by REST (after the counters were read) ----
python3 - "$SIM_URL" "$SIM_OUT/credentials.json" "$BENCH_DIR/sim_records.json" <<'PY'
import json, sys, urllib.parse, urllib.request
url, creds, out = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
body = urllib.parse.urlencode({
    "grant_type": "password", "client_id": creds["client_id"],
    "client_secret": creds["client_secret"], "username": creds["username"],
    "password": creds["password"] + creds["security_token"],
}).encode()
tok = json.load(urllib.request.urlopen(url + "/services/oauth2/token", body))
h = {"Authorization": "Bearer " + tok["access_token"]}
q = "SELECT Id, CreatedDate FROM SetupAuditTrail ORDER BY CreatedDate ASC, Id ASC"
nxt = "/services/data/v64.0/query?" + urllib.parse.urlencode({"q": q})
recs = []
while nxt:
    page = json.load(urllib.request.urlopen(urllib.request.Request(tok["instance_url"] + nxt, headers=h)))
    recs += [{"Id": r["Id"], "CreatedDate": r["CreatedDate"]} for r in page["records"]]
    nxt = page.get("nextRecordsUrl")
json.dump(recs, open(out, "w"))
PY

# --- report ------------------------------------------------------------------------------------
python3 - "$BENCH_DIR" "$t_start" "$t_first" "$t_stop" "$calls_start" "$calls_first" "$calls_end" \
  "$rc" "$OBJECT_EVERY" "$AUDIT_PER_HOUR" "$sfe_cpu" "$sfe_hwm" "$RUN_SECS" \
  "$skew_start $skew_end" "$machine_busy" "$load" <<'PY'
import json, math, sqlite3, statistics, sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

d = Path(sys.argv[1])
t_start, t_first, t_stop = (float(x) for x in sys.argv[2:5])
c_start, c_first, c_end = (int(x) for x in sys.argv[5:8])
rc, every, aph, cpu, hwm, run_secs = sys.argv[8], int(sys.argv[9]), sys.argv[10], sys.argv[11], sys.argv[12], sys.argv[13]
skew, busy, load = sys.argv[14], sys.argv[15], sys.argv[16]

def ts(s):
    s = s.replace("Z", "+00:00")
    if s[-5] in "+-" and s[-3] != ":":  # Salesforce's +0000
        s = s[:-2] + ":" + s[-2:]
    return datetime.fromisoformat(s).timestamp()

def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")

# The JSON log: cycles with their API calls.
cycles = []
running = t_start
for line in (d / "run.log").read_text().splitlines():
    try:
        e = json.loads(line)
    except json.JSONDecodeError:
        continue
    f = e.get("fields", {})
    if f.get("message", "").startswith("running;"):
        running = ts(e["timestamp"])
    if f.get("message") == "cycle done":
        cycles.append({"t": ts(e["timestamp"]), "calls": int(f["api_calls"]), "events": int(f["events"])})
assert cycles, "no cycle"
first, steady = cycles[0], cycles[1:]
steady_log = sum(c["calls"] for c in steady)
per_cycle = (c_end - c_first) / len(steady) if steady else float("nan")
gaps = [b["t"] - a["t"] for a, b in zip(cycles, cycles[1:])]
period = statistics.mean(gaps) if gaps else float("nan")

# What rsyslog received.
got = []  # (receipt, id, created)
bad = 0
for line in (d / "rsyslog" / "received.log").read_text().splitlines():
    recv, app, msgid, msg = line.split(" ", 3)
    try:
        ev = json.loads(msg.lstrip("\ufeff "))
    except json.JSONDecodeError:
        bad += 1
        continue
    f = ev.get("fields", ev)
    rid = f.get("Id") or ev.get("id")
    got.append((ts(recv), rid, ts(f["CreatedDate"]), msgid))
n_got = Counter(g[1] for g in got)
dups = {k: v for k, v in n_got.items() if v > 1}
msgids = Counter(g[3] for g in got)

# What sfsim holds, and what the last cycle's query could see: the query runs when the cycle
# starts, OBJECT_EVERY s after the previous "cycle done".
sim = {r["Id"]: ts(r["CreatedDate"]) for r in json.load(open(d / "sim_records.json"))}
last_query = cycles[-2]["t"] + every if len(cycles) > 1 else t_start
# The backfill reads from the first cycle's start less a day: all after this was in reach.
lower = first["t"] - 86400
expected = {i for i, c in sim.items() if lower <= c <= last_query}
backfill = {i for i in expected if sim[i] < t_start}
live = expected - backfill
missing = expected - set(n_got)
unknown = set(n_got) - set(sim)
after_last = {i for i, c in sim.items() if last_query < c <= t_stop}
extra = set(n_got) - expected - unknown  # created after the last query's start, yet collected

db = sqlite3.connect(f"file:{d / 'archive' / 'state.db'}?mode=ro", uri=True)
archived = db.execute(
    "SELECT COALESCE(SUM(events), 0) FROM source_stats WHERE source = 'SetupAuditTrail'").fetchone()[0]
lat = sorted(r - c for r, i, c, _ in got if c >= t_start)
# Each cycle starts OBJECT_EVERY s after the previous one's "cycle done" (the first: at start).
starts = [running] + [c["t"] + every for c in cycles[:-1]]
def start_of(r):
    return max((s for s in starts if s <= r), default=running)
# Split: waiting for the next query (CreatedDate -> cycle start), then query, archive and ship
# (cycle start -> receipt).
waits = sorted(start_of(r) - c for r, i, c, _ in got if c >= t_start)
posts = sorted(r - start_of(r) for r, i, c, _ in got if c >= t_start)
def pct(p, xs=None):
    xs = lat if xs is None else xs
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, math.ceil(p / 100 * len(xs)) - 1))
    return xs[k]

print()
print(f"### Run: {iso(t_start)} to {iso(t_stop)} ({t_stop - t_start:.0f} s), exit {rc}; "
      f"sfsim --audit-per-hour {aph}; sfevents --object-every {every}")
print()
print("| API calls | value | from |")
print("|---|---:|---|")
print(f"| first run: /limits + describe + backfill (1 day, {first['events']} changes) | {c_first - c_start} | "
      f"sfsim counter; 1st cycle logged {first['calls']} + 1 /limits |")
print(f"| steady state: cycles | {len(steady)} | `cycle done` lines after the first |")
print(f"| steady state: calls per cycle | {per_cycle:.2f} | sfsim {c_end - c_first} / {len(steady)} cycles; "
      f"log {steady_log}; min-max {min((c['calls'] for c in steady), default=0)}-{max((c['calls'] for c in steady), default=0)} |")
print(f"| mean s between cycles | {period:.2f} | `cycle done` timestamps |")
print(f"| per day at this period | {86400 / period * per_cycle:,.0f} | 86,400 / period × calls per cycle |")
print(f"| per day at exactly 1 per minute | {1440 * per_cycle:,.0f} | 1,440 × calls per cycle |")
print()
print("| delivery | value |")
print("|---|---:|")
print(f"| messages received | {len(got)} (MSGID {dict(msgids)}; unparsable {bad}) |")
print(f"| backfill changes expected / received once | {len(backfill)} / {len(backfill - missing)} |")
print(f"| changes created during the run, up to the last query: expected / received once | "
      f"{len(live)} / {len(live - missing)} |")
print(f"| archived (state.db) / received distinct ids | {archived} / {len(n_got)} |")
print(f"| missing | {len(missing)} |")
print(f"| duplicates (ids received more than once) | {len(dups)} |")
print(f"| received but unknown to sfsim | {len(unknown)} |")
print(f"| received, created at the backfill's lower edge or after the last query's start | {len(extra)} |")
print(f"| created after the last query, not received (due at the next cycle) | {len(after_last - set(n_got))} |")
print()
if lat:
    print(f"Changes created after sfevents started: {len(lat)}. Seconds:")
    print()
    print("| | min | median | mean | p95 | max |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, xs in [("latency: CreatedDate -> rsyslog receipt", lat),
                     ("of which waiting for the next query: CreatedDate -> cycle start", waits),
                     ("of which query, archive, ship: cycle start -> receipt", posts)]:
        print(f"| {name} | {xs[0]:.3f} | {statistics.median(xs):.3f} | {statistics.mean(xs):.3f} | "
              f"{pct(95, xs):.3f} | {xs[-1]:.3f} |")
print()
durs = [c["t"] - s for c, s in zip(cycles, starts)]
print(f"Cycle start -> `cycle done`: median {statistics.median(durs[1:] or durs) * 1000:.0f} ms "
      f"(first cycle {durs[0] * 1000:.0f} ms). sfsim clock - wall clock at start/end: {skew} s.")
print(f"sfevents over the run: {cpu} CPU s, peak RSS {hwm} MiB. Machine over the run: "
      f"{busy}% of both cores busy, load average {load} at the end.")
json.dump({
    "t_start": t_start, "t_first": t_first, "t_stop": t_stop, "calls": [c_start, c_first, c_end],
    "cycles": cycles, "latency": lat, "missing": sorted(missing), "dups": dups,
    "unknown": sorted(unknown), "cpu_s": cpu, "peak_rss_mib": hwm,
}, open(d / "summary.json", "w"), indent=1)
ok = not missing and not dups and not unknown and not bad and archived == len(n_got)
print("check:", "every change visible up to the last query arrived exactly once; received = archived" if ok else "FAILED")
sys.exit(0 if ok else 1)
PY
