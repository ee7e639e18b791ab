# shellcheck shell=bash
# Helpers shared by the bench/ scripts: paths, a temporary npm install of the
# octokit packages (never inside the repository), background processes that
# are stopped on exit, and servers whose address is read from their log.
# Sourced, not run.

# The octokit versions compared against (the latest on npm when these scripts
# were written); override with OCTOKIT_METHODS_VERSION / OCTOKIT_WEBHOOKS_VERSION.
OCTOKIT_METHODS_VERSION=${OCTOKIT_METHODS_VERSION:-6.0.0}
OCTOKIT_WEBHOOKS_VERSION=${OCTOKIT_WEBHOOKS_VERSION:-14.2.0}

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$BENCH_DIR")

# Scratch space for this run, removed on exit.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/icr-bench.XXXXXX")
BACKGROUND_PIDS=()

log() { printf '%s\n' "$*" >&2; }
die() {
    log "${0##*/}: $*"
    exit 1
}

cleanup() {
    local pid
    for pid in "${BACKGROUND_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${BACKGROUND_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "needs \`$tool\` on PATH"
    done
}

# The cargo target directory (CARGO_TARGET_DIR and .cargo/config respected).
target_dir() {
    cargo metadata --format-version 1 --no-deps --manifest-path "$REPO_ROOT/Cargo.toml" |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))'
}

# Installs the given npm packages into a temporary folder (or into
# $BENCH_NODE_DIR when set, kept for the next run) and writes deps.mjs there,
# which re-exports them so that the bench scripts can import it by path.
# Prints the path of deps.mjs.
install_octokit() {
    local dir=${BENCH_NODE_DIR:-$WORK/node}
    mkdir -p "$dir"
    if [[ ! -f $dir/package.json ]]; then
        printf '{"name":"icr-bench-peer","private":true,"type":"module"}\n' >"$dir/package.json"
    fi
    log "installing @octokit/webhooks-methods@$OCTOKIT_METHODS_VERSION and @octokit/webhooks@$OCTOKIT_WEBHOOKS_VERSION into $dir"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error \
        "@octokit/webhooks-methods@$OCTOKIT_METHODS_VERSION" \
        "@octokit/webhooks@$OCTOKIT_WEBHOOKS_VERSION" >&2)
    cat >"$dir/deps.mjs" <<'JS'
export { sign, verify } from "@octokit/webhooks-methods";
export { Webhooks, createNodeMiddleware } from "@octokit/webhooks";
JS
    printf '%s\n' "$dir/deps.mjs"
}

# Starts a server in the background: `start_server NAME CMD...`. Its stdout
# goes to /dev/null and its stderr to $WORK/NAME.log, where it must print
# `listening on http://ADDR/`. Sets SERVER_PID and SERVER_URL.
start_server() {
    local name=$1
    shift
    local log_file=$WORK/$name.log
    : >"$log_file"
    "$@" >/dev/null 2>"$log_file" &
    SERVER_PID=$!
    BACKGROUND_PIDS+=("$SERVER_PID")
    local deadline=$((SECONDS + 20))
    SERVER_URL=
    while [[ -z $SERVER_URL ]]; do
        SERVER_URL=$(sed -n 's|.*listening on \(http://[^ ]*/\).*|\1|p' "$log_file" | head -n 1)
        if [[ -z $SERVER_URL ]]; then
            kill -0 "$SERVER_PID" 2>/dev/null || die "$name exited: $(cat "$log_file")"
            ((SECONDS < deadline)) || die "$name did not print its address within 20 s"
            sleep 0.05
        fi
    done
}

# Stops the server started last and waits for it.
stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    forget_pid "$SERVER_PID"
}

# Takes a process that has ended off the list of those stopped on exit.
forget_pid() {
    local kept=() pid
    for pid in "${BACKGROUND_PIDS[@]}"; do
        [[ $pid == "$1" ]] || kept+=("$pid")
    done
    BACKGROUND_PIDS=("${kept[@]}")
}
