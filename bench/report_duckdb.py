#!/usr/bin/env python3
"""The DuckDB side of bench/report.sh: the per-user table of `sfevents report api-usage`,
computed by DuckDB from the same raw ApiTotalUsage CSV files of an sfevents archive.

    python3 bench/report_duckdb.py --glob 'ARCHIVE/output/ApiTotalUsage_*.csv' --out users.json
    python3 bench/report_duckdb.py ... --full      # also the other tables sfevents computes
    python3 bench/report_duckdb.py compare sfevents.json users.json

Per user (USER_NAME, else USER_ID, else "(unknown)", as sfevents' `user_of`): calls (rows),
counted against limit (COUNTS_AGAINST_API_LIMIT = true, any case), errors (STATUS_CODE >= 400;
a code that is not a number counts as 0, as in sfevents). `read_csv` reads every column as
VARCHAR with a header, on all of DuckDB's threads (its default: one per core).

`--full` adds, in the same pass over the files (GROUPING SETS), the other groupings the
api-usage report makes: per day, connected app, client, status code and API version. It is
closer to the work sfevents does in one scan; it still leaves out the resource templating,
the entity split and the legacy-version table.

`compare` checks that the per-user rows of sfevents' JSON (`api_usage_per_user`) and of this
script's output are the same, and exits 1 (printing the differences) when they are not.
"""

import argparse
import json
import sys
import time


USER = ("CASE WHEN coalesce(USER_NAME, '') <> '' THEN USER_NAME "
        "WHEN coalesce(USER_ID, '') <> '' THEN USER_ID ELSE '(unknown)' END")
COUNTED = "(lower(coalesce(COUNTS_AGAINST_API_LIMIT, '')) = 'true')::BIGINT"
ERRORS = "(coalesce(TRY_CAST(STATUS_CODE AS UBIGINT), 0) >= 400)::BIGINT"


def source(glob):
    esc = glob.replace("'", "''")
    return f"read_csv('{esc}', header = true, all_varchar = true)"


def per_user_sql(glob):
    return (f"SELECT {USER} AS user, count(*) AS calls, sum({COUNTED}) AS counted, "
            f"sum({ERRORS}) AS errors FROM {source(glob)} GROUP BY ALL ORDER BY calls DESC, user")


def full_sql(glob):
    none = lambda c: f"CASE WHEN coalesce({c}, '') = '' THEN '(none)' ELSE {c} END"
    app = ("CASE WHEN coalesce(CONNECTED_APP_NAME, '') <> '' THEN CONNECTED_APP_NAME "
           "WHEN coalesce(CONNECTED_APP_ID, '') <> '' THEN CONNECTED_APP_ID ELSE '(none)' END")
    return (
        "SELECT CASE WHEN GROUPING(user) = 0 THEN 'user' WHEN GROUPING(day) = 0 THEN 'day' "
        "WHEN GROUPING(app) = 0 THEN 'app' WHEN GROUPING(client) = 0 THEN 'client' "
        "WHEN GROUPING(status) = 0 THEN 'status' ELSE 'version' END AS dim, "
        "coalesce(user, day, app, client, status, version) AS key, count(*) AS calls, "
        "sum(counted) AS counted, sum(errors) AS errors FROM ("
        f"  SELECT {USER} AS user, substr(TIMESTAMP_DERIVED, 1, 10) AS day, {app} AS app, "
        f"  {none('CLIENT_NAME')} AS client, {none('STATUS_CODE')} AS status, "
        f"  {none('API_VERSION')} AS version, {COUNTED} AS counted, {ERRORS} AS errors "
        f"  FROM {source(glob)}) "
        "GROUP BY GROUPING SETS ((user), (day), (app), (client), (status), (version))")


def run(args):
    import duckdb

    t0 = time.monotonic()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    if args.full:
        rows = con.execute(full_sql(args.glob)).fetchall()
        users = [r[1:] for r in rows if r[0] == "user"]
        users.sort(key=lambda r: (-r[1], r[0]))
        groups = {}
        for r in rows:
            groups[r[0]] = groups.get(r[0], 0) + 1
    else:
        users = con.execute(per_user_sql(args.glob)).fetchall()
        groups = {"user": len(users)}
    secs = time.monotonic() - t0
    out = {
        "duckdb": duckdb.__version__,
        "threads": threads,
        "seconds": round(secs, 3),
        "rows": sum(r[1] for r in users),
        "groups": groups,
        "api_usage_per_user": [
            {"user": u, "calls": int(c), "counted against limit": int(k), "errors": int(e)}
            for u, c, k, e in users
        ],
    }
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"duckdb {duckdb.__version__}, {threads} threads: {out['rows']} rows, "
          f"{len(users)} users in {secs:.2f} s", file=sys.stderr)


KEYS = ("calls", "counted against limit", "errors")


def compare(args):
    try:
        with open(args.sfevents) as f:
            sf = json.load(f)
        with open(args.duckdb) as f:
            dd = json.load(f)
    except (OSError, ValueError) as e:
        print(f"FAIL: cannot read the tables to compare: {e}", file=sys.stderr)
        return 1
    if "api_usage_per_user" not in sf:
        print(f"FAIL: {args.sfevents} has no api_usage_per_user table", file=sys.stderr)
        return 1
    a = {r["user"]: tuple(r[k] for k in KEYS) for r in sf["api_usage_per_user"]}
    b = {r["user"]: tuple(r[k] for k in KEYS) for r in dd["api_usage_per_user"]}
    omitted = [t.get("omitted", 0) for s in sf.get("report", {}).get("sections", [])
               for t in s.get("tables", []) if t.get("id") == "api_usage_per_user"]
    bad = []
    if any(omitted):
        bad.append(f"sfevents left out {omitted[0]} users (raise --top)")
    for u in sorted(set(a) | set(b)):
        if a.get(u) != b.get(u):
            bad.append(f"{u!r}: sfevents {a.get(u)} vs duckdb {b.get(u)} ({', '.join(KEYS)})")
    if bad:
        print("FAIL: the per-user tables differ:", file=sys.stderr)
        for line in bad[:50]:
            print("  " + line, file=sys.stderr)
        return 1
    calls = sum(v[0] for v in a.values())
    print(f"OK: the same {len(a)} users, {calls} calls, "
          f"{sum(v[1] for v in a.values())} counted, {sum(v[2] for v in a.values())} errors")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd")
    c = sub.add_parser("compare", help="compare sfevents' per-user table with this script's")
    c.add_argument("sfevents")
    c.add_argument("duckdb")
    if len(sys.argv) > 1 and sys.argv[1] == "compare":
        return compare(p.parse_args())
    q = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("--glob", required=True, help="the CSV files, e.g. ARCHIVE/output/ApiTotalUsage_*.csv")
    q.add_argument("--out", required=True, help="where to write the per-user table (JSON)")
    q.add_argument("--full", action="store_true", help="also group per day, app, client, status, version")
    q.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: DuckDB's, all cores)")
    run(q.parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
