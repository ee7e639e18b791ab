// The peer's receiver for bench/load.sh: octokit's `createNodeMiddleware` on
// a plain `http.createServer`, as its README shows, with a handler that does
// nothing (`webhooks.onAny(() => {})`). Each delivery is read, verified,
// JSON.parse'd and dispatched by octokit, then answered 200.
//
//   node octokit-server.mjs --deps /tmp/x/deps.mjs --secret S
//
// Prints `listening on http://127.0.0.1:PORT/` on stderr (a free port).
//
// The load comes from the harness sender, which speaks ICR's headers; octokit
// wants GitHub's. The three it reads are given their GitHub names before the
// middleware runs (X-ICR-Event -> x-github-event, X-ICR-Delivery ->
// x-github-delivery, X-ICR-Signature-256 -> x-hub-signature-256; the value
// format `sha256=<hex>` is the same). That is three property writes per
// request, so both servers get the very same requests from the same sender.

import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

const args = { secret: undefined, deps: undefined };
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (arg === "--deps") args.deps = process.argv[++i];
  else if (arg === "--secret") args.secret = process.argv[++i];
  else throw new Error(`unknown argument ${arg}`);
}
if (!args.deps || !args.secret) throw new Error("usage: octokit-server.mjs --deps PATH --secret S");

const { Webhooks, createNodeMiddleware } = await import(pathToFileURL(args.deps).href);
const webhooks = new Webhooks({ secret: args.secret });
webhooks.onAny(() => {});
webhooks.onError((error) => console.error(`octokit-server: ${error.message}`));
const middleware = createNodeMiddleware(webhooks, { path: "/" });

const GITHUB_NAMES = [
  ["x-icr-event", "x-github-event"],
  ["x-icr-delivery", "x-github-delivery"],
  ["x-icr-signature-256", "x-hub-signature-256"],
];

const server = createServer(async (request, response) => {
  const headers = request.headers;
  for (const [icr, github] of GITHUB_NAMES) {
    if (headers[github] === undefined && headers[icr] !== undefined) headers[github] = headers[icr];
  }
  if (await middleware(request, response)) return;
  response.writeHead(404).end();
});
server.listen(0, "127.0.0.1", () => {
  const { address, port } = server.address();
  console.error(`listening on http://${address}:${port}/ (octokit ${Webhooks.name}, node ${process.version})`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
