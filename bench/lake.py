"""bench/lake.sh's helper, run with the lake venv's python (pyarrow, duckdb; scripts/test makes
the venv).

  lake.py pyarrow OUT CSV...   the reference writer: each CSV read with pyarrow.csv.read_csv
                               (types inferred; newlines_in_values, since EventLogFile values
                               such as ENTITY_NAME hold line breaks inside quotes) and written
                               with pyarrow.parquet.write_table (zstd) as
                               OUT/part-<n>.parquet; prints the rows written.
  lake.py query RUNS NAME=GLOB...
                               DuckDB (one connection, one thread count) over each lake: the
                               rows it holds, then the per-user API calls (USER_ID, count(*),
                               top 10) once to warm the cache and RUNS times timed; prints JSON
                               {NAME: {"rows", "files", "bytes", "top", "seconds": [...]}}.
"""

import glob
import json
import os
import sys
import time


def write_pyarrow(out, csvs):
    import pyarrow.csv
    import pyarrow.parquet

    os.makedirs(out, exist_ok=True)
    rows = 0
    parse = pyarrow.csv.ParseOptions(newlines_in_values=True)
    for n, path in enumerate(csvs):
        table = pyarrow.csv.read_csv(path, parse_options=parse)
        pyarrow.parquet.write_table(table, os.path.join(out, f"part-{n}.parquet"), compression="zstd")
        rows += table.num_rows
    print(rows)


TOP_USERS = (
    "SELECT USER_ID, count(*) FROM read_parquet('{glob}', union_by_name = true) "
    "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"
)


def query(runs, lakes):
    import duckdb

    con = duckdb.connect()
    found = {}
    for lake in lakes:
        name, pattern = lake.split("=", 1)
        files = glob.glob(pattern, recursive=True)
        if not files:
            sys.exit(f"{name}: no files match {pattern}")
        rows = con.execute(
            f"SELECT count(*) FROM read_parquet('{pattern}', union_by_name = true)"
        ).fetchone()[0]
        q = TOP_USERS.format(glob=pattern)
        top = con.execute(q).fetchall()  # warm: file metadata and the OS page cache
        seconds = []
        for _ in range(runs):
            t = time.perf_counter()
            con.execute(q).fetchall()
            seconds.append(time.perf_counter() - t)
        found[name] = {
            "rows": rows,
            "files": len(files),
            "bytes": sum(os.path.getsize(f) for f in files),
            "top": [list(r) for r in top],
            "seconds": seconds,
        }
    found["duckdb"] = duckdb.__version__
    print(json.dumps(found))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "pyarrow":
        write_pyarrow(args[0], args[1:])
    elif cmd == "query":
        query(int(args[0]), args[1:])
    else:
        sys.exit(f"unknown command {cmd}")
