#!/usr/bin/env bash
# The durable stores under load: `icr-webhooks listen` processing before
# answering over the in-memory store (the baseline), next to the inbox
# (accept, then process) on a SQLite file and on PostgreSQL, each with its
# workers recording every processing in `listen_effects`. The same load
# for all: the harness sender, 4 KiB credit_transfer bodies, 64 in flight.
#
# Each round runs memory, sqlite, postgres in turn, each a fresh server on
# fresh tables (a new file, a new schema): warm-up, timed load, then the
# server is stopped once its workers have drained the inbox. Ratios are
# taken per round against that round's memory run; the report gives their
# median and min..max over the rounds, with p99 latency, and the commits
# per accepted delivery (SQLite: the store's own count, printed by `listen`
# at exit; PostgreSQL: `xact_commit` of the database and `wal_sync` of
# pg_stat_wal over the timed load).
#
#   bench/stores.sh
#   RUNS=5 COUNT=20000 bench/stores.sh
#   POSTGRES_URL= bench/stores.sh          # without PostgreSQL
#
# Settings (environment): RUNS (3), COUNT (20000 per run), WARMUP (2000),
# CONCURRENCY (64), WORKERS (64), POSTGRES_URL
# (postgres://postgres@127.0.0.1:5432/test; empty skips PostgreSQL),
# PAYLOAD (sdk/benches/fixtures/credit_transfer_4k.json), CARGO_TARGET_DIR.
# Needs cargo, python3, and psql for PostgreSQL. Only loopback is used.

set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-3}
COUNT=${COUNT:-20000}
WARMUP=${WARMUP:-2000}
CONCURRENCY=${CONCURRENCY:-64}
WORKERS=${WORKERS:-64}
POSTGRES_URL=${POSTGRES_URL-postgres://postgres@127.0.0.1:5432/test}
SECRET=${SECRET:-whsec_bench_Q7mN4rT8p3Xv2kLs9dE1}
PAYLOAD=${PAYLOAD:-$REPO_ROOT/sdk/benches/fixtures/credit_transfer_4k.json}

need cargo python3
stores=(memory sqlite)
if [[ -n $POSTGRES_URL ]]; then
    need psql
    stores+=(postgres)
fi
started=$SECONDS

log "building the harness (release)"
cargo build --release --locked --quiet --manifest-path "$REPO_ROOT/Cargo.toml" -p icr-webhooks-harness
harness=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/icr-webhooks
results=$WORK/results.jsonl
: >"$results"
out=$WORK/load.out

pg() { PGOPTIONS=--client-min-messages=warning psql "$POSTGRES_URL" -qAtX -c "$1"; }

# The --store argument and mode flags of a fresh server for $1.
store_args() {
    case $1 in
        memory) STORE_ARGS=(--store memory) ;;
        sqlite) STORE_ARGS=(--store "sqlite:$WORK/run-$RANDOM$RANDOM.sqlite" --inbox --workers "$WORKERS") ;;
        postgres)
            local schema=bench_$RANDOM$RANDOM
            pg "CREATE SCHEMA $schema" >/dev/null
            local separator='?'
            [[ $POSTGRES_URL == *\?* ]] && separator='&'
            STORE_ARGS=(--store "$POSTGRES_URL${separator}options=-csearch_path%3D$schema" --inbox --workers "$WORKERS")
            SCHEMA=$schema
            ;;
    esac
}

# Waits until the inbox of the server's store holds nothing pending or
# active (the memory baseline processes before answering: nothing to wait
# for).
drain() {
    [[ $1 == memory ]] && return 0
    local deadline=$((SECONDS + 300)) stats
    while :; do
        stats=$("$harness" inbox --store "${STORE_ARGS[1]}" stats --json)
        [[ $stats == *'"pending":0,'* && $stats == *'"active":0,'* ]] && return 0
        ((SECONDS < deadline)) || die "$1: the inbox did not drain: $stats"
        sleep 0.05
    done
}

load() {
    "$harness" send --url "$SERVER_URL" --secret "$SECRET" --event credit_transfer \
        --payload "$PAYLOAD" --count "$1" --concurrency "$CONCURRENCY" >"$out" 2>&1 ||
        die "not every delivery was answered 2xx: $(cat "$out")"
}

first() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p" "$2" | head -n 1; }

