#!/usr/bin/env bash
# The receiver load run: `icr-webhooks listen` (the SDK behind axum) next to
# octokit's `createNodeMiddleware` server, under the same load from the same
# generator, the harness sender (`icr-webhooks send`, 4 KiB credit_transfer
# bodies, 64 in flight), all on this machine's cores.
#
# Each run starts a fresh server, warms it up, times the load, reads the
# server's peak memory (VmHWM) and stops it. The servers take turns, RUNS
# times: SDK, octokit, ceiling, SDK, octokit, ...
# The ceiling is the same load against a server that does no webhook work:
# `icr-webhooks listen` asked for a path it has no route for, which axum
# answers 404 without running any handler while hyper drains the body. Its
# deliveries/s is the most the load generator can feed here; a receiver near
# it is limited by the generator. The CPU of the server and of the generator
# over the timed window is read from /proc (for the sender, from its first
# runtime thread on: not while it builds its deliveries).
#
#   bench/load.sh
#   RUNS=7 COUNT=40000 bench/load.sh
#   LOADGEN=wrk bench/load.sh        # the same deliveries from wrk (bench/wrk-icr.lua)
#
# Settings (environment): LOADGEN (sender, or wrk), RUNS (5),
# COUNT (20000 deliveries per run, sender) or DURATION (5 s per run, wrk),
# WARMUP (2000 deliveries, or 1 s with wrk), CONCURRENCY (64), SECRET,
# PAYLOAD (sdk/benches/fixtures/credit_transfer_4k.json), BENCH_NODE_DIR
# (keep the npm install there), CARGO_TARGET_DIR.
# Needs cargo, node (20+), npm and Linux /proc (and wrk for LOADGEN=wrk).
# Only loopback is used.

set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOADGEN=${LOADGEN:-sender}
RUNS=${RUNS:-5}
COUNT=${COUNT:-20000}
DURATION=${DURATION:-5}
CONCURRENCY=${CONCURRENCY:-64}
SECRET=${SECRET:-whsec_bench_Q7mN4rT8p3Xv2kLs9dE1}
PAYLOAD=${PAYLOAD:-$REPO_ROOT/sdk/benches/fixtures/credit_transfer_4k.json}
EVENT=credit_transfer
TARGET=3

need cargo node npm
[[ -r /proc/self/stat ]] || die "needs Linux /proc"
case $LOADGEN in
    sender) WARMUP=${WARMUP:-2000} ;;
    wrk)
        need wrk
        WARMUP=${WARMUP:-1}
        ;;
    *) die "LOADGEN is \`sender\` or \`wrk\`, not \`$LOADGEN\`" ;;
esac
started=$SECONDS

log "building the harness (release)"
cargo build --release --locked --quiet --manifest-path "$REPO_ROOT/Cargo.toml" -p icr-webhooks-harness
harness=$(target_dir)/release/icr-webhooks
deps=$(install_octokit)
cores=$(nproc)
TCK=$(getconf CLK_TCK)
results=$WORK/results.jsonl
: >"$results"
out=$WORK/load.out

# A fifo to wait on with `read -t`: a pause that forks nothing.
mkfifo "$WORK/tick"
exec {tick}<>"$WORK/tick"
pause() { read -r -t "$1" -u "$tick" _ || true; }

# CPU time (clock ticks, all threads) of process $1, read without forking,
# into CPU_TICKS.
cpu_ticks() {
    local stat fields
    read -r stat <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    read -r -a fields <<<"$stat"
    CPU_TICKS=$((fields[11] + fields[12]))
}

# CPU seconds of the children reaped between two `times` snapshots, less
# $1 ticks.
children_cpu() {
    awk -v b="$1" -v h="$TCK" '
        function secs(m, p) { split(m, p, "m"); sub("s", "", p[2]); return p[1] * 60 + p[2] }
        FNR == 2 { total += (FILENAME ~ /times1/ ? 1 : -1) * (secs($1) + secs($2)) }
        END { print total - b / h }' "$WORK/times0" "$WORK/times1"
}

