#!/usr/bin/env bash
# The long replica run: COUNT deliveries (50,000) sent by `icr-webhooks send
# --url A --url B` at concurrency 64 to two `listen --inbox` replicas that
# share one store, with answer-level and processing failures injected
# (--fail-rate) and failed deliveries redelivered, while replica B is killed
# with SIGKILL and started again on its port every KILL_EVERY seconds.
# Afterwards the store is audited with `icr-webhooks inbox stats`: every
# delivery must have exactly one row in listen_effects, none may be dead.
# The multi-process tests run the same with a few thousand deliveries.
#
#   bench/replicas.sh                       # SQLite, then PostgreSQL
#   STORES=sqlite COUNT=10000 bench/replicas.sh
#
# Settings (environment): STORES (sqlite postgres), COUNT (50000),
# CONCURRENCY (64), FAIL_RATE (0.05), KILL_EVERY (2 s), WORKERS (16),
# POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test), CARGO_TARGET_DIR.
# Needs cargo, and psql for PostgreSQL. Only loopback is used.

set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STORES=${STORES:-sqlite postgres}
COUNT=${COUNT:-50000}
CONCURRENCY=${CONCURRENCY:-64}
FAIL_RATE=${FAIL_RATE:-0.05}
KILL_EVERY=${KILL_EVERY:-2}
WORKERS=${WORKERS:-16}
POSTGRES_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SECRET=whsec_replicas_Q7mN4rT8p3Xv2kLs9dE1

need cargo
log "building the harness (release)"
cargo build --release --locked --quiet --manifest-path "$REPO_ROOT/Cargo.toml" -p icr-webhooks-harness
harness=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/icr-webhooks

# Starts a replica on port $2 (0: any) with store $3; sets REPLICA_PID and
# REPLICA_PORT. A port just freed by a kill may take a few tries.
start_replica() {
    local name=$1 port=$2 store=$3 log_file try
    for try in $(seq 1 50); do
        log_file=$WORK/$name.$try.log
        "$harness" listen --addr "127.0.0.1:$port" --secret "$SECRET" --store "$store" \
            --inbox --workers "$WORKERS" --lease 5 --retry-delay 0.2 \
            --fail-rate "$FAIL_RATE" --seed 5 >/dev/null 2>"$log_file" &
        REPLICA_PID=$!
        BACKGROUND_PIDS+=("$REPLICA_PID")
        local deadline=$((SECONDS + 20))
        REPLICA_PORT=
        while [[ -z $REPLICA_PORT ]] && kill -0 "$REPLICA_PID" 2>/dev/null && ((SECONDS < deadline)); do
            REPLICA_PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$log_file" | head -n 1)
            [[ -n $REPLICA_PORT ]] || sleep 0.02
        done
        [[ -n $REPLICA_PORT ]] && return 0
        wait "$REPLICA_PID" 2>/dev/null || true
        forget_pid "$REPLICA_PID"
        sleep 0.1
    done
    die "$name did not start on port $port: $(cat "$log_file")"
}

stats_field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2"; }

echo "| store | deliveries | attempts | kills of B | elapsed | deliveries/s | processed once | repeated | dead | missing |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for kind in $STORES; do
    schema=
    case $kind in
        sqlite) store="sqlite:$WORK/replicas.sqlite" ;;
        postgres)
            need psql
            schema=replicas_$RANDOM$RANDOM
            PGOPTIONS=--client-min-messages=warning psql "$POSTGRES_URL" -qAtX -c "CREATE SCHEMA $schema" >/dev/null
            separator='?'
            [[ $POSTGRES_URL == *\?* ]] && separator='&'
            store="$POSTGRES_URL${separator}options=-csearch_path%3D$schema"
            ;;
        *) die "STORES holds sqlite and postgres, not $kind" ;;
    esac
    start_replica a 0 "$store"
    a_pid=$REPLICA_PID a_port=$REPLICA_PORT
    start_replica b 0 "$store"
    b_pid=$REPLICA_PID b_port=$REPLICA_PORT
    log "$kind: replicas on $a_port and $b_port; sending $COUNT deliveries"
    started=$SECONDS
    "$harness" send --url "http://127.0.0.1:$a_port/webhook" --url "http://127.0.0.1:$b_port/webhook" \
        --secret "$SECRET" --all --count "$COUNT" --concurrency "$CONCURRENCY" \
        --redeliver-failed 200 >"$WORK/send.out" 2>&1 &
    send_pid=$!
    BACKGROUND_PIDS+=("$send_pid")
    kills=0
    while kill -0 "$send_pid" 2>/dev/null; do
        sleep "$KILL_EVERY"
        kill -0 "$send_pid" 2>/dev/null || break
        kill -KILL "$b_pid" 2>/dev/null || true
        wait "$b_pid" 2>/dev/null || true
        forget_pid "$b_pid"
        kills=$((kills + 1))
        sleep 0.2
        start_replica b "$b_port" "$store"
        b_pid=$REPLICA_PID
    done
    sent_ok=0
    wait "$send_pid" || sent_ok=$?
    forget_pid "$send_pid"
    elapsed=$((SECONDS - started))
    [[ $sent_ok == 0 ]] || die "not every delivery was answered 2xx: $(cat "$WORK/send.out")"
    # The inbox drains: nothing pending or active.
    deadline=$((SECONDS + 120))
    while :; do
        stats=$("$harness" inbox --store "$store" stats --json || true)
        [[ $(stats_field pending "$stats") == 0 && $(stats_field active "$stats") == 0 ]] && break
        ((SECONDS < deadline)) || die "$kind: the inbox did not drain: $stats"
        sleep 0.5
    done
    attempts=$(sed -n 's/.*attempts \([0-9]*\).*/\1/p' "$WORK/send.out" | head -n 1)
    throughput=$(sed -n 's/.*throughput \([0-9.]*\).*/\1/p' "$WORK/send.out" | head -n 1)
    effects=$(stats_field effect_deliveries "$stats")
    repeated=$(stats_field repeated_effects "$stats")
    dead=$(stats_field dead "$stats")
    missing=$((COUNT - effects))
    echo "| $kind | $COUNT | $attempts | $kills | ${elapsed} s | $throughput | $effects | $repeated | $dead | $missing |"
    for pid in "$a_pid" "$b_pid"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        forget_pid "$pid"
    done
    [[ -n $schema ]] && PGOPTIONS=--client-min-messages=warning psql "$POSTGRES_URL" -qAtX -c "DROP SCHEMA $schema CASCADE" >/dev/null
    [[ $repeated == 0 && $dead == 0 && $missing == 0 ]] || die "$kind: not exactly once"
done
