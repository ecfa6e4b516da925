"""A second opinion on the built-in rules: pySigma's DuckDB backend over the archive's NDJSON.

Run by crates/sfevents/tests/sigma_tools.rs with the Python of the venv scripts/test installs
(pySigma 1.5.1, pysigma-backend-duckdb 0.1.4, duckdb):

    python duckdb_oracle.py --archive DIR --rules DIR [--rules DIR]... --out FILE.json

Every Sigma document of the rule folders ends up in FILE.json as one entry:
  - "excluded": not a single-event detection rule (a correlation, a rule used only by a
    correlation, a rule with the sfevents.new_value or sfevents.baseline extension);
  - "skipped": the backend refuses it or converts it lossily (keywords, cidr, regex flags,
    numeric modifiers over string columns, a field DuckDB would resolve by another case);
  - "compared": converted, run, and the archive event ids it selects are in "ids".

The archive as DuckDB sees it: each dataset (events/<dataset>/, the rules' logsource service)
is read with every record's `fields` flattened into columns, one nested level too
(`CreatedBy.Username`, the dotted name the backend quotes), plus `org_id`, `id` (the archive's
event id) and `dataset`. JSON strings stay VARCHAR (every EventLogFile value is a string),
numbers DOUBLE, booleans BOOLEAN: what the record holds, not what a reader guesses from it.
A rule's query runs over its own dataset's view (DuckDB identifiers ignore case, so one view
of all datasets would merge ELF's `QUERY` with ApiEvent's `Query`, and mix their types), with
`dataset = '<service>'` added for the logsource, which the backend ignores. Under a negation
(`not blocked`), a field some records lack reads as a text no rule value equals: Sigma holds
`not blocked` true for such a record, while SQL's NOT of a NULL comparison is unknown.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from importlib import metadata

import duckdb
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import (
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaNull,
    SigmaRegularExpression,
)
from sigma_backend_duckdb import DuckDBBackend

# Extensions sfevents evaluates beside the rule's detection: the detection alone is not what
# the rule alerts on.
EXTENSIONS = ("sfevents.new_value", "sfevents.baseline")
# Columns the view adds to every record; a record field of the same name (any case: `Id`)
# cannot be a column of its own in DuckDB.
ADDED = ("id", "org_id", "dataset")
# What an absent field reads as under a negation (see Archive.absent_is_not_null).
ABSENT = "\u0000absent"


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def ident(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def detection_items(rule: SigmaRule):
    def walk(d):
        for item in d.detection_items:
            if isinstance(item, SigmaDetection):
                yield from walk(item)
            elif isinstance(item, SigmaDetectionItem):
                yield item

    for d in rule.detection.detections.values():
        yield from walk(d)


def lossy(rule: SigmaRule) -> str | None:
    """Why the backend's conversion of `rule` would not mean what the rule means, if it would not."""
    for item in detection_items(rule):
        if item.field is None:
            return "keywords: the backend refuses value-only (full text) matches"
        for v in item.value:
            if isinstance(v, SigmaCIDRExpression):
                return f"{item.field}|cidr: the backend matches a string prefix, not an address range"
            if isinstance(v, SigmaRegularExpression) and v.flags:
                return f"{item.field}|re with flags: the backend drops the flags"
    return None


def negated_fields(rule: SigmaRule) -> set[str]:
    """Fields compared with a value inside a detection the condition negates (`not blocked`)."""
    names = set()
    for cond in rule.detection.condition:
        words = cond.replace("(", " ").replace(")", " ").split()
        names.update(b for a, b in zip(words, words[1:]) if a == "not")
    out = set()
    for name in names & set(rule.detection.detections):
        def walk(d):
            for item in d.detection_items:
                if isinstance(item, SigmaDetection):
                    yield from walk(item)
                elif isinstance(item, SigmaDetectionItem):
                    yield item
        items = list(walk(rule.detection.detections[name]))
        # IS [NOT] NULL (null, exists) is two-valued in SQL too; a field the same negated
        # detection also tests for null (`- F: ''` / `- F: null`) is decided by that test.
        nulls = {i.field for i in items if any(isinstance(v, (SigmaNull, SigmaExists)) for v in i.value)}
        for item in items:
            if item.field is not None and item.field not in nulls and any(
                not isinstance(v, (SigmaNull, SigmaExists)) for v in item.value
            ):
                out.add(item.field)
    return out


def null_checked(rule: SigmaRule) -> set[str]:
    """Fields the rule tests for null or presence (`field: null`, `field|exists`), where a NULL
    column must stay NULL."""
    return {
        i.field
        for i in detection_items(rule)
        if i.field is not None and any(isinstance(v, (SigmaNull, SigmaExists)) for v in i.value)
    }


def rule_fields(rule: SigmaRule) -> set[str]:
    return {i.field for i in detection_items(rule) if i.field is not None}


