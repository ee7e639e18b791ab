#!/usr/bin/env bash
# The typed parse of this checkout against another commit's, side by side:
# both `models` benches (criterion, release) are built, then run in turn,
# ROUNDS times each, alternating, so that both see the same machine. For
# each benchmark the report gives the ratio of the medians (this checkout /
# the other: above 1 is slower) per round, with the median and min..max over
# the rounds. Then both `alloc` tables, and, for this checkout, the targets
# measured within one run: the typed parse against the hand-written tree
# with the same string type (`--bench models`) and verify against the
# `hmac` crate alone (`--bench receive`).
#
#   git worktree add /tmp/before HEAD~1 && BEFORE=/tmp/before bench/compare-commits.sh
#   ROUNDS=7 BEFORE=/tmp/before bench/compare-commits.sh
#
# Settings (environment): BEFORE (a checkout of the other commit; needed),
# ROUNDS (5), BEFORE_TARGET_DIR ($BEFORE/target), CARGO_TARGET_DIR.

set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need cargo python3
[[ -n ${BEFORE:-} && -f $BEFORE/Cargo.toml ]] || die "set BEFORE to a checkout of the commit to compare with"
ROUNDS=${ROUNDS:-5}
after_target=${CARGO_TARGET_DIR:-$REPO_ROOT/target}
before_target=${BEFORE_TARGET_DIR:-$BEFORE/target}

# The path of a bench binary built in release for checkout $1, target $2.
bench_binary() {
    CARGO_TARGET_DIR=$2 cargo bench --locked --quiet --manifest-path "$1/Cargo.toml" \
        -p icr-webhooks --bench "$3" --no-run --message-format=json 2>/dev/null |
        python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == sys.argv[1]:
        print(m["executable"])' "$3"
}

log "building the benches of $BEFORE and of $REPO_ROOT (release)"
before_models=$(bench_binary "$BEFORE" "$before_target" models)
after_models=$(bench_binary "$REPO_ROOT" "$after_target" models)
before_alloc=$(bench_binary "$BEFORE" "$before_target" alloc)
after_alloc=$(bench_binary "$REPO_ROOT" "$after_target" alloc)
after_receive=$(bench_binary "$REPO_ROOT" "$after_target" receive)

filter='^models/(typed|typed_borrowed|compact|cow|borrowed)/'
for round in $(seq "$ROUNDS"); do
    for side in before after; do
        log "round $round: $side"
        binary=before_models
        [[ $side == after ]] && binary=after_models
        CRITERION_HOME=$WORK/$side-$round "${!binary}" --bench --noplot "$filter" >/dev/null
    done
done
CRITERION_HOME=$WORK/receive "$after_receive" --bench --noplot '^verify/(hmac_verify|hmac_crate)/1KiB' >/dev/null

python3 - "$WORK" "$ROUNDS" <<'PY'
import json, pathlib, statistics, sys
work, rounds = pathlib.Path(sys.argv[1]), int(sys.argv[2])

def median(side, round, bench):
    path = work / f"{side}-{round}" / bench / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"]

def row(what, ratios):
    print(f"| {what} | {statistics.median(ratios):.3f}x | {min(ratios):.3f} | {max(ratios):.3f} |")

print("| this checkout / the other (time; < 1 is faster) | median | min | max |")
print("| --- | --- | --- | --- |")
for label, after_bench, before_bench in [
    ("owned parse, 4 KiB", "models/typed/4KiB", "models/typed/4KiB"),
    ("owned parse, 64 KiB", "models/typed/64KiB", "models/typed/64KiB"),
    ("borrowed parse, 4 KiB", "models/typed_borrowed/4KiB", "models/typed_borrowed/4KiB"),
    ("borrowed parse, 64 KiB", "models/typed_borrowed/64KiB", "models/typed_borrowed/64KiB"),
]:
    row(label, [median("after", r, after_bench) / median("before", r, before_bench) for r in range(1, rounds + 1)])
print()
print("| this checkout, in each round (speed; >= 1 is as fast) | median | min | max |")
print("| --- | --- | --- | --- |")
for label, fast, slow in [
    ("owned parse vs the CompactString tree, 4 KiB", "models/typed/4KiB", "models/compact/4KiB"),
    ("borrowed parse vs the Cow<str> tree, 4 KiB", "models/typed_borrowed/4KiB", "models/cow/4KiB"),
    ("borrowed parse vs the &str tree, 4 KiB", "models/typed_borrowed/4KiB", "models/borrowed/4KiB"),
    ("owned parse vs the CompactString tree, 64 KiB", "models/typed/64KiB", "models/compact/64KiB"),
    ("borrowed parse vs the Cow<str> tree, 64 KiB", "models/typed_borrowed/64KiB", "models/cow/64KiB"),
    ("borrowed parse vs the &str tree, 64 KiB", "models/typed_borrowed/64KiB", "models/borrowed/64KiB"),
]:
    row(label, [median("after", r, slow) / median("after", r, fast) for r in range(1, rounds + 1)])
hmac = json.loads((work / "receive/verify/hmac_crate/1KiB/new/sample.json").read_text())
verify = json.loads((work / "receive/verify/hmac_verify/1KiB/new/sample.json").read_text())
pairs = [(h / hn) / (v / vn) for h, hn, v, vn in zip(hmac["times"], hmac["iters"], verify["times"], verify["iters"])]
row("verify vs the hmac crate alone, 1 KiB (paired samples)", pairs)
PY

echo
echo "allocations, the other commit:"
"$before_alloc"
echo
echo "allocations, this checkout:"
"$after_alloc"
