#!/usr/bin/env python3
"""Validates X-ARF v4 reports (JSON files, or stdin) against the vendored schemas in
data/xarf/ with python3-jsonschema (Debian), formats checked. Exit 0 when all are valid;
prints the first error of each invalid report and exits 1. Never fetches a schema."""
import json
import pathlib
import sys

import jsonschema

HERE = pathlib.Path(__file__).resolve().parent / "data" / "xarf"
TYPES = {
    "port_scan": "types/connection-port-scan.json",
    "login_attack": "types/connection-login-attack.json",
}


def load(rel):
    return json.loads((HERE / rel).read_text())


def validator_for(report):
    rel = TYPES.get(report.get("type"), "xarf-core.json")
    schema = load(rel)
    store = {}
    for p in ["xarf-core.json", *TYPES.values()]:
        s = load(p)
        store[s["$id"]] = s
    cls = jsonschema.Draft202012Validator
    checker = cls.FORMAT_CHECKER
    try:
        from referencing import Registry, Resource  # jsonschema >= 4.18

        registry = Registry().with_resources(
            [(uri, Resource.from_contents(s)) for uri, s in store.items()]
        )
        return cls(schema, registry=registry, format_checker=checker)
    except ImportError:  # Debian 12's 4.10
        resolver = jsonschema.RefResolver(schema["$id"], schema, store=store)
        return cls(schema, resolver=resolver, format_checker=checker)


def main():
    texts = [pathlib.Path(a).read_text() for a in sys.argv[1:]] or [sys.stdin.read()]
    bad = 0
    for t in texts:
        report = json.loads(t)
        errors = sorted(validator_for(report).iter_errors(report), key=lambda e: list(e.path))
        if errors:
            bad += 1
            e = errors[0]
            print(f"invalid: {'/'.join(map(str, e.path))}: {e.message}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