def numeric_fields(rule: SigmaRule) -> set[str]:
    return {
        i.field
        for i in detection_items(rule)
        if i.field is not None and any(isinstance(v, SigmaCompareExpression) for v in i.value)
    }


class Archive:
    """One DuckDB view per dataset of the archive, records flattened."""

    def __init__(self, root: pathlib.Path):
        self.con = duckdb.connect()
        self.columns: dict[str, dict[str, str]] = {}  # dataset -> column -> DuckDB type
        self.rows: dict[str, int] = {}
        events = root / "events"
        for d in sorted(p for p in events.iterdir() if p.is_dir() and p.name != "alert"):
            self._load(d.name, d)

    def _load(self, dataset: str, folder: pathlib.Path):
        # Plain and zstd event files (the default form): DuckDB decompresses `.zst` by its
        # extension, so this reads sfevents' frames and skips its index frame on its own.
        files = sorted(
            str(p)
            for pattern in ("*/*.ndjson", "*/*.ndjson.zst")
            for p in folder.glob(pattern)
            if not p.name.startswith(".")
        )
        listed = "[" + ", ".join(sql_str(f) for f in files) + "]"
        raw = f"raw_{len(self.columns)}"
        self.con.execute(
            f"CREATE TABLE {raw} AS SELECT id, org_id, fields FROM read_json({listed},"
            " format='newline_delimited',"
            " columns={'id': 'VARCHAR', 'org_id': 'VARCHAR', 'fields': 'JSON'})"
        )
        # (key, JSON type) of every record's fields, and one level into nested objects.
        kinds = self.con.execute(
            f"SELECT k, json_type(fields, '$.\"' || k || '\"') AS t FROM"
            f" (SELECT fields, unnest(json_keys(fields)) AS k FROM {raw}) GROUP BY ALL"
        ).fetchall()
        nested = self.con.execute(
            f"SELECT k, s, json_type(fields, '$.\"' || k || '\".\"' || s || '\"') FROM"
            f" (SELECT fields, k, unnest(json_keys(fields, '$.\"' || k || '\"')) AS s FROM"
            f"  (SELECT fields, unnest(json_keys(fields)) AS k FROM {raw})"
            f"  WHERE json_type(fields, '$.\"' || k || '\"') = 'OBJECT') GROUP BY ALL"
        ).fetchall()
        types: dict[str, set[str]] = {}
        paths: dict[str, str] = {}
        for k, t in kinds:
            types.setdefault(k, set()).add(t)
            paths[k] = "$." + json.dumps(k)
        for k, s, t in nested:
            name = f"{k}.{s}"
            types.setdefault(name, set()).add(t)
            paths.setdefault(name, "$." + json.dumps(k) + "." + json.dumps(s))
        select = ["id", "org_id", f"{sql_str(dataset)} AS dataset"]
        cols = {"id": "VARCHAR", "org_id": "VARCHAR", "dataset": "VARCHAR"}
        seen = {c.lower(): c for c in cols}
        for name in sorted(types):
            kinds_of = types[name] - {"NULL"}
            if kinds_of == {"OBJECT"} or kinds_of == {"ARRAY"}:
                continue  # its nested keys are columns of their own
            if name.lower() in seen:
                if name.lower() in ADDED:
                    continue  # the archive's own id wins, as `id` does for the rules
                raise SystemExit(
                    f"{dataset}: fields {seen[name.lower()]!r} and {name!r} differ only in case:"
                    " DuckDB cannot hold both"
                )
            seen[name.lower()] = name
            path = sql_str(paths[name])
            if kinds_of and kinds_of <= {"BIGINT", "UBIGINT", "DOUBLE"}:
                expr, typ = f"CAST(json_extract(fields, {path}) AS DOUBLE)", "DOUBLE"
            elif kinds_of == {"BOOLEAN"}:
                expr, typ = f"CAST(json_extract(fields, {path}) AS BOOLEAN)", "BOOLEAN"
            else:
                expr, typ = f"json_extract_string(fields, {path})", "VARCHAR"
            select.append(f"{expr} AS {ident(name)}")
            cols[name] = typ
        self.con.execute(
            f"CREATE VIEW {ident('ds_' + dataset)} AS SELECT {', '.join(select)} FROM {raw}"
        )
        self.columns[dataset] = cols
        self.rows[dataset] = self.con.execute(f"SELECT count(*) FROM {raw}").fetchone()[0]

    def logs_for(self, dataset: str, fields: set[str]) -> str | None:
        """Points `logs` at the dataset's view; a field no record of it has is a NULL column
        (as in any flattened table). Returns why not when DuckDB would read another field."""
        cols = self.columns.get(dataset, {"id": "VARCHAR", "org_id": "VARCHAR", "dataset": "VARCHAR"})
        by_lower = {c.lower(): c for c in cols}
        extra = []
        for f in sorted(fields):
            if f in cols:
                continue
            other = by_lower.get(f.lower())
            if other is not None:
                return f"field {f!r}: DuckDB would read column {other!r} (identifiers ignore case)"
            extra.append(f"NULL AS {ident(f)}")
            by_lower[f.lower()] = f
        if dataset in self.columns:
            base = f"SELECT *{''.join(', ' + e for e in extra)} FROM {ident('ds_' + dataset)}"
        else:
            nulls = ", ".join(
                ["NULL::VARCHAR AS id", "NULL::VARCHAR AS org_id", "NULL::VARCHAR AS dataset"] + extra
            )
            base = f"SELECT {nulls} WHERE false"
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW logs AS {base}")
        return None


    def absent_is_not_null(self, dataset: str, negated: set[str], null_checked: set[str]) -> str | None:
        """Sigma: `not blocked` holds for a record without the field; SQL: NOT (NULL = 'Block') is
        NULL, and the backend's query would drop the record. So, for the fields a negated
        detection compares with a value, `logs` shows an absent value as a text no rule value
        equals (the rule never tests those fields for null). Returns why not when it cannot."""
        cols = self.columns.get(dataset, {})
        fix = []
        for f in sorted(negated):
            if not self.con.execute(f"SELECT count(*) FROM logs WHERE {ident(f)} IS NULL").fetchone()[0]:
                continue
            if f in null_checked or cols.get(f, "VARCHAR") != "VARCHAR":
                return f"not over {f}, which some records lack and the rule also tests for null or as a number"
            fix.append(f"COALESCE({ident(f)}, {sql_str(ABSENT)}) AS {ident(f)}")
        if fix:
            # Materialised: `logs` cannot be defined over itself.
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE logs_absent AS SELECT * REPLACE ({', '.join(fix)}) FROM logs")
            self.con.execute("CREATE OR REPLACE TEMP VIEW logs AS SELECT * FROM logs_absent")
        return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--archive", required=True, type=pathlib.Path)
    ap.add_argument("--rules", required=True, action="append", type=pathlib.Path)
    ap.add_argument("--out", required=True, type=pathlib.Path)
    a = ap.parse_args()

    files = sorted(str(p) for d in a.rules for p in d.glob("*.yml"))
    collection = SigmaCollection.load_ruleset(files)
    errors = [f"{r.source}: {e}" for r in collection.rules for e in r.errors]
    if errors:
        raise SystemExit("pySigma cannot load the rules:\n" + "\n".join(errors))

    # Rules a correlation uses without `generate: true` raise no alert of their own.
    used_only_by_correlation = set()
    for r in collection.rules:
        if isinstance(r, SigmaCorrelationRule) and not r.generate:
            for ref in r.rules:
                used_only_by_correlation.add(str(ref.reference))

    archive = Archive(a.archive)
    backend = DuckDBBackend()
    out = []
    for r in collection.rules:
        entry = {
            "name": r.name,
            "id": str(r.id),
            "file": pathlib.Path(str(r.source.path)).name if r.source and r.source.path else None,
        }
        out.append(entry)
        if isinstance(r, SigmaCorrelationRule):
            entry.update(status="excluded", reason="a correlation")
            continue
        service = r.logsource.service
        entry["service"] = service
        ext = [k for k in EXTENSIONS if k in r.custom_attributes]
        if ext:
            entry.update(status="excluded", reason=f"{ext[0]}: alerts on more than its detection")
            continue
        if r.name in used_only_by_correlation or str(r.id) in used_only_by_correlation:
            entry.update(status="excluded", reason="used only by a correlation")
            continue
        why = lossy(r)
        if why:
            entry.update(status="skipped", reason=why)
            continue
        try:
            queries = backend.convert_rule(r)
        except Exception as e:  # the backend refuses the rule
            entry.update(status="skipped", reason=f"{type(e).__name__}: {e}")
            continue
        if len(queries) != 1:
            entry.update(status="skipped", reason=f"the backend gave {len(queries)} queries")
            continue
        why = archive.logs_for(service, rule_fields(r))
        if why:
            entry.update(status="skipped", reason=why)
            continue
        why = archive.absent_is_not_null(service, negated_fields(r), null_checked(r))
        if why:
            entry.update(status="skipped", reason=why)
            continue
        query = f"SELECT id FROM ({queries[0]}) AS rule WHERE dataset = {sql_str(service)}"
        entry["query"] = query
        try:
            ids = sorted(row[0] for row in archive.con.execute(query).fetchall())
        except duckdb.BinderException as e:
            text = str(e)
            if "Cannot compare values of type VARCHAR" in text and numeric_fields(r):
                entry.update(
                    status="skipped",
                    reason="numeric modifiers over string fields: the backend emits no cast ("
                    + text.splitlines()[0]
                    + ")",
                )
                continue
            raise
        entry.update(status="compared", ids=ids)

    a.out.write_text(
        json.dumps(
            {
                "versions": {
                    p: metadata.version(p)
                    for p in ("pySigma", "pysigma-backend-duckdb", "duckdb", "sigma-cli")
                },
                "datasets": archive.rows,
                "rules": out,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
