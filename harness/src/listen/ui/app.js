//! The inspector's script: the live list (server-sent events), filters, a delivery's page, the actions and the keyboard. Plain JS, no framework; every value is put in the page as text, never as HTML.
"use strict";

// The token comes once in `?token=`: kept for this tab only, then taken out
// of the address bar (and of the history) before anything else loads.
const params = new URLSearchParams(location.search);
if (params.has("token")) {
  sessionStorage.setItem("icr-token", params.get("token"));
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
}
const token = sessionStorage.getItem("icr-token");

const $ = (id) => document.getElementById(id);
const state = { rows: [], selected: -1, open: null, detail: null };

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options = {}) {
  const headers = { "X-ICR-Inspector": "1" };
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch("api/" + path, { ...options, headers });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try { message = JSON.parse(text).error || text; } catch (_) { /* plain text */ }
    throw new Error(response.status + " " + message);
  }
  return response.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : text;
}

function toast(message) {
  const box = $("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

const key = (row) => (row.event || "?") + (row.action ? "." + row.action : "");
const statusClass = (status) => "status s" + String(status)[0];
const time = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const shortGuid = (guid) => (guid ? guid.slice(0, 8) + "…" : "—");
const why = (row) => (row.status >= 200 && row.status < 300 ? row.reason : row.error_path ? row.reason + " at " + row.error_path : row.reason);

// ---- the list ----

function filters() {
  const query = new URLSearchParams();
  for (const id of ["f-event", "f-status", "f-guid"]) {
    const value = $(id).value.trim();
    if (value) query.set(id.slice(2), value);
  }
  return query;
}

function matches(row) {
  const query = filters();
  const event = query.get("event");
  if (event && !(event.includes(".") ? key(row) === event : row.event === event)) return false;
  const guid = query.get("guid");
  if (guid && !(row.guid || "").includes(guid.toLowerCase())) return false;
  const status = query.get("status");
  const ok = row.status >= 200 && row.status < 300;
  if (status === "ok" && !ok) return false;
  if (status === "refused" && ok) return false;
  if (status && /^\dxx$/.test(status) && String(row.status)[0] !== status[0]) return false;
  if (status && /^\d+$/.test(status) && row.status !== Number(status)) return false;
  return true;
}

function rowNode(row, fresh) {
  const tags = [];
  if (row.repeat) tags.push(h("span", { class: "tag", title: "an earlier delivery had this GUID" }, "repeat"));
  if (row.drift) tags.push(h("span", { class: "tag drift", title: "fields or values the types do not know" }, "drift " + row.drift));
  if (row.forward_status) tags.push(h("span", { class: "tag", title: "the app's answer" }, "app " + row.forward_status));
  return h("li", {
    id: "row-" + row.id,
    class: fresh ? "fresh" : null,
    role: "option",
    onclick: () => { select(state.rows.indexOf(row)); openSelected(); },
  },
  h("span", { class: "time", title: new Date(row.received_at_ms).toISOString() }, time(row.received_at_ms)),
  h("span", { class: "what" }, key(row), tags, h("small", {}, why(row))),
  h("span", { class: "guid", title: row.guid || "" }, shortGuid(row.guid)),
  h("span", {}, h("span", { class: statusClass(row.status) }, row.status)));
}

function renderList() {
  const list = $("list");
  list.replaceChildren(...state.rows.map((row) => rowNode(row, false)));
  $("empty").hidden = state.rows.length > 0;
  markSelected();
}

function markSelected() {
  for (const node of $("list").children) node.classList.remove("selected");
  const row = state.rows[state.selected];
  if (!row) return;
  const node = $("row-" + row.id);
  node?.classList.add("selected");
  node?.scrollIntoView({ block: "nearest" });
}

function select(index) {
  if (!state.rows.length) return;
  state.selected = Math.max(0, Math.min(state.rows.length - 1, index));
  markSelected();
}

async function load() {
  try {
    const query = filters();
    query.set("limit", "300");
    const answer = await api("deliveries?" + query);
    state.rows = answer.deliveries;
    renderList();
  } catch (error) {
    toast("Could not load the list: " + error.message);
  }
}

function connect() {
  const live = $("live");
  const source = new EventSource("api/stream" + (token ? "?token=" + encodeURIComponent(token) : ""));
  source.onopen = () => { live.textContent = "live"; live.className = "live on"; };
  source.onerror = () => { live.textContent = "reconnecting…"; live.className = "live off"; };
  source.addEventListener("delivery", (message) => {
    const row = JSON.parse(message.data);
    if (!matches(row)) return;
    state.rows.unshift(row);
    if (state.selected >= 0) state.selected += 1;
    $("list").prepend(rowNode(row, true));
    $("empty").hidden = true;
  });
  source.addEventListener("resync", load);
}

// ---- a delivery ----

function openSelected() {
  const row = state.rows[state.selected];
  if (row) location.hash = "#/d/" + row.id;
}

function prettyBody(detail) {
  const type = (detail.headers.find(([name]) => name === "content-type") || [])[1] || "";
  let text = detail.body;
  if (type.startsWith("application/x-www-form-urlencoded")) {
    text = new URLSearchParams(text).get("payload") ?? text;
  }
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return null; }
}

function card(title, extra, ...content) {
  return h("section", { class: "card" + (extra ? " " + extra : "") }, h("h3", {}, title), ...content);
}

function renderDetail(detail) {
  const pane = $("detail");
  const pretty = prettyBody(detail);
  const bodyPre = h("pre", { class: "mono", tabindex: "0" }, pretty ?? detail.body);
  const showPretty = h("button", { type: "button", class: "ghost", onclick: () => { bodyPre.textContent = pretty ?? detail.body; } }, "pretty");
  const showRaw = h("button", { type: "button", class: "ghost", onclick: () => { bodyPre.textContent = detail.body; } }, "as sent");
  const sections = [
    h("div", { class: "title" },
      h("h2", {}, key(detail)),
      h("span", { class: statusClass(detail.status) }, detail.status),
      h("span", {}, why(detail)),
      detail.repeat ? h("span", { class: "tag" }, "repeat") : null),
    h("div", { class: "meta" },
      "GUID ", h("span", { class: "mono" }, detail.guid || "—"),
      " · ", new Date(detail.received_at_ms).toISOString(),
      " · POST ", h("span", { class: "mono" }, detail.path),
      " · signature ", h("span", { class: "mono" }, detail.verification),
      " · ", detail.body_len + " bytes" + (detail.body_complete ? "" : " (not all read)")),
    h("div", { class: "actions" },
      h("button", { type: "button", id: "act-replay", onclick: () => act("replay") }, "Replay", h("kbd", {}, "r")),
      h("button", { type: "button", class: "ghost", onclick: () => act("replay-new") }, "Replay as new", h("kbd", {}, "n")),
      h("button", { type: "button", class: "ghost", onclick: () => act("curl") }, "Copy as curl", h("kbd", {}, "c")),
      h("button", { type: "button", class: "ghost", onclick: () => act("fixture") }, "Save as fixture", h("kbd", {}, "s"))),
  ];
  if (detail.forward) {
    const f = detail.forward;
    sections.push(card("Forwarded to the app", f.status ? null : "error",
      h("div", { class: "body" }, h("span", { class: "mono" }, f.url), " answered ",
        f.status ? h("span", { class: statusClass(f.status) }, f.status) : h("strong", {}, f.error || "nothing"),
        " in " + f.latency_ms + " ms")));
  }
  if (detail.error) {
    sections.push(card("Refused: " + detail.error.code, "error",
      h("div", { class: "body" }, detail.error.path ? ["at ", h("code", {}, detail.error.path), ": "] : null, detail.error.message)));
  }
  if (detail.drift_findings.length) {
    sections.push(card("Drift: what the types do not know", "drift",
      h("table", { class: "kv" }, detail.drift_findings.map((f) => h("tr", {}, h("td", {}, f.kind), h("td", {}, f.path))))));
  }
  if (detail.typed) {
    sections.push(card(["Typed ", h("span", { class: "mono" }, detail.variant || "")], null, h("pre", { tabindex: "0" }, detail.typed)));
  }
  sections.push(h("section", { class: "card" },
    h("h3", {}, "Body", h("span", { class: "tabs" }, showPretty, showRaw)), bodyPre));
  sections.push(card("Headers", null, h("table", { class: "kv" }, detail.headers.map(([name, value]) =>
    h("tr", {}, h("td", {}, name), h("td", { class: value === "<redacted>" ? "redacted" : null }, value))))));
  pane.replaceChildren(...sections);
}

async function route() {
  const match = location.hash.match(/^#\/d\/(\d+)$/);
  if (location.hash === "#/drift") return showDrift();
  if (!match) return;
  const id = Number(match[1]);
  state.open = id;
  const index = state.rows.findIndex((row) => row.id === id);
  if (index >= 0) select(index);
  try {
    state.detail = await api("deliveries/" + id);
    if (state.open === id) renderDetail(state.detail);
  } catch (error) {
    $("detail").replaceChildren(h("p", { class: "placeholder" }, "Delivery " + id + ": " + error.message));
  }
}

async function act(action) {
  const id = state.open;
  if (id === null) return toast("Open a delivery first (Enter).");
  try {
    if (action === "curl") {
      const command = await api("deliveries/" + id + "/curl");
      await navigator.clipboard.writeText(command).then(
        () => toast("curl command copied (freshly signed)."),
        () => { $("detail").prepend(card("curl", null, h("pre", { tabindex: "0" }, command))); });
      return;
    }
    const answer = await api("deliveries/" + id + "/" + action, { method: "POST" });
    if (action === "fixture") return toast("Saved " + answer.path);
    toast((action === "replay" ? "Replayed " : "Sent as new ") + answer.guid + ": answered " + answer.status);
  } catch (error) {
    toast(action + " failed: " + error.message);
  }
}

async function showDrift() {
  state.open = null;
  try {
    const answer = await api("drift");
    const rows = answer.drift.map((line) => h("tr", {},
      h("td", {}, line.count + "×"), h("td", {}, line.event), h("td", {}, line.finding.kind),
      h("td", {}, line.finding.path || "—"), h("td", {}, "since " + line.first_seen + ", last " + line.last_seen)));
    $("detail").replaceChildren(card("Drift over the history", "drift",
      rows.length ? h("table", { class: "kv tally" },
        h("tr", {}, ["count", "event", "kind", "path", "seen"].map((name) => h("th", {}, name))), rows) : h("div", { class: "body" }, "No drift: every delivery fits the types.")));
  } catch (error) {
    toast("Could not load the drift: " + error.message);
  }
}

// ---- keyboard ----

document.addEventListener("keydown", (event) => {
  const typing = event.target.matches("input, select, textarea");
  if (event.key === "Escape") {
    if (typing) event.target.blur();
    $("list").focus();
    return;
  }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  const actions = { r: "replay", n: "replay-new", c: "curl", s: "fixture" };
  if (event.key === "j" || event.key === "ArrowDown") select(state.selected + 1);
  else if (event.key === "k" || event.key === "ArrowUp") select(state.selected - 1);
  else if (event.key === "Enter" && !event.target.matches("button")) openSelected();
  else if (event.key === "/") $("f-event").focus();
  else if (event.key === "d") location.hash = "#/drift";
  else if (actions[event.key]) act(actions[event.key]);
  else return;
  event.preventDefault();
});

let typingTimer;
$("filters").addEventListener("input", () => { clearTimeout(typingTimer); typingTimer = setTimeout(load, 200); });
$("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
$("drift-button").addEventListener("click", () => { location.hash = "#/drift"; });
window.addEventListener("hashchange", route);

load().then(() => { if (state.rows.length && state.selected < 0) select(0); route(); });
connect();
