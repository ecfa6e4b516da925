#!/usr/bin/env python3
"""Tables for bench/api_calls.sh: reads the JSON logs and results.tsv of a bench folder.

    api_calls_report.py BENCH_DIR RUN_SECS OBJECT_EVERY ELF_EVERY RECORDS_PER_HOUR PAGE_CAP PAGE_RPH
"""

import json
import math
import re
import sys
from datetime import datetime
from pathlib import Path

OBJECTS = ["LoginEvent", "SetupAuditTrail", "LoginHistory"]
FRESHNESS_MIN = [1, 5, 15, 60]
PAGE = 2000
# Settings the runs used (sfevents defaults): object window, look-back.
WINDOW_MIN, LOOKBACK_MIN = 60, 15
ELF_FILES_PER_DAY = 24  # one hourly Login file per hour with events


def events(path):
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            e = json.loads(line)
        except json.JSONDecodeError:
            continue
        f = e.get("fields", {})
        f["_ts"] = e.get("timestamp")
        f["_level"] = e.get("level")
        out.append(f)
    return out


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def summary_calls(stdout):
    m = re.search(r"; (\d+) API calls", stdout.read_text())
    return int(m.group(1)) if m else None


def per_source(evs):
    """Per object: windows and pages (= query calls) of the run; EventLogFile: listings and
    downloads."""
    out = {}
    for e in evs:
        msg = e.get("message")
        if msg == "object collected":
            d = out.setdefault(e["source"], {"windows": 0, "pages": 0, "events": 0})
            d["windows"] += int(e["windows"])
            d["pages"] += int(e["pages"])
            d["events"] += int(e["events"])
        elif msg == "EventLogFile plan":
            d = out.setdefault("EventLogFile", {"listings": 0, "listed": 0, "downloads": 0})
            d["listings"] += 1
            d["listed"] = max(d["listed"], int(e["listed"]))
        elif msg == "archived" and "event_type" in e:
            out.setdefault("EventLogFile", {"listings": 0, "listed": 0, "downloads": 0})[
                "downloads"
            ] += 1
    return out


