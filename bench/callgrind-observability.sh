#!/usr/bin/env bash
# What observability costs a delivery, counted rather than timed: `listen`
# under valgrind's callgrind (with its cache simulation), off (no subscriber,
# no recorder) and on (`--log-format json` at RUST_LOG=info,
# `--metrics-addr`), each sent WARMUP deliveries, its counters zeroed, then
# COUNT more and its counters dumped. Prints, per delivery, the
# instructions, the L1 and last-level cache misses and an estimate of
# cycles (instructions + 10 per L1 miss + 100 per last-level miss, as
# cachegrind's documentation suggests), for each and their difference.
# Instruction counts repeat run to run whatever else the machine does;
# under valgrind the threads take turns and everything runs ~50x slower,
# so the per-delivery totals hold more idle-loop work than at full speed:
# read the difference, not the ratio.
#
#   bench/callgrind-observability.sh
#   COUNT=4000 bench/callgrind-observability.sh
#
# Settings (environment): COUNT (2000), WARMUP (300), SECRET, PAYLOAD,
# CARGO_TARGET_DIR. Needs cargo, valgrind (callgrind_control,
# callgrind_annotate) and python3.

set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COUNT=${COUNT:-2000}
WARMUP=${WARMUP:-300}
SECRET=${SECRET:-whsec_bench_Q7mN4rT8p3Xv2kLs9dE1}
PAYLOAD=${PAYLOAD:-$REPO_ROOT/sdk/benches/fixtures/credit_transfer_4k.json}
need cargo valgrind callgrind_control callgrind_annotate python3

log "building the harness (release)"
cargo build --release --locked --quiet --manifest-path "$REPO_ROOT/Cargo.toml" -p icr-webhooks-harness
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$REPO_ROOT/Cargo.toml" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
harness=$target/release/icr-webhooks

send() {
    "$harness" send --url "$SERVER_URL" --secret "$SECRET" --event credit_transfer \
        --payload "$PAYLOAD" --count "$1" --concurrency 64 >"$WORK/send.out" 2>&1 ||
        die "not every delivery was answered 2xx: $(cat "$WORK/send.out")"
}

# Counts one mode; appends "MODE Ir L1 LL" per delivery to $WORK/counts.
count() {
    local mode=$1 flags=(--addr 127.0.0.1:0 --store memory --no-history --secret "$SECRET")
    [[ $mode == on ]] && flags+=(--log-format json --metrics-addr 127.0.0.1:0)
    RUST_LOG=info start_server "$mode" valgrind --tool=callgrind --cache-sim=yes \
        --callgrind-out-file="$WORK/callgrind.$mode" "$harness" listen "${flags[@]}"
    send "$WARMUP"
    callgrind_control -z "$SERVER_PID" >"$WORK/control.out" 2>&1 ||
        die "callgrind_control -z: $(cat "$WORK/control.out")"
    send "$COUNT"
    callgrind_control -d "$SERVER_PID" >"$WORK/control.out" 2>&1 ||
        die "callgrind_control -d: $(cat "$WORK/control.out")"
    stop_server
    [[ -s $WORK/callgrind.$mode.1 ]] || die "callgrind wrote no dump for $mode"
    callgrind_annotate "$WORK/callgrind.$mode.1" >"$WORK/annotate.$mode" 2>&1 ||
        die "callgrind_annotate: $(head -n 5 "$WORK/annotate.$mode")"
    grep -q 'PROGRAM TOTALS' "$WORK/annotate.$mode" || die "no totals in callgrind's dump for $mode"
    grep -m1 'PROGRAM TOTALS' "$WORK/annotate.$mode" |
        python3 -c 'import sys
mode, count = sys.argv[1], int(sys.argv[2])
cells = [int(c.replace(",", "")) for c in sys.stdin.read().split() if c.replace(",", "").isdigit()]
# Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
print(mode, cells[0] / count, sum(cells[3:6]) / count, sum(cells[6:9]) / count)' "$mode" "$COUNT" >>"$WORK/counts"
}

log "$COUNT deliveries after $WARMUP of warm-up, each mode under callgrind"
count off
count on
python3 - "$WORK/counts" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    mode, ir, l1, ll = line.split()
    rows[mode] = (float(ir), float(l1), float(ll))
def estimate(ir, l1, ll):
    return ir + 10 * l1 + 100 * ll
print("| per delivery | off | on | on - off |")
print("| --- | --- | --- | --- |")
for name, pick in [("instructions", 0), ("L1 misses", 1), ("last-level misses", 2)]:
    off, on = rows["off"][pick], rows["on"][pick]
    print(f"| {name} | {off:,.1f} | {on:,.1f} | {on - off:+,.1f} |")
off, on = estimate(*rows["off"]), estimate(*rows["on"])
print(f"| estimated cycles | {off:,.0f} | {on:,.0f} | {on - off:+,.0f} |")
PY