log "$RUNS rounds of ${stores[*]}; harness sender at concurrency $CONCURRENCY, $COUNT deliveries per run after $WARMUP of warm-up; $(basename "$PAYLOAD") ($(wc -c <"$PAYLOAD") B); $WORKERS inbox workers; $(nproc) cores"
for ((run = 1; run <= RUNS; run++)); do
    for store in "${stores[@]}"; do
        SCHEMA=
        store_args "$store"
        start_server "$store" "$harness" listen --addr 127.0.0.1:0 --secret "$SECRET" "${STORE_ARGS[@]}"
        load "$WARMUP"
        drain "$store"
        commits0=0 wal0=0
        if [[ $store == postgres ]]; then
            sleep 1
            commits0=$(pg "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            wal0=$(pg "SELECT wal_sync FROM pg_stat_wal")
        fi
        began=$(date +%s.%N)
        load "$COUNT"
        throughput=$(first throughput "$out")
        p99=$(first p99 "$out")
        drain "$store"
        processed=$(python3 -c "import sys; print(round($COUNT / ($(date +%s.%N) - $began)))")
        pg_commits=0 pg_wal=0
        if [[ $store == postgres ]]; then
            sleep 1
            pg_commits=$(($(pg "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()") - commits0))
            pg_wal=$(($(pg "SELECT wal_sync FROM pg_stat_wal") - wal0))
        fi
        # The workers drain the inbox before the server stops (SIGTERM).
        stop_server
        log_file=$WORK/$store.log
        stored=$(first stored "$log_file")
        sqlite_commits=$(first 'store commits' "$log_file")
        printf '{"store":"%s","run":%d,"throughput":%s,"p99_ms":%s,"processed":%s,"stored":%s,"sqlite_commits":%s,"pg_commits":%s,"pg_wal_syncs":%s}\n' \
            "$store" "$run" "$throughput" "$p99" "$processed" "${stored:-0}" "${sqlite_commits:-0}" "$pg_commits" "$pg_wal" >>"$results"
        log "  round $run/$RUNS $store: $throughput deliveries/s answered, p99 $p99 ms, $processed/s processed"
        [[ -n $SCHEMA ]] && pg "DROP SCHEMA $SCHEMA CASCADE" >/dev/null
    done
done

python3 - "$results" "$COUNT" "$WARMUP" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
count, warmup = int(sys.argv[2]), int(sys.argv[3])
by = {}
for row in rows:
    by.setdefault(row["store"], {})[row["run"]] = row
memory = by["memory"]
def span(values, fmt):
    values = sorted(values)
    return f"{fmt(statistics.median(values))} ({fmt(values[0])}..{fmt(values[-1])})"
print("| store | deliveries/s answered | p99 ms | vs memory | processed/s (sent to drained) | vs memory | commits per accepted delivery | target |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
targets = {"sqlite": 0.5, "postgres": 0.3}
for store, runs in by.items():
    tput = [r["throughput"] for r in runs.values()]
    p99 = [r["p99_ms"] for r in runs.values()]
    ratio = [runs[n]["throughput"] / memory[n]["throughput"] for n in runs if n in memory]
    processed = [r["processed"] for r in runs.values()]
    processed_ratio = [runs[n]["processed"] / memory[n]["throughput"] for n in runs if n in memory]
    if store == "sqlite":
        commits = [r["sqlite_commits"] / max(r["stored"], 1) for r in runs.values()]
        per = span(commits, lambda v: f"{v:.3f}") + " (whole run, warm-up and processing included)"
    elif store == "postgres":
        commits = [r["pg_commits"] / count for r in runs.values()]
        syncs = [r["pg_wal_syncs"] / count for r in runs.values()]
        per = span(commits, lambda v: f"{v:.3f}") + "; WAL syncs " + span(syncs, lambda v: f"{v:.3f}")
    else:
        per = "-"
    target = targets.get(store)
    verdict = "-" if target is None else (f">= {target}x: " + ("ok" if statistics.median(ratio) >= target else "MISS"))
    print(f"| {store} | {span(tput, lambda v: f'{v:,.0f}')} | {span(p99, lambda v: f'{v:.1f}')} | "
          f"{span(ratio, lambda v: f'{v:.2f}x')} | {span(processed, lambda v: f'{v:,.0f}')} | "
          f"{span(processed_ratio, lambda v: f'{v:.2f}x')} | {per} | {verdict} |")
PY
echo
echo "took $((SECONDS - started)) s"
