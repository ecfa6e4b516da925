#!/usr/bin/env bash
# How long from an event's commit to its alert at an output, in `sfevents run` with the rules on.
#
#   1. sfsim serves an org with the brute_force scenario (14 failed logins of one user, then a
#      success, in LoginEvent and the Login EventLogFile), on a real clock.
#   2. A receiver on loopback (a few lines of Python) notes the time each alert arrives.
#   3. `sfevents run` collects LoginEvent and Login with `[detections] enabled = true` and ships
#      to that receiver over HTTP, until the alerts arrive.
#   4. For each alert file in the delivery log, the latency is the receiver's arrival time of its
#      alerts less the commit time of the newest log entry the rules had evaluated for it
#      (state.db's `committed_at`, the same clock).
#
#   bench/alert_latency.sh            # ROUNDS=3 runs on fresh archives
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
ROUNDS="${ROUNDS:-3}"
BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/sfevents-latency.XXXXXX)}"
SFSIM="$ROOT/target/release/sfsim"
SFEVENTS="$ROOT/target/release/sfevents"
. "$ROOT/bench/lib.sh"
need curl || { echo "curl is needed" >&2; exit 2; }
echo "building (release; flock /tmp/cargo.lock)..." >&2
flock /tmp/cargo.lock cargo build --release -p sfevents -p sfsim >&2
SIM_PID="" RPID="" RUN_PID=""
cleanup() {
  [[ -n "$RUN_PID" ]] && kill -KILL "$RUN_PID" 2>/dev/null || true
  [[ -n "$RPID" ]] && kill -KILL "$RPID" 2>/dev/null || true
  stop_sim
}
trap cleanup EXIT

cat >"$BENCH_DIR/receiver.py" <<'PY'
import gzip, http.server, json, sys, time
out = open(sys.argv[1], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        now = time.time()
        for line in body.splitlines():
            v = json.loads(line)
            if v.get("event_type") == "Alert":
                out.write(f"{now:.3f}\t{v['id']}\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(f"http://127.0.0.1:{s.server_port}", flush=True)
s.serve_forever()
PY

echo "| round | alert files | alerts | commit to alert at the output, s (each file) |"
echo "|---:|---:|---:|---|"
all=()
for round in $(seq 1 "$ROUNDS"); do
  dir="$BENCH_DIR/r$round"; mkdir -p "$dir"
  sim_serve "$dir/sim.out" "$dir/sim.err" --out "$dir/sim" --seed "$((20 + round))" --days 1 \
    --event-type Login --rows-per-hour 2-6 --records-per-hour 2-6 --scenario brute_force --no-late-files
  python3 "$BENCH_DIR/receiver.py" "$dir/arrivals.tsv" >"$dir/recv.out" &
  RPID=$!
  for _ in $(seq 1 100); do URL=$(head -1 "$dir/recv.out" 2>/dev/null || true); [[ -n "$URL" ]] && break; sleep 0.1; done
  { cat "$dir/sim/sfevents.toml"; printf '\n[detections]\nenabled = true\n'; } >"$dir/sfevents.toml"
  "$SFEVENTS" run --config "$dir/sfevents.toml" --output-dir "$dir/archive" --quiet \
    --object LoginEvent --backfill-days 2 --to "http+$URL/alerts?name=latency" 2>"$dir/run.err" &
  RUN_PID=$!
  for _ in $(seq 1 600); do [[ -s "$dir/arrivals.tsv" ]] && break; sleep 0.1; done
  sleep 3  # the rest of the pass's alerts
  kill -TERM "$RUN_PID"; wait "$RUN_PID" 2>/dev/null || true; RUN_PID=""
  kill -KILL "$RPID"; wait "$RPID" 2>/dev/null || true; RPID=""
  stop_sim
  [[ -s "$dir/arrivals.tsv" ]] || { echo "round $round: no alert arrived" >&2; cat "$dir/run.err" >&2; exit 1; }
  line=$(python3 - "$dir" <<'PY'
import glob, json, sqlite3, sys, datetime as dt
d = sys.argv[1]
arrival = {}
for l in open(f"{d}/arrivals.tsv"):
    t, i = l.split("\t"); arrival.setdefault(i.strip(), float(t))
db = sqlite3.connect(f"{d}/archive/state.db")
ts = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
lat, files, alerts = [], 0, 0
for (path,) in db.execute("SELECT path FROM delivery_log WHERE dataset = 'alert' ORDER BY seq"):
    frm, to = map(int, path.rsplit("/", 1)[1][len("alerts-"):-len(".ndjson")].split("-"))
    (committed,) = db.execute("SELECT MAX(committed_at) FROM delivery_log WHERE seq >= ? AND seq < ? AND dataset != 'alert'", (frm, to)).fetchone()
    ids = [json.loads(l)["id"] for l in open(f"{d}/archive/{path}")]
    got = [arrival[i] for i in ids if i in arrival]
    if len(got) != len(ids):
        sys.exit(f"{path}: {len(ids) - len(got)} alerts never arrived")
    files += 1; alerts += len(ids)
    lat.append(max(got) - ts(committed))
print(f"{files}\t{alerts}\t" + ", ".join(f"{x:.2f}" for x in lat))
PY
)
  IFS=$'\t' read -r files alerts lats <<<"$line"
  echo "| $round | $files | $alerts | $lats |"
done
