#!/usr/bin/env python3
"""Regenerates uap-core-regexes.json from uap-core's regexes.yaml.

Usage: uap-to-json.py path/to/uap-core/regexes.yaml > uap-core-regexes.json

uap-core (https://github.com/ua-parser/uap-core, Apache-2.0) also ships inside the `uap-core`
npm package and the `ua-parser` crate's source package. Only the keys that Elasticsearch's
user_agent processor reads are kept; the order of the parsers is significant and preserved.
"""
import json
import sys

import yaml

KEEP = {
    "user_agent_parsers": ["regex", "regex_flag", "family_replacement", "v1_replacement",
                           "v2_replacement", "v3_replacement", "v4_replacement"],
    "os_parsers": ["regex", "regex_flag", "os_replacement", "os_v1_replacement",
                   "os_v2_replacement", "os_v3_replacement", "os_v4_replacement"],
    "device_parsers": ["regex", "regex_flag", "device_replacement"],
}

with open(sys.argv[1], encoding="utf-8") as f:
    doc = yaml.safe_load(f)
out = {}
for section, keys in KEEP.items():
    out[section] = [{k: str(p[k]) for k in keys if k in p and p[k] is not None}
                    for p in doc[section]]
json.dump(out, sys.stdout, ensure_ascii=False, separators=(",", ":"))
sys.stdout.write("\n")
