#!/usr/bin/env python3
"""A plain Python EventLogFile collector, the kind of nightly script admins run today.

It is the baseline of bench/cpu.sh: it does the same job as `sfevents collect` for EventLogFile
(raw CSV copy plus NDJSON, one JSON object per row with a few provenance fields), written the
way such scripts are usually written, with the standard library and `requests`:

  1. OAuth username-password grant (client id/secret, username, password + security token);
  2. one SOQL query on EventLogFile, following nextRecordsUrl;
  3. for each file: GET .../sobjects/EventLogFile/<Id>/LogFile with `stream=True` and the
     default headers (so the body comes gzip-compressed, as for any requests user) and
     `iter_content()` into <out>/<EventType>/<day>/<Id>.csv, then a size check against
     LogFileLength;
  4. the saved CSV read back with `csv.DictReader` and written with `json.dumps` per row to
     <Id>.ndjson next to it.

Nothing is slowed down on purpose, and nothing is tuned beyond what such a script would do
(1 MiB download chunks, buffered file writes). Like most such scripts, and unlike sfevents, it
keeps no state between runs, does not fsync, and computes no event ids.

  python_collector.py --credentials SFSIM_OUT/credentials.json --out DIR \
      [--event-type ApiTotalUsage] [--interval Daily] [--days 7] [--api-version 64.0]

The credentials file is the `credentials.json` that `sfsim serve --out DIR` writes (keys
login_url, client_id, client_secret, username, password, security_token). On success it prints
one line: `N files, R rows, B bytes`.
"""

import argparse
import csv
import json
import os
import sys

try:
    import requests
except ImportError:
    sys.exit("python_collector.py needs requests: apt-get install python3-requests "
             "(or pip install requests)")


def login(creds):
    """OAuth 2.0 username-password flow; returns (instance_url, session with the bearer token)."""
    r = requests.post(
        creds["login_url"].rstrip("/") + "/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "username": creds["username"],
            "password": creds["password"] + creds["security_token"],
        },
        timeout=60,
    )
    r.raise_for_status()
    tok = r.json()
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + tok["access_token"]
    return tok["instance_url"].rstrip("/"), session


def query_all(session, instance_url, api, soql):
    """Every record of a SOQL query, following nextRecordsUrl."""
    r = session.get(f"{instance_url}/services/data/v{api}/query", params={"q": soql}, timeout=600)
    r.raise_for_status()
    page = r.json()
    records = list(page["records"])
    while not page.get("done", True):
        r = session.get(instance_url + page["nextRecordsUrl"], timeout=600)
        r.raise_for_status()
        page = r.json()
        records.extend(page["records"])
    return records


def download(session, url, path):
    """Streams the LogFile body (gzip decoded by requests/urllib3) into `path`; returns bytes."""
    tmp = path + ".part"
    n = 0
    with session.get(url, stream=True, timeout=600) as r:
        r.raise_for_status()
        with open(tmp, "wb") as f:
            for chunk in r.iter_content(chunk_size=1024 * 1024):
                f.write(chunk)
                n += len(chunk)
    os.replace(tmp, path)
    return n


def to_ndjson(csv_path, ndjson_path, provenance):
    """One JSON object per CSV row: the provenance fields, then the row's columns under
    `fields`. Returns the number of rows."""
    rows = 0
    tmp = ndjson_path + ".part"
    # newline="" so that quoted fields with embedded newlines survive (csv module docs).
    with open(csv_path, newline="", encoding="utf-8") as src, \
            open(tmp, "w", encoding="utf-8") as out:
        for row in csv.DictReader(src):
            rows += 1
            event = {
                "@timestamp": row.get("TIMESTAMP_DERIVED") or provenance["log_date"],
                **provenance,
                "row": rows,
                "fields": row,
            }
            out.write(json.dumps(event) + "\n")
    os.replace(tmp, ndjson_path)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--credentials", required=True, help="sfsim's credentials.json")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--event-type", default="ApiTotalUsage")
    ap.add_argument("--interval", default="Daily", choices=["Daily", "Hourly"])
    ap.add_argument("--days", type=int, default=7, help="LogDate = LAST_N_DAYS:n")
    ap.add_argument("--api-version", default="64.0")
    args = ap.parse_args()

    with open(args.credentials) as f:
        creds = json.load(f)
    instance_url, session = login(creds)

    soql = (
        "SELECT Id, EventType, LogDate, LogFileLength, LogFile FROM EventLogFile "
        f"WHERE EventType = '{args.event_type}' AND Interval = '{args.interval}' "
        f"AND LogDate = LAST_N_DAYS:{args.days} ORDER BY LogDate"
    )
    files = rows = nbytes = 0
    for rec in query_all(session, instance_url, args.api_version, soql):
        day = rec["LogDate"][:10]
        folder = os.path.join(args.out, rec["EventType"], day)
        os.makedirs(folder, exist_ok=True)
        csv_path = os.path.join(folder, rec["Id"] + ".csv")
        # rec["LogFile"] is the blob's relative URL: /services/data/vXX.0/sobjects/EventLogFile/<Id>/LogFile
        size = download(session, instance_url + rec["LogFile"], csv_path)
        if size != int(rec["LogFileLength"]):
            sys.exit(f"{rec['Id']}: got {size} bytes, LogFileLength is {rec['LogFileLength']}")
        provenance = {
            "source": "EventLogFile",
            "event_type": rec["EventType"],
            "file_id": rec["Id"],
            "log_date": rec["LogDate"],
        }
        rows += to_ndjson(csv_path, os.path.join(folder, rec["Id"] + ".ndjson"), provenance)
        files += 1
        nbytes += size
    print(f"{files} files, {rows} rows, {nbytes} bytes")


if __name__ == "__main__":
    main()