ticks_to_seconds() { awk -v t="$1" -v h="$TCK" 'BEGIN { print t / h }'; }

# Loads $1 with the harness sender: $2 deliveries. Output in $out, exit
# status in LOAD_STATUS. When $3 is `timed`, LOAD_CPU and SERVER_CPU hold
# the CPU seconds of each from the moment the sender's runtime threads
# appear (its deliveries are built by then) to its exit: the sender's total
# comes from the shell's `times` for reaped children, less what it used
# before that moment.
load_sender() {
    local url=$1 count=$2 mode=${3:-}
    local before=0 server0=0 tasks
    times >"$WORK/times0"
    "$harness" send --url "$url" --secret "$SECRET" --event "$EVENT" \
        --payload "$PAYLOAD" --count "$count" --concurrency "$CONCURRENCY" >"$out" 2>&1 &
    local pid=$!
    BACKGROUND_PIDS+=("$pid")
    if [[ $mode == timed ]]; then
        before=
        while [[ -z $before ]] && cpu_ticks "$pid" 2>/dev/null; do
            tasks=("/proc/$pid/task/"*)
            if ((${#tasks[@]} > 1)); then
                before=$CPU_TICKS
                cpu_ticks "$SERVER_PID"
                server0=$CPU_TICKS
            else
                pause 0.005
            fi
        done
        [[ -n $before ]] || die "the sender exited before it started sending: $(cat "$out")"
    fi
    LOAD_STATUS=0
    wait "$pid" || LOAD_STATUS=$?
    forget_pid "$pid"
    times >"$WORK/times1"
    if [[ $mode == timed ]]; then
        cpu_ticks "$SERVER_PID"
        SERVER_CPU=$(ticks_to_seconds "$((CPU_TICKS - server0))")
        LOAD_CPU=$(children_cpu "$before")
    fi
}

# Loads $1 with wrk for $2 seconds; the same variables as load_sender.
load_wrk() {
    local url=$1 seconds=$2 server0
    cpu_ticks "$SERVER_PID"
    server0=$CPU_TICKS
    times >"$WORK/times0"
    LOAD_STATUS=0
    ICR_BODY=$PAYLOAD ICR_EVENT=$EVENT ICR_SIGNATURE=$SIGNATURE \
        wrk --threads "$cores" --connections "$CONCURRENCY" --duration "${seconds}s" \
        --timeout 10s --latency --script "$BENCH_DIR/wrk-icr.lua" "$url" >"$out" 2>&1 ||
        LOAD_STATUS=$?
    times >"$WORK/times1"
    cpu_ticks "$SERVER_PID"
    SERVER_CPU=$(ticks_to_seconds "$((CPU_TICKS - server0))")
    LOAD_CPU=$(children_cpu 0)
}

# Reads the load generator's output into DELIVERIES, THROUGHPUT, P50, P99
# (ms), NOT_2XX and ERRORS.
read_output() {
    if [[ $LOADGEN == sender ]]; then
        first() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p" "$out" | head -n 1; }
        DELIVERIES=$(first attempts)
        THROUGHPUT=$(first throughput)
        P50=$(first p50)
        P99=$(first p99)
        NOT_2XX=$(first 'not delivered')
        ERRORS=$(first 'no answer')
    else
        local ms='function ms(v) { return v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000 }'
        DELIVERIES=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$out")
        THROUGHPUT=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$out")
        P50=$(awk "$ms"' $1 == "50%" { print ms($2) }' "$out")
        P99=$(awk "$ms"' $1 == "99%" { print ms($2) }' "$out")
        NOT_2XX=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$out")
        NOT_2XX=${NOT_2XX:-0}
        ERRORS=$(awk '/Socket errors/ { gsub(/[^0-9 ]/, ""); n = 0; for (i = 1; i <= NF; i++) n += $i; print n }' "$out")
        ERRORS=${ERRORS:-0}
    fi
    [[ -n $DELIVERIES && -n $THROUGHPUT && -n $P50 && -n $P99 ]] ||
        die "cannot read the load generator's output: $(cat "$out")"
}

# Runs the load: warm-up or timed.
load() {
    if [[ $LOADGEN == sender ]]; then
        load_sender "$URL" "$@"
    else
        case ${2:-} in
            timed) load_wrk "$URL" "$DURATION" ;;
            *) load_wrk "$URL" "$1" ;;
        esac
    fi
}

start() {
    case $1 in
        sdk | ceiling) start_server "$1" "$harness" listen --addr 127.0.0.1:0 --store memory --secret "$SECRET" ;;
        octokit) start_server "$1" node "$BENCH_DIR/octokit-server.mjs" --deps "$deps" --secret "$SECRET" ;;
    esac
    case $1 in
        ceiling) URL=${SERVER_URL}no-such-route ;;
        *) URL=$SERVER_URL ;;
    esac
}

