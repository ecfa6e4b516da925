#!/usr/bin/env python3
"""Helpers of bench/collect.sh (standard library only).

  verify.py row NAME LABEL STATE_DB TIME_TXT COLLECT_STDOUT SIM_STATE_BEFORE SIM_STATE_AFTER
                SIM_CPU0 SIM_CPU1 RC CHECK
      prints one markdown table row.
  verify.py phases ARCHIVE_DIR LABEL
      prints a markdown row splitting the largest file's run into listing, download and
      CSV->NDJSON phases, from sfevents' log and the archived files' modification times.
  verify.py check-big STATE_DB ARCHIVE_DIR CREDENTIALS_JSON
      checks every collected CSV against state.db (bytes, sha256) and the simulator's
      LogFileLength; prints a one-line verdict, exits 1 on a mismatch.
"""

import hashlib
import json
import os
import re
import sqlite3
import sys
import urllib.parse
import urllib.request


def time_v(path):
    """The fields of GNU time -v output that the table uses."""
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().rpartition(": ")
            out[k] = v
    wall = out.get("Elapsed (wall clock) time (h:mm:ss or m:ss)", "0:0")
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    return {
        "wall": secs,
        "rss_kib": int(out.get("Maximum resident set size (kbytes)", "0")),
        "user": float(out.get("User time (seconds)", "0")),
        "sys": float(out.get("System time (seconds)", "0")),
    }


def last_run(db):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    r = c.execute(
        "SELECT files, rows, bytes, api_calls, status FROM runs ORDER BY id DESC LIMIT 1"
    ).fetchone()
    n = c.execute("SELECT COUNT(*), COALESCE(SUM(bytes),0) FROM files").fetchone()
    q = c.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]
    c.close()
    return {
        "files": r[0], "rows": r[1], "bytes": r[2], "api_calls": r[3], "status": r[4],
        "ledger_files": n[0], "ledger_bytes": n[1], "quarantined": q,
    }


SUMMARY = re.compile(
    r"(\d+) files, (\d+) rows, (\d+) bytes collected; (\d+) API calls"
)


def row(args):
    (name, label, db, time_txt, stdout, before, after, cpu0, cpu1, rc, check) = args
    t = time_v(time_txt)
    run = last_run(db) if os.path.exists(db) else None
    # The summary line, when sfevents printed one (it does not under --quiet).
    with open(stdout) as f:
        m = SUMMARY.search(f.read())
    if m:
        files, rows, nbytes, calls = (int(x) for x in m.groups())
    elif run:
        files, rows, nbytes, calls = run["files"], run["rows"], run["bytes"], run["api_calls"]
    else:
        files = rows = nbytes = calls = 0
    sim_calls = json.loads(after)["api_calls"] - json.loads(before)["api_calls"]
    try:
        sim_cpu = f"{float(cpu1) - float(cpu0):.1f}"
    except ValueError:
        sim_cpu = "?"
    mbps = nbytes / 1e6 / t["wall"] if t["wall"] > 0 else 0.0
    per_file = f"{calls / files:.3f}" if files else "-"
    status = rc if not run else f"{rc} ({run['status']})"
    print(
        f"| {label} | {files} | {rows} | {nbytes} | {t['wall']:.2f} | {mbps:.1f} | "
        f"{t['rss_kib'] / 1024:.1f} | {t['user'] + t['sys']:.1f} | {sim_cpu} | "
        f"{calls} / {sim_calls} | {per_file} | {status} | {check} |"
    )


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def log_file_lengths(creds_path, ids):
    """LogFileLength of each id, from the simulator's REST API (password grant, one query)."""
    with open(creds_path) as f:
        c = json.load(f)
    form = urllib.parse.urlencode({
        "grant_type": "password",
        "client_id": c["client_id"],
        "client_secret": c["client_secret"],
        "username": c["username"],
        "password": c["password"] + c["security_token"],
    }).encode()
    with urllib.request.urlopen(c["login_url"] + "/services/oauth2/token", form, timeout=600) as r:
        tok = json.load(r)
    quoted = ", ".join("'" + i + "'" for i in ids)
    q = urllib.parse.quote(f"SELECT Id, LogFileLength FROM EventLogFile WHERE Id IN ({quoted})")
    req = urllib.request.Request(
        f"{tok['instance_url']}/services/data/v64.0/query?q={q}",
        headers={"Authorization": "Bearer " + tok["access_token"]},
    )
    with urllib.request.urlopen(req, timeout=600) as r:
        res = json.load(r)
    return {rec["Id"]: int(rec["LogFileLength"]) for rec in res["records"]}


def check_big(args):
    db, archive, creds = args
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    files = c.execute("SELECT file_id, bytes, sha256, csv_path FROM files").fetchall()
    c.close()
    if not files:
        print("FAIL: no file collected")
        return 1
    lengths = log_file_lengths(creds, [f[0] for f in files])
    ok, notes = True, []
    for file_id, nbytes, sha, rel in files:
        path = os.path.join(archive, rel)
        size = os.path.getsize(path)
        digest = sha256_file(path)
        lfl = lengths.get(file_id)
        same = size == nbytes == lfl and digest == sha
        ok &= same
        if nbytes >= 1_000_000 or not same:
            notes.append(
                f"{file_id}: LogFileLength {lfl}, state.db bytes {nbytes}, archived {size}, "
                f"sha256 {'=' if digest == sha else '!='} state.db"
            )
    verdict = "OK" if ok else "FAIL"
    print(f"{verdict} ({len(files)} files) " + "; ".join(notes))
    return 0 if ok else 1


def phases(args):
    """listing: run start -> "EventLogFile plan" log line; download: plan -> the CSV's last write
    (the spool file is renamed into output/ after it is synced); CSV->NDJSON: CSV's last write ->
    the NDJSON's last write; finish: -> the "archived" log line (NDJSON fsync, renames, commit)."""
    import datetime as dt
    archive, label = args
    db = os.path.join(archive, "state.db")
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    file_id, nbytes, csv_rel, nd_rel = c.execute(
        "SELECT file_id, bytes, csv_path, ndjson_path FROM files ORDER BY bytes DESC LIMIT 1"
    ).fetchone()
    started = c.execute("SELECT started_at FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    c.close()

    def ts(s):
        return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()

    plan = archived = None
    logs = os.path.join(archive, "logs")
    for name in sorted(os.listdir(logs)):
        with open(os.path.join(logs, name)) as f:
            for line in f:
                stamp = line.split(" ", 1)[0]
                if "EventLogFile plan" in line:
                    plan = ts(stamp)
                elif "archived" in line and f"file={file_id}" in line:
                    archived = ts(stamp)
    csv_done = os.stat(os.path.join(archive, csv_rel)).st_mtime
    nd_done = os.stat(os.path.join(archive, nd_rel)).st_mtime
    t0 = ts(started)
    if plan is None or archived is None:
        print(f"| {label} | (log lines missing) |")
        return
    dl, pr = csv_done - plan, nd_done - csv_done
    print(
        f"| {label} | {nbytes} | {plan - t0:.1f} | {dl:.1f} ({nbytes / 1e6 / dl:.0f} MB/s) | "
        f"{pr:.1f} ({nbytes / 1e6 / pr:.0f} MB/s) | {archived - nd_done:.1f} | {archived - t0:.1f} |"
    )


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "row":
        row(rest)
    elif cmd == "phases":
        phases(rest)
    elif cmd == "check-big":
        sys.exit(check_big(rest))
    else:
        sys.exit(f"unknown command {cmd}")
