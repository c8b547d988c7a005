#!/usr/bin/env python3
"""Writes a synthetic rules file of N rules, for start-up benchmarks at other
rule counts (scripts/bench.sh startup-rules; build with LEAKSCAN_RULES=FILE).

    scripts/synth_rules.py N OUT [RULES]   (RULES: default rules.toml)

N <= the rule count: the first N rules. N above it: every rule, then copies
with new ids (`ID-synK`) whose keywords get a two-letter suffix, so the
keyword index and its automaton grow the way new rules make them grow.
"""
import json
import sys
import tomllib


def value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    return json.dumps(v)  # strings (JSON escapes are TOML escapes), numbers


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    src = sys.argv[3] if len(sys.argv) > 3 else "rules.toml"
    with open(src, "rb") as f:
        rules = tomllib.load(f)["rules"]
    picked = rules[:n]
    k = 0
    while len(picked) < n:
        r = dict(rules[k % len(rules)])
        copy = k // len(rules) + 1
        suffix = "".join(chr(ord("a") + (x % 26)) for x in (k * 7 + copy, k * 13 + copy * 3))
        r["id"] = f"{r['id']}-syn{copy}"
        r["keywords"] = [kw + suffix for kw in r.get("keywords", [])]
        picked.append(r)
        k += 1
    with open(out, "w") as f:
        f.write("version = 1\n")
        for r in picked:
            f.write("\n[[rules]]\n")
            for key, v in r.items():
                f.write(f"{key} = {value(v)}\n")


if __name__ == "__main__":
    main()