def main():
    bench = Path(sys.argv[1])
    run_secs, obj_every, elf_every, rph, page_cap, page_rph = sys.argv[2:8]
    rows = [l.split("\t") for l in (bench / "results.tsv").read_text().splitlines() if l]
    problems = []

    # --- catch-up
    print("### Catch-up (`sfevents collect`, --backfill-days 1, all four sources)\n")
    print("| source | windows | query calls (pages) | events / files | describe |")
    print("|---|---:|---:|---:|---:|")
    for phase, name, b, a, rc, log, out in rows:
        if phase != "catchup":
            continue
        ps = per_source(events(bench / log))
        for o in OBJECTS:
            d = ps.get(o, {})
            print(f"| {o} | {d.get('windows', '?')} | {d.get('pages', '?')} | {d.get('events', '?')} events | 1 |")
        d = ps.get("EventLogFile", {})
        print(
            f"| EventLogFile (Login) | - | {d.get('listings', '?')} listing | {d.get('downloads', '?')} files "
            f"({d.get('listed', '?')} listed) = {d.get('downloads', '?')} downloads | 0 |"
        )
        expected = 3 + sum(ps.get(o, {}).get("pages", 0) for o in OBJECTS) + d.get("listings", 0) + d.get(
            "downloads", 0
        )
        sc = summary_calls(bench / out)
        print(
            f"\nTotal: sfsim counted **{int(a) - int(b)}** API calls, sfevents reported {sc} "
            f"(exit {rc}); expected from the log: 3 describes + query pages + listing + downloads = {expected}.\n"
        )
        if int(a) - int(b) != expected or sc != int(a) - int(b):
            problems.append(f"catch-up: sfsim {int(a) - int(b)}, sfevents {sc}, expected {expected}")

    # --- real time
    print(
        f"### Steady state, real time (`sfevents run`, one source per run, {run_secs} s each, "
        f"--object-every {obj_every}, --elf-every {elf_every})\n"
    )
    print(
        "| source | cycles | 1st cycle calls | steady calls/cycle (mean, min-max) | queries/cycle from log "
        "| events or files | mean s between cycles | cycles' api_calls + /limits at start / sfsim delta |"
    )
    print("|---|---:|---:|---|---|---:|---:|---|")
    steady = {}
    start_limits = []
    for phase, name, b, a, rc, log, out in rows:
        if phase != "run":
            continue
        evs = events(bench / log)
        cycles = [e for e in evs if e.get("message") == "cycle done"]
        calls = [int(c["api_calls"]) for c in cycles]
        times = [ts(c["_ts"]) for c in cycles]
        gaps = [(t2 - t1).total_seconds() for t1, t2 in zip(times, times[1:])]
        rest = calls[1:]
        mean = sum(rest) / len(rest) if rest else float("nan")
        steady[name] = mean
        objs = [e for e in evs if e.get("message") == "object collected"]
        plans = [e for e in evs if e.get("message") == "EventLogFile plan"]
        if name == "EventLogFile":
            q = f"1 listing ({plans[-1]['listed'] if plans else '?'} files listed); downloads {sum(int(p['to_collect']) for p in plans)}"
            got = f"{sum(int(p['to_collect']) for p in plans)} files"
        else:
            wins = sorted({int(o["windows"]) for o in objs[1:]})
            pages = sorted({int(o["pages"]) for o in objs[1:]})
            q = f"windows {wins}, pages {pages}"
            got = f"{sum(int(o['events']) for o in objs)} events"
        delta = int(a) - int(b)
        # `run` reads /limits once at start (logged as "DailyApiRequests"), outside any cycle.
        limits = sum(1 for e in evs if e.get("message") == "DailyApiRequests")
        start_limits.append(limits)
        warn = [e for e in evs if e["_level"] in ("WARN", "ERROR")]
        if sum(calls) + limits != delta:
            problems.append(f"run {name}: log sum {sum(calls)} + {limits} /limits != sfsim delta {delta}")
        if warn:
            problems.append(f"run {name}: {len(warn)} warnings/errors, first: {warn[0].get('message')}")
        if rc != "0":
            problems.append(f"run {name}: exit {rc}")
        print(
            f"| {name} | {len(cycles)} | {calls[0] if calls else '?'} | {mean:.2f} ({min(rest) if rest else '?'}-{max(rest) if rest else '?'}) "
            f"| {q} | {got} | {sum(gaps) / len(gaps) if gaps else float('nan'):.2f} | {sum(calls)} + {limits} = {sum(calls) + limits} / {delta} |"
        )
    print(
        "\nAn object's 1st cycle = its describe + 1 query; EventLogFile's = listing + downloads of files new since the catch-up. The `+ 1` in the last column is the /limits call each `run` makes "
        "once at start (before its first cycle, so no cycle's api_calls includes it).\n"
    )

    # --- simulated time
    print("### One cycle at freshness F, simulated time (sfsim clock +F min, `sfevents collect` with SFEVENTS_NOW)\n")
    print("The catch-up described each object once; the field lists are kept in state.db for a day, so these `collect`s make no describe call.\n")
    print("| F (min) | LoginEvent windows / query calls | SetupAuditTrail query calls | LoginHistory query calls | EventLogFile listing + downloads | describes | sfsim delta | sfevents reported |")
    print("|---:|---|---:|---:|---|---:|---:|---:|")
    warp = {}
    for phase, name, b, a, rc, log, out in rows:
        if phase != "warp":
            continue
        ps = per_source(events(bench / log))
        le, sa, lh = (ps.get(o, {}) for o in OBJECTS)
        elf = ps.get("EventLogFile", {})
        delta = int(a) - int(b)
        sc = summary_calls(bench / out)
        expected = le.get("pages", 0) + sa.get("pages", 0) + lh.get("pages", 0) + elf.get("listings", 0) + elf.get("downloads", 0)
        if expected != delta or sc != delta or rc != "0":
            problems.append(f"warp +{name} min: sfsim {delta}, sfevents {sc}, expected {expected}, exit {rc}")
        f = int(name)
        warp.setdefault(f, []).append(
            {o: ps.get(o, {}).get("pages") for o in OBJECTS} | {"elf_list": elf.get("listings"), "elf_dl": elf.get("downloads")}
        )
        print(
            f"| {name} | {le.get('windows')} / {le.get('pages')} ({le.get('events')} ev) | {sa.get('pages')} ({sa.get('events')} ev) "
            f"| {lh.get('pages')} ({lh.get('events')} ev) | {elf.get('listings')} + {elf.get('downloads')} | 0 | {delta} | {sc} |"
        )
    print()

    # --- projection
    print("### Projected API calls per day\n")
    print(
        "calls/day = (86400 / interval) × calls per cycle, + per process start 1 describe per object "
        "(+ 1 /limits call for `run`). "
        "Calls per cycle: event objects (LoginEvent) = ⌈interval / window⌉ windows (the look-back is read in the first window, and a sliver under a quarter window is folded into the last) "
        f"(window {WINDOW_MIN} min, look-back {LOOKBACK_MIN} min), each 1 query + ⌈rows in the window / {PAGE}⌉ − 1 "
        f"more pages; SObjects = 1 query + ⌈rows since (cursor − look-back) / {PAGE}⌉ − 1 more pages; "
        f"EventLogFile = 1 listing (+1 per {PAGE} files listed; the listing re-reads the last 24 h) per cycle, "
        "+ 1 download per new file.\n"
    )
    hdr = " | ".join(f"{f} min" for f in FRESHNESS_MIN)
    print(f"| source | {hdr} |")
    print("|---|" + "---:|" * len(FRESHNESS_MIN))

    def q_at(o, f):
        # the steady (second) simulated cycle at that freshness
        v = warp.get(f, [])
        return v[-1].get(o) if v else None

    for o in OBJECTS:
        cells = []
        for f in FRESHNESS_MIN:
            q = q_at(o, f)
            formula = math.ceil(f / WINDOW_MIN) if o == "LoginEvent" else 1
            if q is None:
                q = formula
            if q != formula:
                problems.append(f"{o} at {f} min: measured {q} calls/cycle, formula {formula}")
            cells.append(f"{int(86400 / (f * 60) * q):,} ({q}/cycle)")
        print(f"| {o} | " + " | ".join(cells) + " |")
    cells = []
    for f in FRESHNESS_MIN:
        lst = int(86400 / (f * 60))
        cells.append(f"{lst + ELF_FILES_PER_DAY:,} ({lst:,} + {ELF_FILES_PER_DAY})")
    print("| EventLogFile, Login hourly (listings + downloads) | " + " | ".join(cells) + " |")
    print(f"| reference polling app, SetupAuditTrail only | 1,440 | - | - | - |")
    print()

    # --- pages
    print(
        f"### Pages per cycle with the look-back (second sfsim: --page-size-cap {page_cap}, "
        f"--records-per-hour {page_rph}; LoginEvent and LoginHistory)\n"
    )
    print(
        f"With pages of {page_cap} rows, a cycle's query calls show how many rows it read: "
        f"about (calls − 1) × {page_cap} to calls × {page_cap}. New events are the rows not seen before.\n"
    )
    print("| step | LoginEvent windows / query calls / new events | LoginHistory query calls / new events | describes | sfsim delta |")
    print("|---|---|---|---:|---:|")
    for phase, name, b, a, rc, log, out in rows:
        if phase != "pages":
            continue
        ps = per_source(events(bench / log))
        le, lh = ps.get("LoginEvent", {}), ps.get("LoginHistory", {})
        delta = int(a) - int(b)
        describes = 2 if name == "0" else 0  # a fresh archive describes; later runs reuse state.db's field lists
        expected = describes + le.get("pages", 0) + lh.get("pages", 0)
        if expected != delta or rc != "0":
            problems.append(f"pages +{name} min: sfsim {delta}, expected {expected}, exit {rc}")
        step = "catch-up (1 day)" if name == "0" else f"+{name} min"
        print(
            f"| {step} | {le.get('windows')} / {le.get('pages')} / {le.get('events')} "
            f"| {lh.get('pages')} / {lh.get('events')} | {describes} | {delta} |"
        )
    print()

    if problems:
        print("### Problems found\n")
        for p in problems:
            print(f"* {p}")
    else:
        print("Checks: every log total equals sfsim's counter; every measured calls/cycle equals the formula.")


if __name__ == "__main__":
    main()