# Checks the load's answers: every delivery answered 2xx, or for the
# ceiling every one answered 404 (the unrouted path); none unanswered.
check() {
    local server=$1
    read_output
    if [[ $server == ceiling ]]; then
        # wrk counts the answers that are not 2xx or 3xx; the sender names them.
        if [[ $NOT_2XX != "$DELIVERIES" || $ERRORS != 0 ]] ||
            { [[ $LOADGEN == sender ]] && ! grep -q "statuses {404: $DELIVERIES}" "$out"; }; then
            die "ceiling: expected every answer to be 404: $(cat "$out")"
        fi
    elif [[ $LOAD_STATUS != 0 || $NOT_2XX != 0 || $ERRORS != 0 ]]; then
        die "$server: not every delivery was answered 2xx: $(cat "$out")"
    fi
}

if [[ $LOADGEN == sender ]]; then
    what="harness sender (\`icr-webhooks send --concurrency $CONCURRENCY\`), $COUNT deliveries per run after $WARMUP of warm-up"
else
    SIGNATURE=$("$harness" sign --secret "$SECRET" "$PAYLOAD")
    what="wrk $({ wrk --version 2>&1 || true; } | sed -n 's/^wrk \([^ ]*\).*/\1/p') (bench/wrk-icr.lua, $cores threads, $CONCURRENCY connections), ${DURATION} s per run after $WARMUP s of warm-up"
fi
log "$RUNS runs per server; $what; $(basename "$PAYLOAD") ($(wc -c <"$PAYLOAD") B); $cores cores"
for ((run = 1; run <= RUNS; run++)); do
    for server in sdk octokit ceiling; do
        start "$server"
        load "$WARMUP"
        check "$server"
        load "$COUNT" timed
        check "$server"
        hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status")
        stop_server
        printf '{"server":"%s","run":%d,"deliveries":%d,"throughput":%s,"p50_ms":%s,"p99_ms":%s,"vmhwm_kib":%d,"server_cpu_s":%s,"load_cpu_s":%s,"cores":%d}\n' \
            "$server" "$run" "$DELIVERIES" "$THROUGHPUT" "$P50" "$P99" "$hwm" \
            "$SERVER_CPU" "$LOAD_CPU" "$cores" >>"$results"
        log "  run $run/$RUNS $server: $THROUGHPUT deliveries/s, p99 $P99 ms, VmHWM $((hwm / 1024)) MiB"
    done
done

echo "receiver load: $what; $(basename "$PAYLOAD"); $RUNS alternating runs;" \
    "$cores cores shared by the load and the server; octokit @octokit/webhooks $OCTOKIT_WEBHOOKS_VERSION on node $(node --version)"
echo
node "$BENCH_DIR/report.mjs" load "$results" "$TARGET"
echo
echo "took $((SECONDS - started)) s"
