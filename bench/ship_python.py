#!/usr/bin/env python3
"""bench/ship.sh's two other contenders beside `sfevents ship`.

  ship_python.py ship URL INDEX BATCH COMPRESS FILE...
      The official Python client (PyPI `elasticsearch` 8.x, run from bench/ship.sh's venv):
      `elasticsearch.helpers.streaming_bulk` ships every line of the archive NDJSON FILEs as it
      is (json.loads, then the client serializes it again): `_op_type` create, `_id` the line's
      `id`, `_index` INDEX (a data stream), chunks of BATCH actions, gzip bodies when COMPRESS
      is 1. Prints a JSON summary (read, ok, failed, failures by status and error type) and
      exits 1 when any action failed.

  ship_python.py bodies OUTDIR INDEX BATCH FILE...
      curl's pre-built `_bulk` bodies (plain python3, no packages): OUTDIR/body-NNNNNN.ndjson,
      each BATCH events as `{"create":{"_index":INDEX,"_id":ID}}` followed by the archive line
      byte for byte. Prints "BODIES EVENTS".
"""

import json
import os
import sys


def lines(files):
    for path in files:
        with open(path, "rb") as f:
            for line in f:
                if line.strip():
                    yield line


def ship(url, index, batch, compress, files):
    from elasticsearch import Elasticsearch
    from elasticsearch.helpers import streaming_bulk

    client = Elasticsearch(url, request_timeout=300, http_compress=compress == "1")
    read = 0

    def actions():
        nonlocal read
        for line in lines(files):
            doc = json.loads(line)
            read += 1
            yield {"_op_type": "create", "_index": index, "_id": doc["id"], "_source": doc}

    ok = failed = 0
    statuses, errors = {}, {}
    for success, item in streaming_bulk(
        client, actions(), chunk_size=batch, raise_on_error=False, raise_on_exception=True
    ):
        if success:
            ok += 1
            continue
        failed += 1
        res = next(iter(item.values()))
        status = str(res.get("status"))
        statuses[status] = statuses.get(status, 0) + 1
        err = res.get("error")
        kind = err.get("type") if isinstance(err, dict) else str(err)
        errors[kind] = errors.get(kind, 0) + 1
    client.close()
    print(json.dumps({"read": read, "ok": ok, "failed": failed, "statuses": statuses,
                      "errors": errors}))
    return 1 if failed or ok != read else 0


def bodies(outdir, index, batch, files):
    os.makedirs(outdir, exist_ok=True)
    n_bodies = n_events = 0
    buf = []

    def flush():
        nonlocal n_bodies, buf
        if buf:
            n_bodies += 1
            with open(os.path.join(outdir, f"body-{n_bodies:06d}.ndjson"), "wb") as f:
                f.write(b"".join(buf))
            buf = []

    for line in lines(files):
        doc_id = json.loads(line)["id"]
        action = json.dumps({"create": {"_index": index, "_id": doc_id}}, separators=(",", ":"))
        buf.append(action.encode() + b"\n" + line.rstrip(b"\r\n") + b"\n")
        n_events += 1
        if len(buf) == batch:
            flush()
    flush()
    print(n_bodies, n_events)
    return 0


def main(argv):
    if len(argv) >= 6 and argv[1] == "ship":
        return ship(argv[2], argv[3], int(argv[4]), argv[5], argv[6:])
    if len(argv) >= 5 and argv[1] == "bodies":
        return bodies(argv[2], argv[3], int(argv[4]), argv[5:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
