#!/usr/bin/env bash
# Verify + typed parse, the SDK against octokit in Node, in one run.
#
# The SDK side is the release build of sdk/examples/verify_parse.rs
# (Receiver::verify_signature + Event::from_slice on the exact bytes); the
# peer is @octokit/webhooks-methods `verify(secret, payload, signature)` +
# `JSON.parse` in Node, on the same files signed with the same secret (the
# script checks that both sides compute the same signature). Rounds are
# interleaved (SDK, octokit, SDK, octokit, ...) so that noise on a shared
# machine hits both; each round times each file for MILLIS after a warm-up,
# cut into SLICES slices, and keeps the fastest slice (a neighbour can only
# slow a slice down). Prints, per payload, the median over the rounds of
# each side's MB/s and the median, minimum and maximum of the per-round ratio.
#
#   bench/compare-octokit.sh
#   ROUNDS=15 MILLIS=800 bench/compare-octokit.sh
#   BORROWED=1 bench/compare-octokit.sh     # the SDK's borrowed parse
#
# Settings (environment): ROUNDS (11), MILLIS (500), SLICES (5), WARMUP_MILLIS (150),
# SECRET, FIXTURES (space-separated files), BENCH_NODE_DIR (keep the npm
# install there instead of a temporary folder), CARGO_TARGET_DIR.
# Needs cargo, node (20+) and npm; the npm packages go into a temporary
# folder, never into the repository.

set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${ROUNDS:-11}
MILLIS=${MILLIS:-500}
SLICES=${SLICES:-5}
WARMUP_MILLIS=${WARMUP_MILLIS:-150}
SECRET=${SECRET:-whsec_bench_Q7mN4rT8p3Xv2kLs9dE1}
read -r -a fixtures <<<"${FIXTURES:-$REPO_ROOT/sdk/benches/fixtures/credit_transfer_4k.json $REPO_ROOT/sdk/benches/fixtures/credit_transfer_64k.json}"
# The targets of issue 5, by file name.
TARGETS=(credit_transfer_4k.json=2.3 credit_transfer_64k.json=1.9)

need cargo node npm
started=$SECONDS

log "building the SDK's measurement program (release)"
cargo build --release --locked --quiet --manifest-path "$REPO_ROOT/Cargo.toml" \
    -p icr-webhooks --example verify_parse
sdk_bin=$(target_dir)/release/examples/verify_parse
deps=$(install_octokit)

# BORROWED=1: the SDK parses into the borrowed types instead of the owned.
sdk_flags=()
parse_label="Event::from_slice"
if [[ "${BORROWED:-0}" == 1 ]]; then
    sdk_flags=(--borrowed)
    parse_label="borrowed::Event::from_slice"
fi

results=$WORK/results.jsonl
: >"$results"

# Appends one side's lines for one round, tagged with the side and round
# (after the run, so that nothing else runs beside the measurement).
record() {
    local impl=$1 round=$2
    shift 2
    "$@" >"$WORK/round.out"
    node -e '
        const [impl, round, path] = process.argv.slice(1);
        for (const line of require("node:fs").readFileSync(path, "utf8").split("\n").filter(Boolean))
          console.log(JSON.stringify({ impl, round: Number(round), ...JSON.parse(line) }));' \
        "$impl" "$round" "$WORK/round.out" >>"$results"
}

# The signature the SDK computes for each file, handed to octokit, which
# checks that it signs the same bytes the same way.
signed=()
while IFS= read -r line; do
    signed+=("$(node -e 'const r = JSON.parse(process.argv[1]); console.log(r.signature)' "$line")")
done < <("$sdk_bin" --secret "$SECRET" --millis 0 --warmup-millis 0 "${fixtures[@]}")
peer_args=()
for i in "${!fixtures[@]}"; do
    peer_args+=("${fixtures[$i]}" --signature "${signed[$i]}")
done

log "$ROUNDS interleaved rounds of ${MILLIS} ms (in $SLICES slices) per file and side, after ${WARMUP_MILLIS} ms of warm-up"
for ((round = 1; round <= ROUNDS; round++)); do
    record sdk "$round" "$sdk_bin" --secret "$SECRET" --millis "$MILLIS" --slices "$SLICES" \
        --warmup-millis "$WARMUP_MILLIS" "${sdk_flags[@]}" "${fixtures[@]}"
    record octokit "$round" node "$BENCH_DIR/octokit-verify.mjs" --deps "$deps" --secret "$SECRET" \
        --millis "$MILLIS" --slices "$SLICES" --warmup-millis "$WARMUP_MILLIS" "${peer_args[@]}"
    log "  round $round/$ROUNDS done"
done

echo "verify + parse: SDK (verify_signature + typed $parse_label) vs" \
    "@octokit/webhooks-methods $OCTOKIT_METHODS_VERSION (verify + JSON.parse), node $(node --version)," \
    "$ROUNDS interleaved rounds of ${MILLIS} ms per file and side, fastest of $SLICES slices per round;" \
    "MB = 10^6 body bytes"
echo
node "$BENCH_DIR/report.mjs" compare "$results" "${TARGETS[@]}"
echo
echo "took $((SECONDS - started)) s"
