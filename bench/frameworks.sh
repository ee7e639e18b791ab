#!/usr/bin/env bash
# The actix-web receiver against the axum one, in one run: the
# `actix_receiver` and `axum_receiver` examples (the same receiver, accept
# then process on a SQLite inbox, on each framework), release builds, fed by
# the harness sender (`icr-webhooks send`, 4 KiB credit_transfer bodies,
# 64 in flight) on loopback. The servers take turns, RUNS times, each run on
# a fresh store: axum, actix, axum, actix, ...
#
#   bench/frameworks.sh
#   RUNS=7 COUNT=40000 bench/frameworks.sh
#
# Settings (environment): RUNS (5), COUNT (20000 deliveries per run),
# WARMUP (2000), CONCURRENCY (64), SECRET, PAYLOAD
# (sdk/benches/fixtures/credit_transfer_4k.json), CARGO_TARGET_DIR.
# Prints a Markdown table: deliveries/s, median, min and max per server, and
# the ratio actix/axum (of the medians, and the least and greatest of the
# runs' ratios). Needs cargo and python3. Only loopback is used.

set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-5}
COUNT=${COUNT:-20000}
WARMUP=${WARMUP:-2000}
CONCURRENCY=${CONCURRENCY:-64}
SECRET=${SECRET:-whsec_bench_Q7mN4rT8p3Xv2kLs9dE1}
PAYLOAD=${PAYLOAD:-$REPO_ROOT/sdk/benches/fixtures/credit_transfer_4k.json}
need cargo python3
started=$SECONDS

log "building the harness and the two receivers (release)"
cargo build --release --locked --quiet --manifest-path "$REPO_ROOT/Cargo.toml" -p icr-webhooks-harness
cargo build --release --locked --quiet --manifest-path "$REPO_ROOT/Cargo.toml" -p icr-webhooks \
    --features axum,actix,sqlite --example axum_receiver --example actix_receiver
target=${CARGO_TARGET_DIR:-$REPO_ROOT/target}
harness=$target/release/icr-webhooks
results=$WORK/results.tsv
: >"$results"

# Starts the example $1 on a free port with a fresh store; sets SERVER_PID
# and URL (the examples print `listening on http://ADDR`).
start() {
    local name=$1 log_file=$WORK/$1.log
    : >"$log_file"
    ICR_WEBHOOK_SECRET=$SECRET ICR_WEBHOOK_ADDR=127.0.0.1:0 \
        ICR_WEBHOOK_STORE=$WORK/$name-$run.sqlite \
        "$target/release/examples/${name}_receiver" >/dev/null 2>"$log_file" &
    SERVER_PID=$!
    BACKGROUND_PIDS+=("$SERVER_PID")
    local deadline=$((SECONDS + 20))
    URL=
    while [[ -z $URL ]]; do
        URL=$(sed -n 's|.*listening on \(http://[^ ]*\).*|\1/webhook|p' "$log_file" | head -n 1)
        if [[ -z $URL ]]; then
            kill -0 "$SERVER_PID" 2>/dev/null || die "$name exited: $(cat "$log_file")"
            ((SECONDS < deadline)) || die "$name did not print its address within 20 s"
            sleep 0.05
        fi
    done
}

# Sends $1 deliveries; sets THROUGHPUT (deliveries/s), or dies when one was
# not answered 2xx.
send() {
    local out=$WORK/send.out
    "$harness" send --url "$URL" --secret "$SECRET" --event credit_transfer \
        --payload "$PAYLOAD" --count "$1" --concurrency "$CONCURRENCY" >"$out" 2>&1 ||
        die "not every delivery was answered 2xx: $(cat "$out")"
    THROUGHPUT=$(sed -n 's/.*throughput \([0-9.]*\).*/\1/p' "$out" | head -n 1)
    [[ -n $THROUGHPUT ]] || die "cannot read the sender's output: $(cat "$out")"
}

log "$RUNS runs per server; $COUNT deliveries per run after $WARMUP of warm-up; concurrency $CONCURRENCY; $(nproc) cores"
for ((run = 1; run <= RUNS; run++)); do
    for server in axum actix; do
        start "$server"
        send "$WARMUP"
        send "$COUNT"
        # Ctrl-C: both stop taking requests and let their workers finish.
        kill -INT "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        forget_pid "$SERVER_PID"
        printf '%s\t%d\t%s\n' "$server" "$run" "$THROUGHPUT" >>"$results"
        log "  run $run/$RUNS $server: $THROUGHPUT deliveries/s"
    done
done

python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    server, run, throughput = line.split("\t")
    runs.setdefault(server, {})[int(run)] = float(throughput)
print("| receiver | deliveries/s (median) | min | max |")
print("| --- | --- | --- | --- |")
for server in ("axum", "actix"):
    values = list(runs[server].values())
    print(f"| {server}_receiver | {statistics.median(values):.0f} | {min(values):.0f} | {max(values):.0f} |")
ratios = [runs["actix"][r] / runs["axum"][r] for r in runs["axum"]]
median = statistics.median(runs["actix"].values()) / statistics.median(runs["axum"].values())
print()
print(f"actix/axum: {median:.3f} (medians); per run from {min(ratios):.3f} to {max(ratios):.3f}")
PY
echo
echo "took $((SECONDS - started)) s"
