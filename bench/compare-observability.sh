#!/usr/bin/env bash
# The cost of observability on the receive path: `icr-webhooks listen` with
# tracing on (`--log-format json`, RUST_LOG=info) and metrics on
# (`--metrics-addr`, the Prometheus recorder) against the same binary with
# both off (no subscriber, no recorder installed), fed by the harness
# sender (the 4 KiB credit_transfer, 64 in flight) on this machine's cores.
# The two take turns, ROUNDS times, the order swapped every round; each
# run starts a fresh server (`--store memory`), warms it up, times COUNT
# deliveries and stops it. The report gives deliveries/s of each, per round
# and their median (min..max), and the ratio on / off per round with its
# median and min..max; and the server's CPU per delivery over the timed
# load (from /proc), the steadier figure on a busy machine. After each run
# with metrics on, a scrape checks that every delivery was counted.
#
#   bench/compare-observability.sh
#   ROUNDS=7 COUNT=40000 bench/compare-observability.sh
#
# Settings (environment): ROUNDS (5), COUNT (20000), WARMUP (2000),
# CONCURRENCY (64), HISTORY (--no-history), SECRET, PAYLOAD, CARGO_TARGET_DIR.
# Needs cargo, python3 and Linux. Only loopback is used.

set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${ROUNDS:-5}
COUNT=${COUNT:-20000}
WARMUP=${WARMUP:-2000}
CONCURRENCY=${CONCURRENCY:-64}
# `--no-history` by default: listen's history analyzes every request (and
# skips some when its writer falls behind), work that is not the SDK's and
# varies from run to run. HISTORY= measures with the history on.
HISTORY=${HISTORY---no-history}
SECRET=${SECRET:-whsec_bench_Q7mN4rT8p3Xv2kLs9dE1}
PAYLOAD=${PAYLOAD:-$REPO_ROOT/sdk/benches/fixtures/credit_transfer_4k.json}
need cargo python3
started=$SECONDS

log "building the harness (release)"
cargo build --release --locked --quiet --manifest-path "$REPO_ROOT/Cargo.toml" -p icr-webhooks-harness
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$REPO_ROOT/Cargo.toml" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
harness=$target/release/icr-webhooks
results=$WORK/results.txt
: >"$results"
out=$WORK/load.out

TCK=$(getconf CLK_TCK)

# CPU clock ticks (all threads) of process $1.
cpu_ticks() {
    local stat fields
    read -r stat <"/proc/$1/stat"
    stat=${stat##*) }
    read -r -a fields <<<"$stat"
    echo $((fields[11] + fields[12]))
}

# Sends $1 deliveries to the server started last; THROUGHPUT is what the
# sender measured. Every one must be answered 2xx.
load() {
    "$harness" send --url "$SERVER_URL" --secret "$SECRET" --event credit_transfer \
        --payload "$PAYLOAD" --count "$1" --concurrency "$CONCURRENCY" >"$out" 2>&1 ||
        die "not every delivery was answered 2xx: $(cat "$out")"
    THROUGHPUT=$(sed -n 's/.*throughput \([0-9.]*\).*/\1/p' "$out" | head -n 1)
    [[ -n $THROUGHPUT ]] || die "cannot read the sender's output: $(cat "$out")"
}

# The sum of icr_webhooks_deliveries_total at the metrics address in $1's log.
scraped() {
    local url
    url=$(sed -n 's|^metrics on \(http://[^ ]*\)|\1|p' "$WORK/$1.log" | head -n 1)
    python3 -c 'import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
print(sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith("icr_webhooks_deliveries_total{")))' "$url"
}

run() {
    local mode=$1
    case $mode in
        off) start_server off "$harness" listen --addr 127.0.0.1:0 --store memory $HISTORY --secret "$SECRET" ;;
        on) RUST_LOG=info start_server on "$harness" listen --addr 127.0.0.1:0 --store memory $HISTORY \
            --secret "$SECRET" --log-format json --metrics-addr 127.0.0.1:0 ;;
    esac
    load "$WARMUP"
    local ticks0
    ticks0=$(cpu_ticks "$SERVER_PID")
    load "$COUNT"
    CPU_US=$(python3 -c "print(round(($(cpu_ticks "$SERVER_PID") - $ticks0) / $TCK * 1e6 / $COUNT, 1))")
    if [[ $mode == on ]]; then
        local counted
        counted=$(scraped on)
        [[ ${counted%.*} == $((WARMUP + COUNT)) ]] ||
            die "the metrics counted $counted deliveries, not $((WARMUP + COUNT))"
    fi
    stop_server
    # listen's history analyzes each request unless its writer falls behind
    # (then it counts those it skipped): work that varies from run to run.
    local skipped
    skipped=$(sed -n 's/^history: \([0-9]*\) requests not recorded.*/\1/p' "$WORK/$mode.log" | tail -n 1)
    printf '%s %s %s %s\n' "$round" "$mode" "$THROUGHPUT" "$CPU_US" >>"$results"
    log "  round $round/$ROUNDS $mode: $THROUGHPUT deliveries/s, server CPU $CPU_US µs/delivery, history skipped ${skipped:-0}"
}

log "$ROUNDS rounds; $COUNT deliveries per run after $WARMUP of warm-up, $CONCURRENCY in flight; $(basename "$PAYLOAD"); $(nproc) cores"
for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2)); then run off && run on; else run on && run off; fi
done

python3 - "$results" <<'PY'
import statistics, sys
runs, cpu = {}, {}
for line in open(sys.argv[1]):
    round_, mode, rate, us = line.split()
    runs.setdefault(int(round_), {})[mode] = float(rate)
    cpu.setdefault(int(round_), {})[mode] = float(us)
def spread(values):
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}..{max(values):,.0f})"
off = [r["off"] for r in runs.values()]
on = [r["on"] for r in runs.values()]
ratios = [r["on"] / r["off"] for r in runs.values()]
print("| round | off deliveries/s | on deliveries/s | on / off |")
print("| --- | --- | --- | --- |")
for n, r in sorted(runs.items()):
    print(f"| {n} | {r['off']:,.0f} | {r['on']:,.0f} | {r['on'] / r['off']:.3f} |")
print(f"| median (min..max) | {spread(off)} | {spread(on)} | "
      f"{statistics.median(ratios):.3f} ({min(ratios):.3f}..{max(ratios):.3f}) |")
cpu_off = [r["off"] for r in cpu.values()]
cpu_on = [r["on"] for r in cpu.values()]
cpu_ratios = [r["off"] / r["on"] for r in cpu.values()]
print(f"| server CPU µs/delivery, median (min..max) | {statistics.median(cpu_off):.1f} ({min(cpu_off):.1f}..{max(cpu_off):.1f}) | "
      f"{statistics.median(cpu_on):.1f} ({min(cpu_on):.1f}..{max(cpu_on):.1f}) | off / on "
      f"{statistics.median(cpu_ratios):.3f} ({min(cpu_ratios):.3f}..{max(cpu_ratios):.3f}) |")
print()
verdict = "met" if statistics.median(ratios) >= 0.95 else "not met"
print(f"on / off, median of the rounds: {statistics.median(ratios):.3f}; target >= 0.95: {verdict}")
PY
echo "took $((SECONDS - started)) s"
