#!/usr/bin/env bash
# The cost of observability on the receive path: `icr-webhooks listen` with
# tracing on (`--log-format json`, RUST_LOG=info) and metrics on
# (`--metrics-addr`, the Prometheus recorder) against the same binary with
# both off (no subscriber, no recorder installed), fed by the harness
# sender (the 4 KiB credit_transfer, 64 in flight) on this machine's cores.
# Both servers (`--store memory --no-history`) run for the whole
# measurement, side by side; after a warm-up of each, they take turns,
# ROUNDS times, the order swapped every round, each turn COUNT deliveries.
# Side by side in one run, the two of a round are measured a fraction of
# a second apart, in the same state of a shared machine, and both in a
# steady state (a server started per run measured its first seconds too).
# The report gives deliveries/s of each, per round and their median
# (min..max), the ratio on / off per round with its median and min..max,
# and the server's CPU per delivery over each turn (from /proc). At the
# end a scrape checks that the metrics counted every delivery sent to the
# server with them on.
#
#   bench/compare-observability.sh
#   ROUNDS=41 COUNT=10000 bench/compare-observability.sh
#
# Settings (environment): ROUNDS (31), COUNT (5000), WARMUP (3000),
# CONCURRENCY (64), ON_LOG (info), HISTORY (--no-history), SECRET, PAYLOAD,
# CARGO_TARGET_DIR.
# Needs cargo, python3 and Linux. Only loopback is used.

set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${ROUNDS:-31}
COUNT=${COUNT:-5000}
WARMUP=${WARMUP:-3000}
CONCURRENCY=${CONCURRENCY:-64}
# RUST_LOG of the server with observability on: `info` is the target's
# setting; `warn` leaves the delivery span unrecorded (metrics still on).
ON_LOG=${ON_LOG:-info}
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

# Nanoseconds on a CPU of the threads of process $1 alive now (from each
# one's schedstat: finer than the clock ticks of /proc/PID/stat, which a
# turn of a fraction of a second holds only tens of).
cpu_ns() {
    local total=0 task used
    for task in /proc/"$1"/task/*/schedstat; do
        # A thread that ended meanwhile: gone from this sample, and its
        # time with it (tokio keeps its threads for the whole run).
        { read -r used _ <"$task"; } 2>/dev/null || continue
        total=$((total + used))
    done
    echo "$total"
}

# Sends $1 deliveries to $2; THROUGHPUT is what the sender measured.
# Every one must be answered 2xx.
load() {
    "$harness" send --url "$2" --secret "$SECRET" --event credit_transfer \
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

start_server off "$harness" listen --addr 127.0.0.1:0 --store memory $HISTORY --secret "$SECRET"
declare -A URL PID
URL[off]=$SERVER_URL PID[off]=$SERVER_PID
RUST_LOG=$ON_LOG start_server on "$harness" listen --addr 127.0.0.1:0 --store memory $HISTORY \
    --secret "$SECRET" --log-format json --metrics-addr 127.0.0.1:0
URL[on]=$SERVER_URL PID[on]=$SERVER_PID

# One turn: $COUNT deliveries to the server $1, with its CPU per delivery.
turn() {
    local mode=$1 ns0
    ns0=$(cpu_ns "${PID[$mode]}")
    load "$COUNT" "${URL[$mode]}"
    CPU_US=$(python3 -c "print(round(($(cpu_ns "${PID[$mode]}") - $ns0) / 1e3 / $COUNT, 1))")
    printf '%s %s %s %s\n' "$round" "$mode" "$THROUGHPUT" "$CPU_US" >>"$results"
    log "  round $round/$ROUNDS $mode: $THROUGHPUT deliveries/s, server CPU $CPU_US µs/delivery"
}

log "$ROUNDS rounds of $COUNT deliveries to each, after $WARMUP of warm-up each, $CONCURRENCY in flight; $(basename "$PAYLOAD"); $(nproc) cores"
load "$WARMUP" "${URL[off]}"
load "$WARMUP" "${URL[on]}"
for ((round = 1; round <= ROUNDS; round++)); do
    # Not `turn off && turn on`: `set -e` does not apply left of `&&`.
    if ((round % 2)); then
        turn off
        turn on
    else
        turn on
        turn off
    fi
done
counted=$(scraped on)
[[ ${counted%.*} == $((WARMUP + ROUNDS * COUNT)) ]] ||
    die "the metrics counted $counted deliveries, not $((WARMUP + ROUNDS * COUNT))"
# listen's stderr with the logs on: nothing but its own lines at `info`
# when every delivery is good.
logged=$(grep -c '^{' "$WORK/on.log" || true)
[[ $logged == 0 ]] || die "listen logged $logged JSON lines for good deliveries"

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
