"""`sigma check` (sigma-cli), saying which rules it checked.

    python sigma_check.py NAMES.json check [OPTIONS] PATH...

Runs sigma-cli's own entry point (what the `sigma` executable runs) with the arguments after
NAMES.json, and writes to NAMES.json the name (else the title) of every rule that reached the
validators: sigma-cli prints no count, and a document pySigma did not take for a rule would
otherwise go unnoticed.
"""

import json
import sys

import sigma.cli.check as check
from sigma.cli.main import main

names_file = sys.argv[1]
load_and_check_rules = check.load_and_check_rules


def observed(*args, **kwargs):
    rules = load_and_check_rules(*args, **kwargs)
    with open(names_file, "w") as f:
        json.dump([r.name or r.title for r in rules], f)
    return rules


check.load_and_check_rules = observed
sys.argv = ["sigma"] + sys.argv[2:]
sys.exit(main())
