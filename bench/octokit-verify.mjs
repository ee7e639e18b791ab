// The peer's side of bench/compare-octokit.sh: @octokit/webhooks-methods
// `verify(secret, payload, signature)` plus `JSON.parse` on the same payload
// files, looped for a fixed time, one JSON line per file (the same fields as
// the SDK's `verify_parse` example).
//
//   node octokit-verify.mjs --deps /tmp/x/deps.mjs --secret S --millis 500 \
//       --slices 5 --warmup-millis 100 FILE --signature sha256=... [FILE --signature ...]
//
// The body is decoded to a string once, as octokit's middleware does
// (TextDecoder, UTF-8) before it calls verify; the decode is not timed, so
// the peer is measured at its best. Each operation awaits `verify` (it is
// async) and parses the string, as `verifyAndReceive` does per delivery.
// As on the SDK's side, the timed time is cut into slices and `mb_per_s` is
// the fastest slice's (a neighbour on a shared machine only slows a slice).

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

function parseArgs(argv) {
  const args = { secret: "bench-secret", millis: 500, slices: 5, warmupMillis: 100, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case "--deps": args.deps = value(); break;
      case "--secret": args.secret = value(); break;
      case "--millis": args.millis = Number(value()); break;
      case "--slices": args.slices = Math.max(1, Number(value())); break;
      case "--warmup-millis": args.warmupMillis = Number(value()); break;
      case "--signature": {
        const last = args.files.at(-1);
        if (!last) throw new Error("--signature comes after its FILE");
        last.signature = value();
        break;
      }
      default:
        if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
        args.files.push({ file: arg });
    }
  }
  if (!args.deps) throw new Error("--deps PATH/deps.mjs is required");
  if (args.files.length === 0) throw new Error("no payload file");
  return args;
}

let sink;

async function measure(verify, secret, payload, signature, budgetNs, batch) {
  let iterations = 0;
  const started = process.hrtime.bigint();
  for (;;) {
    for (let k = 0; k < batch; k++) {
      if (!(await verify(secret, payload, signature))) throw new Error("signature mismatch");
      sink = JSON.parse(payload);
    }
    iterations += batch;
    const elapsed = process.hrtime.bigint() - started;
    if (elapsed >= budgetNs) return { iterations, seconds: Number(elapsed) / 1e9 };
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { sign, verify } = await import(pathToFileURL(args.deps).href);
  const decoder = new TextDecoder("utf-8", { fatal: false });
  for (const { file, signature: given } of args.files) {
    const body = readFileSync(file);
    const payload = decoder.decode(body);
    const signature = await sign(args.secret, payload);
    if (given !== undefined && given !== signature) {
      throw new Error(`${file}: octokit signs ${signature}, the SDK signed ${given}`);
    }
    if (!(await verify(args.secret, payload, signature))) throw new Error(`${file}: does not verify`);
    const batch = Math.min(1024, Math.max(1, Math.floor((256 * 1024) / body.length)));
    await measure(verify, args.secret, payload, signature, BigInt(args.warmupMillis) * 1000000n, batch);
    const slice = (BigInt(args.millis) * 1000000n) / BigInt(args.slices);
    let iterations = 0;
    let seconds = 0;
    let bestNs = Infinity;
    for (let i = 0; i < args.slices; i++) {
      const done = await measure(verify, args.secret, payload, signature, slice, batch);
      iterations += done.iterations;
      seconds += done.seconds;
      bestNs = Math.min(bestNs, (done.seconds * 1e9) / done.iterations);
    }
    console.log(JSON.stringify({
      file,
      bytes: body.length,
      signature,
      iterations,
      seconds,
      ns_per_op: bestNs,
      mb_per_s: (body.length / bestNs) * 1e3,
      mean_mb_per_s: (body.length * iterations) / seconds / 1e6,
      node: process.version,
      octokit_methods: verify.VERSION,
    }));
  }
  if (sink === undefined) throw new Error("nothing parsed");
}

main().catch((error) => {
  console.error(`octokit-verify: ${error.message}`);
  process.exit(1);
});
