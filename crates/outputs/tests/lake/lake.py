"""Helpers of the lake output's tests (crates/outputs/tests/lake.rs), run with the lake venv's
python (scripts/test makes it: moto, boto3, duckdb 1.5.5 with duckdb-extension-httpfs, chdb,
pydantic-ocsf).

  lake.py serve BUCKET...      S3 (moto in server mode) on a free loopback port with these
                               buckets; prints the port, serves until stdin closes.
  lake.py list ENDPOINT BUCKET lists the bucket through the S3 API (boto3); prints
                               {"key": [size, etag], ...} as JSON.
  lake.py put ENDPOINT BUCKET KEY
                               stores stdin's bytes as the object KEY.
  lake.py sql [ENDPOINT]       runs the DuckDB statements on stdin (separated by lines holding
                               only ';;'), prints the last one's rows as a JSON list of lists.
                               With ENDPOINT, DuckDB reads s3:// URLs from that S3 server: its
                               httpfs extension is loaded from the duckdb-extension-httpfs wheel
                               (DuckDB cannot download extensions here), with a secret for it.
  lake.py chdb                 runs the ClickHouse query on stdin in chDB (ClickHouse
                               in-process), prints its rows as a JSON list of lists.
  lake.py ocsf GLOB            reads every row of the Parquet files (DuckDB) as a document and
                               validates it against OCSF 1.1 (pydantic-ocsf's models of the
                               1.1.0 schema), refusing attributes the schema does not have;
                               prints {"valid": n, "errors": [...]} as JSON.
"""

import json
import os
import sys


def serve(buckets):
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    s3 = client(f"http://127.0.0.1:{port}")
    for b in buckets:
        s3.create_bucket(Bucket=b)
    print(port, flush=True)
    sys.stdin.read()
    server.stop()


def client(endpoint):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        region_name="us-east-1",
    )


def list_objects(endpoint, bucket):
    s3 = client(endpoint)
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            found[o["Key"]] = [o["Size"], o["ETag"]]
    print(json.dumps(found))


def put(endpoint, bucket, key):
    client(endpoint).put_object(Bucket=bucket, Key=key, Body=sys.stdin.buffer.read())


def httpfs(con, endpoint):
    """Loads httpfs from the duckdb-extension-httpfs wheel, which must match DuckDB's version,
    and makes every s3:// URL go to `endpoint` (path style, plain HTTP, moto's dummy keys)."""
    import duckdb
    import duckdb_extension_httpfs

    ext = os.path.join(
        os.path.dirname(duckdb_extension_httpfs.__file__),
        "extensions",
        f"v{duckdb.__version__}",
        "httpfs.duckdb_extension",
    )
    if not os.path.exists(ext):
        sys.exit(f"{ext} is missing: duckdb and duckdb-extension-httpfs must be the same version")
    con.execute(f"LOAD '{ext}'")
    host = endpoint.removeprefix("http://").rstrip("/")
    con.execute(
        "CREATE SECRET moto (TYPE s3, KEY_ID 'testing', SECRET 'testing', REGION 'us-east-1', "
        f"ENDPOINT '{host}', URL_STYLE 'path', USE_SSL false)"
    )


def sql(endpoint=None):
    import duckdb

    con = duckdb.connect()
    if endpoint:
        httpfs(con, endpoint)
    rows = []
    for stmt in sys.stdin.read().split("\n;;\n"):
        if stmt.strip():
            rows = con.execute(stmt).fetchall()
    print(json.dumps([list(r) for r in rows], default=str))


def chdb_query():
    import chdb

    res = chdb.query(sys.stdin.read(), "JSONCompact")
    print(json.dumps(json.loads(res.data())["data"]))


OCSF_CLASSES = {
    3001: "AccountChange",
    3002: "Authentication",
    3004: "EntityManagement",
    6001: "WebResourcesActivity",
    6003: "ApiActivity",
}


def without_nulls(v):
    """A document as written: Parquet gives every row every column, absent ones as null."""
    if isinstance(v, dict):
        return {k: without_nulls(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [without_nulls(x) for x in v]
    return v


def extras(model, path=""):
    """Attributes the schema does not define, anywhere in the document but `unmapped`."""
    from pydantic import BaseModel

    found = [f"{path}.{k}" for k in (model.model_extra or {})]
    for name in type(model).model_fields:
        if name == "unmapped":
            continue
        v = getattr(model, name)
        for i, item in enumerate(v if isinstance(v, list) else [v]):
            if isinstance(item, BaseModel):
                found += extras(item, f"{path}.{name}" + (f"[{i}]" if isinstance(v, list) else ""))
    return found


def ocsf(glob):
    import duckdb
    from ocsf.v1_1_0 import events, objects

    rows = duckdb.execute(f"SELECT to_json(t) FROM read_parquet('{glob}', union_by_name = true, hive_partitioning = false) t").fetchall()
    valid, errors = 0, []
    for (text,) in rows:
        doc = without_nulls(json.loads(text))
        model = getattr(events, OCSF_CLASSES.get(doc.get("class_uid"), "Authentication"))
        try:
            m = model.model_validate(doc)
        except Exception as e:
            errors.append(f"{doc.get('metadata', {}).get('uid')}: {e}")
            continue
        # pydantic-ocsf keeps the ids (it checks them against the class) and the attributes of
        # profiles as extras; `time` (timestamp_t: ms since the epoch) and `cloud` (the cloud
        # profile, named in metadata.profiles) are checked here.
        top = set(m.model_extra or {}) - {"category_uid", "class_uid", "type_uid", "time", "cloud"}
        unknown = [f".{k}" for k in top] + [e for e in extras(m) if e.count(".") > 1]
        if not isinstance(doc.get("time"), int):
            unknown.append(".time is not a timestamp_t")
        if "cloud" in doc:
            c = objects.Cloud.model_validate(doc["cloud"])
            unknown += extras(c, ".cloud")
            if "cloud" not in doc["metadata"].get("profiles", []):
                unknown.append(".metadata.profiles lacks cloud")
        if unknown:
            errors.append(f"{doc.get('metadata', {}).get('uid')}: not in OCSF 1.1: {unknown}")
        else:
            valid += 1
    print(json.dumps({"valid": valid, "errors": errors[:20]}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        serve(args)
    elif cmd == "list":
        list_objects(*args)
    elif cmd == "put":
        put(*args)
    elif cmd == "sql":
        sql(*args)
    elif cmd == "chdb":
        chdb_query()
    elif cmd == "ocsf":
        ocsf(*args)
    else:
        sys.exit(f"unknown command {cmd}")
