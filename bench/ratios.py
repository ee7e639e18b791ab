#!/usr/bin/env python3
"""Ratios of the SDK's criterion benchmarks, measured side by side in one run.

Run `cargo bench -p icr-webhooks --bench receive` first; this reads
target/criterion/*/*/*/new/sample.json and prints, for each target of the
performance issue, the median ratio and the min and max over the paired
samples (sample i of each benchmark has the same iteration count).
"""
import json
import pathlib
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"


def per_iter(group, function, value=None):
    path = ROOT / group / function
    if value is not None:
        path = path / value
    data = json.loads((path / "new" / "sample.json").read_text())
    return [t / n for t, n in zip(data["times"], data["iters"])]


def ratio(slow, fast):
    """How many times faster `fast` is than `slow`, per paired sample."""
    pairs = [s / f for s, f in zip(slow, fast)]
    return statistics.median(slow) / statistics.median(fast), min(pairs), max(pairs)


ROWS = [
    # (what, target, slow benchmark, fast benchmark); "x faster" = slow / fast.
    ("verify vs plain SHA-256, 1 KiB", 0.90, ("verify", "hmac_verify", "1KiB"), ("verify", "sha256", "1KiB"), True),
    ("verify vs the hmac crate alone (no header), 1 KiB", None, ("verify", "hmac_verify", "1KiB"), ("verify", "hmac_crate", "1KiB"), True),
    ("hmac crate alone vs plain SHA-256, 1 KiB", None, ("verify", "hmac_crate", "1KiB"), ("verify", "sha256", "1KiB"), True),
    ("verify vs plain SHA-256, 16 KiB", 0.95, ("verify", "hmac_verify", "16KiB"), ("verify", "sha256", "16KiB"), True),
    ("verify vs plain SHA-256, 1 MiB", 0.95, ("verify", "hmac_verify", "1MiB"), ("verify", "sha256", "1MiB"), True),
    ("verify vs plain SHA-256, 25 MiB", 0.95, ("verify", "hmac_verify", "25MiB"), ("verify", "sha256", "25MiB"), True),
    ("typed parse vs serde_json::Value, 4 KiB", 2.5, ("parse", "value", "4KiB"), ("parse", "typed", "4KiB"), False),
    ("typed parse vs serde_json::Value, 64 KiB", 2.5, ("parse", "value", "64KiB"), ("parse", "typed", "64KiB"), False),
    ("borrowed typed parse vs serde_json::Value, 4 KiB", 2.5, ("parse", "value", "4KiB"), ("parse", "borrowed", "4KiB"), False),
    ("borrowed typed parse vs serde_json::Value, 64 KiB", 2.5, ("parse", "value", "64KiB"), ("parse", "borrowed", "64KiB"), False),
    ("receive (verify + typed) vs verify + Value, 4 KiB", None, ("receive", "verify_then_value", "4KiB"), ("receive", "receive", "4KiB"), False),
    ("receive (verify + typed) vs verify + Value, 64 KiB", None, ("receive", "verify_then_value", "64KiB"), ("receive", "receive", "64KiB"), False),
    ("25 MiB: MAC and parse on two cores vs in order", 1.3, ("large", "sequential", "25MiB"), ("large", "parallel", "25MiB"), False),
]

# The string type of the model, from `cargo bench -p icr-webhooks --bench
# models`: each hand-written tree vs `serde_json::Value` on the same bytes.
MODELS = [
    ("typed", "the SDK's typed parse, owned"),
    ("typed_borrowed", "the SDK's typed parse, borrowed"),
    ("compact", "same tree, CompactString (shipped)"),
    ("string", "same tree, String (typify's)"),
    ("cow", "same tree, borrowed Cow<str>"),
    ("borrowed", "same tree, &str (no escapes)"),
    ("ignored", "IgnoredAny: tokenizer alone"),
]
for _size, _label in (("4KiB", "4 KiB"), ("64KiB", "64 KiB")):
    for _model, _what in MODELS:
        ROWS.append((f"models, {_label}: {_what}", None, ("models", "value", _size), ("models", _model, _size), False))


def main():
    print(f"{'target':55} {'goal':>6} {'median':>7} {'min':>6} {'max':>6}")
    failed = 0
    for what, goal, slow, fast, inverted in ROWS:
        try:
            a, b = per_iter(*slow), per_iter(*fast)
        except FileNotFoundError:
            bench = "models" if slow[0] == "models" else "receive"
            print(f"{what:55} (not measured: run cargo bench -p icr-webhooks --bench {bench})")
            continue
        # For verify the SDK is the slow side: report SDK speed / floor speed.
        med, lo, hi = ratio(a, b)
        if inverted:
            med, lo, hi = 1 / med, 1 / hi, 1 / lo
        mark = "" if goal is None else ("ok" if med >= goal else "MISS")
        failed += mark == "MISS"
        goal_text = "-" if goal is None else f">={goal:g}"
        print(f"{what:55} {goal_text:>6} {med:6.2f}x {lo:5.2f}x {hi:5.2f}x {mark}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
