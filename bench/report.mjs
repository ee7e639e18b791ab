// Turns the JSON lines the bench scripts collect into their tables: medians,
// minimums and maximums over the rounds, and per-round ratios.
//
//   node report.mjs compare RESULTS.jsonl [FILE=TARGET ...]
//   node report.mjs load RESULTS.jsonl [TARGET]

import { readFileSync } from "node:fs";
import { basename } from "node:path";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const min = (xs) => Math.min(...xs);
const max = (xs) => Math.max(...xs);
const fixed = (x, d = 0) => x.toFixed(d);
const spread = (xs, d = 0) => `${fixed(median(xs), d)} (${fixed(min(xs), d)}..${fixed(max(xs), d)})`;
const group = (rows, key) => {
  const out = new Map();
  for (const row of rows) {
    const k = key(row);
    if (!out.has(k)) out.set(k, []);
    out.get(k).push(row);
  }
  return out;
};
const table = (head, rows) => {
  const lines = [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
};
const readRows = (path) =>
  readFileSync(path, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));

function compare(path, targetArgs) {
  const targets = new Map(targetArgs.map((t) => t.split("=")).map(([f, x]) => [f, Number(x)]));
  const rows = readRows(path);
  const out = [];
  const ratioLines = [];
  for (const [file, perFile] of group(rows, (r) => basename(r.file))) {
    const sdk = perFile.filter((r) => r.impl === "sdk");
    const peer = perFile.filter((r) => r.impl === "octokit");
    const ratios = [];
    for (const s of sdk) {
      const p = peer.find((r) => r.round === s.round);
      if (p) ratios.push(s.mb_per_s / p.mb_per_s);
    }
    const target = targets.get(file);
    const verdict = target === undefined ? "" : median(ratios) >= target ? "met" : "not met";
    out.push([
      `${file} (${perFile[0].bytes.toLocaleString("en-US")} B)`,
      fixed(median(sdk.map((r) => r.mb_per_s))),
      fixed(median(peer.map((r) => r.mb_per_s))),
      `${fixed(median(ratios), 2)}x (${fixed(min(ratios), 2)}..${fixed(max(ratios), 2)})`,
      target === undefined ? "" : `>= ${target}x: ${verdict}`,
    ]);
    ratioLines.push(`${file}: ratio per round ${ratios.map((r) => r.toFixed(2)).join(" ")}; ` +
      `SDK ${fixed(median(sdk.map((r) => r.ns_per_op)) / 1000, 1)} us/op, ` +
      `octokit ${fixed(median(peer.map((r) => r.ns_per_op)) / 1000, 1)} us/op (medians)`);
  }
  console.log(table(["payload", "SDK MB/s", "octokit MB/s", "ratio median (min..max)", "target"], out));
  console.log();
  for (const line of ratioLines) console.log(line);
}

function load(path, targetArg) {
  const target = Number(targetArg ?? 3);
  const rows = readRows(path);
  const servers = group(rows, (r) => r.server);
  const labels = {
    sdk: "`icr-webhooks listen` (SDK, axum)",
    octokit: "octokit `createNodeMiddleware`",
    ceiling: "ceiling: `listen` on an unrouted path (404, no webhook work)",
  };
  const out = [];
  for (const [server, runs] of servers) {
    const perDelivery = (key) => fixed(median(runs.map((r) => (r[key] / r.deliveries) * 1e6)));
    const busy = (r) => (100 * (r.server_cpu_s + r.load_cpu_s) * r.throughput) / (r.deliveries * r.cores);
    out.push([
      labels[server] ?? server,
      spread(runs.map((r) => r.throughput)),
      spread(runs.map((r) => r.p50_ms), 1),
      spread(runs.map((r) => r.p99_ms), 1),
      spread(runs.map((r) => r.vmhwm_kib / 1024), 1),
      perDelivery("server_cpu_s"),
      perDelivery("load_cpu_s"),
      fixed(median(runs.map(busy))),
    ]);
  }
  console.log("median (min..max) over the runs\n");
  console.log(table([
    "server", "deliveries/s", "p50 ms", "p99 ms", "peak RSS (VmHWM) MiB",
    "server CPU us/delivery", "load generator CPU us/delivery", "% of all cores used by both",
  ], out));
  const sdk = servers.get("sdk") ?? [];
  const peer = servers.get("octokit") ?? [];
  const ceiling = servers.get("ceiling") ?? [];
  const byRun = (list, run) => list.find((r) => r.run === run);
  const ratios = sdk.map((s) => [s, byRun(peer, s.run)]).filter(([, p]) => p);
  if (ratios.length) {
    const tput = ratios.map(([s, p]) => s.throughput / p.throughput);
    const p99 = ratios.map(([s, p]) => s.p99_ms / p.p99_ms);
    const verdict = (ok) => (ok ? "met" : "not met");
    console.log(`\nSDK / octokit deliveries/s: ${spread(tput, 2)}x; target >= ${target}x: ` +
      `${verdict(median(tput) >= target)}`);
    console.log(`SDK / octokit p99 latency: ${spread(p99, 2)}; target < 1: ${verdict(median(p99) < 1)}`);
  }
  if (sdk.length && ceiling.length) {
    const share = sdk.map((s) => [s, byRun(ceiling, s.run)]).filter(([, c]) => c)
      .map(([s, c]) => (100 * s.throughput) / c.throughput);
    const peerShare = peer.map((p) => [p, byRun(ceiling, p.run)]).filter(([, c]) => c)
      .map(([p, c]) => (100 * p.throughput) / c.throughput);
    console.log(`deliveries/s as % of the ceiling (the most this load generator feeds here): ` +
      `SDK ${spread(share)}%, octokit ${spread(peerShare)}%`);
    const ceilingRatio = ceiling.map((c) => [c, byRun(peer, c.run)]).filter(([, p]) => p)
      .map(([c, p]) => c.throughput / p.throughput);
    console.log(`ceiling / octokit deliveries/s: ${spread(ceilingRatio, 2)}x ` +
      `(the highest SDK / octokit ratio this load generator can show on this machine)`);
  }
}

const [mode, path, ...rest] = process.argv.slice(2);
if (mode === "compare") compare(path, rest);
else if (mode === "load") load(path, rest[0]);
else {
  console.error("usage: node report.mjs compare|load RESULTS.jsonl [TARGETS...]");
  process.exit(2);
}
