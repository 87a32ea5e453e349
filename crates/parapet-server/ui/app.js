// Parapet's web UI: every view is drawn from the API under /api/v1; the
// page loads nothing from anywhere else. Text from the API is only ever set
// as text (never as HTML), and changes carry the session's CSRF token.
"use strict";

const state = { session: null, stream: null, onEvent: null };
const SEVERITIES = ["critical", "high", "medium", "low", "informational"];

// ---- DOM helpers ----------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = tag.startsWith("svg:")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const main = () => document.getElementById("main");

function show(...nodes) {
  main().replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== ""));
}

function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 3000);
}

const sev = (s) => h("span", { class: `sev ${s}`, text: s });
const status = (s) => h("span", { class: `status ${s || "pass"}`, text: s || "passing" });
const when = (t) => (t ? new Date(t).toLocaleString() : "");
const assetLink = (id, label) => h("a", { href: `#/asset/${encodeURIComponent(id)}`, text: label || id });
const short = (id) => (id.length > 60 ? `…${id.slice(-58)}` : id);

function table(headers, rows, opts = {}) {
  return h("table", { class: opts.class || "", id: opts.id || null },
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { class: x.endsWith("#") ? "num" : "", text: x.replace(/#$/, "") })))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: headers.length, class: "muted", text: "Nothing here." }))));
}

// ---- API -----------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function api(path, opts = {}) {
  const init = { method: opts.method || "GET", headers: {}, credentials: "same-origin" };
  if (opts.body !== undefined) {
    init.body = JSON.stringify(opts.body);
    init.headers["content-type"] = "application/json";
  }
  if (init.method !== "GET" && state.session?.csrf_token) {
    init.headers["x-csrf-token"] = state.session.csrf_token;
  }
  const response = await fetch(`/api/v1${path}`, init);
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && path !== "/session") {
      state.session = null;
      renderLogin("Your session has ended; log in again.");
    }
    throw new ApiError(response.status, body);
  }
  return body;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined && v !== false) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

function failed(error) {
  show(h("div", { class: "panel error", text: `Could not load: ${error.message}` }));
}

// ---- session -------------------------------------------------------------

async function start() {
  try {
    state.session = await api("/session");
  } catch (e) {
    return failed(e);
  }
  // A login through the identity provider that failed comes back with why.
  const loginError = new URLSearchParams(location.search).get("login_error");
  if (loginError !== null) history.replaceState(null, "", `/${location.hash}`);
  if (!state.session.authenticated) return renderLogin(loginError || "");
  afterLogin();
}

function afterLogin() {
  const who = document.getElementById("who");
  const logout = state.session.auth_required
    ? h("button", { id: "logout", onclick: async () => {
      await api("/session", { method: "DELETE" }).catch(() => null);
      location.reload();
    } }, "Log out")
    : null;
  who.replaceChildren(`${state.session.name} (${state.session.scope})`, logout || "");
  connectStream();
  window.addEventListener("hashchange", route);
  route();
}

function renderLogin(message) {
  document.getElementById("nav").hidden = true;
  const input = h("input", { id: "token", type: "password", placeholder: "ppt_…", autocomplete: "off" });
  const error = h("p", { class: "error", id: "login-error", text: message || "" });
  const form = h("form", { class: "panel login", id: "login", onsubmit: async (event) => {
    event.preventDefault();
    try {
      state.session = await api("/session", { method: "POST", body: { token: input.value.trim() } });
      document.getElementById("nav").hidden = false;
      afterLogin();
    } catch (e) {
      error.textContent = e.message;
    }
  } },
  h("h1", { text: "Log in to Parapet" }),
  state.session?.oidc ? [h("p", {}, h("a", { class: "primary", id: "login-sso", href: "/auth/oidc/login", text: "Log in with your identity provider" })), h("p", { class: "muted", text: "or" })] : "",
  h("p", { class: "muted", text: "Paste an API token. Create one with: parapet tokens create --name NAME" }),
  input, h("button", { class: "primary", type: "submit", id: "login-submit" }, "Log in"), error);
  show(form);
  input.focus();
}

// ---- live updates ----------------------------------------------------------

function connectStream() {
  if (state.stream) return;
  const indicator = document.getElementById("live");
  const source = new EventSource("/api/v1/stream");
  state.stream = source;
  source.onopen = () => indicator.classList.remove("off");
  source.onerror = () => indicator.classList.add("off");
  source.addEventListener("timeline", (message) => {
    const event = JSON.parse(message.data);
    if (state.onEvent) state.onEvent(event);
  });
}

function eventItem(e, fresh) {
  return h("li", { class: fresh ? "fresh" : "" },
    h("span", { class: "muted", text: `${when(e.at)} ` }),
    h("span", { class: "kind", text: e.kind }), " ",
    assetLink(e.asset_id, short(e.asset_id)),
    e.rule_id ? h("span", { class: "muted", text: ` ${e.rule_id}` }) : "",
    e.detail?.by || e.detail?.author ? h("span", { class: "muted", text: ` by ${e.detail.by || e.detail.author}` }) : "");
}

// ---- router ----------------------------------------------------------------

const routes = [
  [/^#?\/?$/, "overview", overview],
  [/^#\/inventory/, "inventory", inventory],
  [/^#\/asset\/(.+)$/, "inventory", asset],
  [/^#\/findings/, "findings", findings],
  [/^#\/compliance\/(.+)$/, "compliance", framework],
  [/^#\/compliance/, "compliance", compliance],
  [/^#\/timeline/, "timeline", timeline],
  [/^#\/incidents/, "incidents", incidents],
  [/^#\/topology/, "topology", topology],
];

function hashParams() {
  const i = location.hash.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : location.hash.slice(i + 1));
}

function setHashParams(base, params) {
  location.hash = `${base}${query(params)}`;
}

function route() {
  const hash = location.hash.split("?")[0];
  state.onEvent = null;
  for (const [pattern, page, view] of routes) {
    const m = hash.match(pattern);
    if (m) {
      for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === page);
      view(m[1] ? decodeURIComponent(m[1]) : undefined).catch(failed);
      return;
    }
  }
  show(h("p", { text: "No such page." }));
}

// ---- overview --------------------------------------------------------------

function severityBars(counts) {
  const max = Math.max(1, ...SEVERITIES.map((s) => counts[s] || 0));
  return h("div", { class: "bars" }, SEVERITIES.map((s) => {
    const fill = h("div", { class: `fill ${s}` });
    fill.style.width = `${((counts[s] || 0) * 100) / max}%`;
    return h("div", { class: "row" }, sev(s), h("div", {}, fill),
      h("a", { class: "num", href: `#/findings?severity=${s}`, text: String(counts[s] || 0) }));
  }));
}

function trendChart(trend) {
  const w = 560, hgt = 160, pad = 24;
  const max = Math.max(1, ...trend.map((d) => Math.max(d.opened, d.resolved)));
  const x = (i) => pad + (i * (w - 2 * pad)) / Math.max(1, trend.length - 1);
  const y = (v) => hgt - pad - (v * (hgt - 2 * pad)) / max;
  const line = (key) => h("svg:polyline", { class: key, points: trend.map((d, i) => `${x(i)},${y(d[key])}`).join(" ") });
  return h("svg:svg", { class: "trend", viewBox: `0 0 ${w} ${hgt}`, width: "100%", role: "img", "aria-label": "Findings opened and resolved per day" },
    h("svg:line", { class: "axis", x1: pad, y1: hgt - pad, x2: w - pad, y2: hgt - pad }),
    line("opened"), line("resolved"),
    h("svg:text", { x: pad, y: hgt - 6 }, trend[0]?.day || ""),
    h("svg:text", { x: w - pad - 60, y: hgt - 6 }, trend[trend.length - 1]?.day || ""),
    h("svg:text", { x: pad, y: 12 }, `max ${max} a day · red opened · green resolved`));
}

async function overview() {
  const o = await api("/overview");
  const score = o.posture_score === null ? "–" : `${o.posture_score.toFixed(1)}%`;
  const open = SEVERITIES.reduce((n, s) => n + (o.open_by_severity[s] || 0), 0);
  const events = h("ul", { class: "events", id: "newest-events" }, o.newest_events.map((e) => eventItem(e)));
  state.onEvent = (e) => {
    events.prepend(eventItem(e, true));
    while (events.children.length > 30) events.lastChild.remove();
  };
  show(
    h("h1", { text: "Overview" }),
    h("div", { class: "grid" },
      h("div", { class: "card" }, h("div", { class: "label", text: "Posture score" }), h("div", { class: "score", id: "posture-score", text: score })),
      h("div", { class: "card" }, h("div", { class: "label", text: "Assets" }), h("div", { class: "value", id: "asset-count", text: o.assets.toLocaleString() })),
      h("div", { class: "card" }, h("div", { class: "label", text: "Open findings" }), h("div", { class: "value", id: "open-count", text: open.toLocaleString() })),
      h("div", { class: "card" }, h("div", { class: "label", text: "Muted" }), h("div", { class: "value", text: o.muted.toLocaleString() })),
      h("div", { class: "card" }, h("div", { class: "label", text: "Accounts" }), h("div", { class: "value", text: String(o.accounts.length) }))),
    h("div", { class: "two" },
      h("div", { class: "panel" }, h("h2", { text: "Open findings by severity" }), severityBars(o.open_by_severity)),
      h("div", { class: "panel" }, h("h2", { text: "Trend, 30 days" }), trendChart(o.trend))),
    h("div", { class: "two" },
      h("div", { class: "panel" }, h("h2", { text: "By account" }),
        table(["Account", "Assets#", "Critical#", "High#", "Medium#", "Low#", "Score#"], o.accounts.map((a) => h("tr", {},
          h("td", {}, h("a", { href: `#/findings?account=${a.account}`, text: a.account })),
          h("td", { class: "num", text: a.assets.toLocaleString() }),
          ...["critical", "high", "medium", "low"].map((s) => h("td", { class: "num", text: String(a.open_by_severity[s] || 0) })),
          h("td", { class: "num", text: a.posture_score === null ? "–" : `${a.posture_score.toFixed(1)}%` }))))),
      h("div", { class: "panel" }, h("h2", { text: "Newest events" }), events)));
}

// ---- inventory -------------------------------------------------------------

function select(name, values, current, all) {
  return h("label", {}, name,
    h("select", { name, id: `filter-${name}` }, h("option", { value: "", text: all }),
      Object.entries(values).map(([v, n]) => h("option", { value: v, selected: v === current, text: `${v} (${n})` }))));
}

async function inventory() {
  const p = hashParams();
  const f = await api("/facets");
  const params = { type: p.get("type") || "", account: p.get("account") || "", region: p.get("region") || "", tag: p.get("tag") || "", q: p.get("q") || "", cursor: p.get("cursor") || "", limit: 50 };
  const page = await api(`/assets${query(params)}`);
  const form = h("form", { class: "filters", id: "inventory-filters", onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(form);
    setHashParams("#/inventory", Object.fromEntries([...data.entries()]));
  } },
  select("type", f.resource_types, params.type, "Every type"),
  select("account", f.accounts, params.account, "Every account"),
  select("region", f.regions, params.region, "Every region"),
  h("label", {}, "Tag", h("input", { name: "tag", id: "filter-tag", value: params.tag, placeholder: "key or key=value" })),
  h("label", {}, "Search", h("input", { name: "q", id: "filter-q", value: params.q, placeholder: "id or name" })),
  h("button", { class: "primary", type: "submit", id: "apply-filters" }, "Filter"));
  const rows = page.items.map((a) => h("tr", {},
    h("td", {}, assetLink(a.id, a.name || a.id), h("div", { class: "muted", text: short(a.id) })),
    h("td", { text: a.resource_type }), h("td", { text: a.account }), h("td", { text: a.region }),
    h("td", {}, Object.entries(a.tags).map(([k, v]) => h("span", { class: "tag", text: `${k}=${v}` }))),
    h("td", { class: "num", text: String(a.open_findings) })));
  const next = page.next_cursor
    ? h("button", { id: "next-page", onclick: () => setHashParams("#/inventory", { ...params, limit: "", cursor: page.next_cursor }) }, "Next page")
    : null;
  show(h("h1", { text: "Inventory" }), form,
    h("p", { class: "muted", id: "asset-total", text: `${page.total.toLocaleString()} assets match` }),
    table(["Asset", "Type", "Account", "Region", "Tags", "Open findings#"], rows, { id: "assets" }),
    h("div", { class: "pager" }, params.cursor ? h("a", { href: "#/inventory", text: "First page" }) : "", next));
}

// ---- one asset -------------------------------------------------------------

function muteButton(f, after) {
  if (f.muted_by) {
    return h("button", { class: "unmute", onclick: async () => {
      await api("/findings/unmute", { method: "POST", body: { rule_id: f.rule_id, asset_id: f.asset_id } });
      toast("Unmuted");
      after();
    } }, "Unmute");
  }
  if (!f.status || f.status === "resolved") return "";
  return h("button", { class: "mute", onclick: () => muteDialog([f], after) }, "Mute");
}

function muteDialog(list, after) {
  const reason = h("input", { id: "mute-reason", placeholder: "Why the risk is accepted", required: true });
  const expiry = h("input", { id: "mute-expiry", type: "date" });
  const error = h("p", { class: "error" });
  const dialog = h("form", { class: "panel", id: "mute-form", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const body = { reason: reason.value, findings: list.map((f) => ({ rule_id: f.rule_id, asset_id: f.asset_id })) };
      if (expiry.value) body.expires_at = new Date(`${expiry.value}T00:00:00Z`).toISOString();
      const done = await api("/mutes", { method: "POST", body });
      toast(`Muted ${done.muted_findings} finding${done.muted_findings === 1 ? "" : "s"}`);
      after();
    } catch (e) {
      error.textContent = e.message;
    }
  } },
  h("h2", { text: `Mute ${list.length} finding${list.length === 1 ? "" : "s"}` }),
  h("div", { class: "filters" }, h("label", {}, "Reason", reason), h("label", {}, "Expires (optional)", expiry),
    h("button", { class: "primary", type: "submit", id: "mute-submit" }, "Mute"),
    h("button", { type: "button", onclick: () => dialog.remove() }, "Cancel")), error);
  main().prepend(dialog);
  reason.focus();
}

function findingRows(list, after, opts = {}) {
  return list.map((f) => h("tr", { "data-rule": f.rule_id, "data-asset": f.asset_id },
    opts.select ? h("td", {}, h("input", { type: "checkbox", class: "checkbox pick", "data-rule": f.rule_id, "data-asset": f.asset_id })) : null,
    h("td", {}, sev(f.severity)),
    h("td", {}, h("div", { text: f.rule_id }), h("div", { class: "muted", text: f.message })),
    opts.asset ? h("td", {}, assetLink(f.asset_id, short(f.asset_id))) : null,
    opts.asset ? h("td", { text: f.account }) : null,
    h("td", {}, status(f.status), f.muted_by ? h("span", { class: "tag", text: `muted #${f.muted_by}` }) : ""),
    h("td", { text: when(f.first_seen) }),
    h("td", {}, muteButton(f, after))));
}

async function asset(id) {
  const a = await api(`/assets/${encodeURIComponent(id)}`);
  const history = await api(`/assets/${encodeURIComponent(id)}/history`);
  const doc = a.version.asset;
  const diffBox = h("div", { id: "diff" });
  const showDiff = async (from, to) => {
    const d = await api(`/assets/${encodeURIComponent(id)}/diff${query({ from, to })}`);
    diffBox.replaceChildren(h("h2", { text: `Version ${d.from.version} → ${d.to.version}` }),
      table(["Field", "Change", "Before", "After"], d.changes.map((c) => h("tr", { class: `diff-${c.kind}` },
        h("td", {}, h("code", { text: c.path })), h("td", { text: c.kind }),
        h("td", {}, h("code", { text: c.old === undefined ? "" : JSON.stringify(c.old) })),
        h("td", {}, h("code", { text: c.new === undefined ? "" : JSON.stringify(c.new) })))), { id: "diff-table" }));
  };
  const versions = history.items.map((v, i) => h("tr", {},
    h("td", { class: "num", text: String(v.version) }), h("td", { text: when(v.observed_at) }),
    h("td", {}, h("code", { text: v.content_hash.slice(0, 12) })),
    h("td", {}, i > 0 ? h("button", { class: "show-diff", onclick: () => showDiff(history.items[i - 1].version, v.version) }, "Diff with previous") : h("span", { class: "muted", text: "first seen" }))));
  const vulns = a.vulnerabilities;
  const exposures = a.exposure.map((e) => h("tr", {},
    h("td", { text: `${e.protocol}/${e.from_port}${e.to_port !== e.from_port ? `-${e.to_port}` : ""}` }),
    h("td", { text: e.source }), h("td", { text: e.address }),
    h("td", {}, e.path.map((hop) => hop.label).join(" → "))));
  show(
    h("h1", { text: doc.name || doc.id }),
    h("p", { class: "muted" }, h("code", { text: doc.id }), ` · ${doc.resource_type} · ${doc.account} · ${doc.region} · version ${a.version.version}, observed ${when(a.version.observed_at)}`),
    h("div", {}, Object.entries(doc.tags || {}).map(([k, v]) => h("span", { class: "tag", text: `${k}=${v}` }))),
    h("h2", { text: "Findings" }),
    table(["Severity", "Rule", "Status", "First seen", ""], findingRows(a.findings, () => asset(id)), { id: "asset-findings" }),
    a.exposure.length ? [h("h2", { text: "Reached from the internet" }),
      table(["Ports", "From", "Address", "Path"], exposures, { id: "asset-exposure" }),
      h("p", {}, h("a", { id: "show-path", href: `#/topology${query({ account: doc.account, path: doc.id })}`, text: "Show the exposure path on the topology" }))] : "",
    a.public_by_policy.length ? [h("h2", { text: "Open to everyone by policy" }), h("pre", { text: JSON.stringify(a.public_by_policy, null, 2) })] : "",
    h("h2", { text: "Vulnerabilities" }),
    vulns ? [h("p", { class: "muted", text: `${vulns.target}: ${vulns.packages} packages scanned ${when(vulns.scanned_at)}` }),
      table(["Severity", "Advisory", "Package", "Installed", "Fixed in"], vulns.vulnerabilities.map((v) => h("tr", {},
        h("td", {}, v.severity ? sev(v.severity) : "–"), h("td", { text: v.advisory }), h("td", { text: v.package }),
        h("td", { text: v.version }), h("td", { text: v.fixed || "no fix" }))), { id: "asset-vulnerabilities" })]
      : h("p", { class: "muted", text: "No vulnerability scan attached (parapet vuln scan --asset)." }),
    h("h2", { text: "Relationships" }),
    table(["Relationship", "Asset"], (doc.relationships || []).map((r) => h("tr", {}, h("td", { text: r.kind }), h("td", {}, assetLink(r.target, short(r.target)))))),
    h("h2", { text: "History" }),
    table(["Version#", "Observed", "Hash", ""], versions, { id: "history" }), diffBox,
    h("h2", { text: "Configuration" }), h("pre", { id: "config", text: JSON.stringify(doc.config, null, 2) }));
}

// ---- findings --------------------------------------------------------------

async function findings() {
  const p = hashParams();
  const [f, comp] = await Promise.all([api("/facets"), api("/compliance")]);
  const params = { status: p.get("status") || "", severity: p.get("severity") || "", account: p.get("account") || "", framework: p.get("framework") || "", rule: p.get("rule") || "", include_muted: p.get("include_muted") || "", cursor: p.get("cursor") || "", limit: 100 };
  const page = await api(`/findings${query(params)}`);
  const form = h("form", { class: "filters", id: "finding-filters", onsubmit: (event) => {
    event.preventDefault();
    const data = Object.fromEntries([...new FormData(form).entries()]);
    setHashParams("#/findings", data);
  } },
  h("label", {}, "Status", h("select", { name: "status" }, ["", "open,reopened", "resolved", "open,reopened,resolved"].map((s) => h("option", { value: s, selected: s === params.status, text: s || "open" })))),
  h("label", {}, "Severity", h("select", { name: "severity", id: "filter-severity" }, h("option", { value: "", text: "any" }), SEVERITIES.map((s) => h("option", { value: s, selected: s === params.severity, text: s })))),
  select("account", f.accounts, params.account, "Every account"),
  h("label", {}, "Framework", h("select", { name: "framework" }, h("option", { value: "", text: "any" }), comp.items.map((x) => h("option", { value: x.id, selected: x.id === params.framework, text: x.name })))),
  h("label", {}, "Rule", h("input", { name: "rule", value: params.rule, placeholder: "rule id" })),
  h("label", {}, "Muted", h("select", { name: "include_muted" }, h("option", { value: "", text: "hidden" }), h("option", { value: "true", selected: params.include_muted === "true", text: "shown" }))),
  h("button", { class: "primary", type: "submit" }, "Filter"));
  const reload = () => findings();
  const picked = () => [...document.querySelectorAll(".pick:checked")].map((c) => ({ rule_id: c.dataset.rule, asset_id: c.dataset.asset }));
  const bulk = h("button", { id: "bulk-mute", onclick: () => {
    const list = picked();
    if (list.length) muteDialog(list, reload); else toast("Pick findings first");
  } }, "Mute selected");
  const all = h("input", { type: "checkbox", class: "checkbox", id: "pick-all", onchange: () => {
    for (const c of document.querySelectorAll(".pick")) c.checked = all.checked;
  } });
  const headers = ["", "Severity", "Rule", "Asset", "Account", "Status", "First seen", ""];
  const t = table(headers, findingRows(page.items, reload, { select: true, asset: true }), { id: "findings" });
  t.querySelector("th").replaceChildren(all);
  const next = page.next_cursor ? h("button", { id: "next-page", onclick: () => setHashParams("#/findings", { ...params, limit: "", cursor: page.next_cursor }) }, "Next page") : null;
  show(h("h1", { text: "Findings" }), form, h("div", { class: "pager" }, bulk), t,
    h("div", { class: "pager" }, params.cursor ? h("a", { href: "#/findings", text: "First page" }) : "", next));
}

// ---- compliance ------------------------------------------------------------

async function compliance() {
  const c = await api("/compliance");
  show(h("h1", { text: "Compliance" }),
    c.items.map((fw) => h("div", { class: "panel framework", "data-framework": fw.id },
      h("h2", {}, h("a", { href: `#/compliance/${encodeURIComponent(fw.id)}`, text: `${fw.name} ${fw.version}` }), h("span", { class: "muted", text: ` · ${fw.controls} controls` })),
      table(["Account", "Passing", "Pass#", "Fail#", "Unknown#", "Manual#"], fw.accounts.map((a) => {
        const bar = h("div");
        bar.style.width = `${a.passing_percent}%`;
        return h("tr", {}, h("td", { text: a.account }),
          h("td", {}, h("div", { class: "bar" }, bar), h("span", { class: "muted", text: `${a.passing_percent.toFixed(1)}%` })),
          ...["pass", "fail", "unknown", "manual"].map((s) => h("td", { class: "num", text: String(a.counts[s] || 0) })));
      })))));
}

async function framework(id) {
  const account = hashParams().get("account") || "";
  const fw = await api(`/compliance/${encodeURIComponent(id)}${query({ account })}`);
  show(h("h1", { text: `${fw.name} ${fw.version}` }), h("p", {}, h("a", { href: "#/compliance", text: "← Every framework" })),
    fw.accounts.map((a) => h("div", { class: "panel" },
      h("h2", { text: `Account ${a.account}: ${a.passing_percent.toFixed(1)}% of controls pass` }),
      table(["Control", "Title", "Status", "Results", ""], a.controls.map((c) => h("tr", { class: "control", "data-control": c.control.id },
        h("td", { text: c.control.id }), h("td", { text: c.control.title }), h("td", {}, status(c.status)),
        h("td", { class: "muted", text: c.rules.length ? `${c.results.fail} fail · ${c.results.pass} pass · ${c.results.unknown + c.results.error} unknown` : "no rule" }),
        h("td", {}, c.status === "fail" ? h("a", { href: `#/findings${query({ framework: fw.id, account: a.account, rule: c.rules.join(",") })}`, text: "findings" }) : "")))))));
}

// ---- timeline and incidents ------------------------------------------------

async function timeline() {
  const p = hashParams();
  const params = { kind: p.get("kind") || "", account: p.get("account") || "", asset: p.get("asset") || "", cursor: p.get("cursor") || "", limit: 100 };
  const page = await api(`/events${query(params)}`);
  const list = h("ul", { class: "events", id: "timeline" }, page.items.map((e) => eventItem(e)));
  if (!params.cursor) {
    state.onEvent = (e) => {
      if ((!params.kind || params.kind.split(",").includes(e.kind)) && (!params.account || params.account === e.account)) list.prepend(eventItem(e, true));
    };
  }
  const form = h("form", { class: "filters", onsubmit: (event) => {
    event.preventDefault();
    setHashParams("#/timeline", Object.fromEntries([...new FormData(form).entries()]));
  } },
  h("label", {}, "Kind", h("select", { name: "kind" }, h("option", { value: "", text: "every kind" }),
    ["asset_created", "asset_changed", "asset_deleted", "finding_opened", "finding_resolved", "finding_reopened", "finding_muted", "finding_unmuted", "incident_acknowledged", "incident_resolved"].map((k) => h("option", { value: k, selected: k === params.kind, text: k })))),
  h("label", {}, "Account", h("input", { name: "account", value: params.account })),
  h("button", { class: "primary", type: "submit" }, "Filter"));
  const next = page.next_cursor ? h("button", { id: "next-page", onclick: () => setHashParams("#/timeline", { ...params, limit: "", cursor: page.next_cursor }) }, "Older") : null;
  show(h("h1", { text: "Timeline" }), form, h("div", { class: "panel" }, list), h("div", { class: "pager" }, next));
}

async function incidents() {
  const p = hashParams();
  const params = { status: p.get("status") || "", cursor: p.get("cursor") || "", limit: 50 };
  const page = await api(`/incidents${query(params)}`);
  const act = (i, what) => h("button", { class: what, onclick: async () => {
    await api(`/incidents/${i.id}/${what}`, { method: "POST", body: {} });
    toast(`Incident ${i.id}: ${what}d`);
    incidents();
  } }, what === "acknowledge" ? "Take" : "Resolve");
  const rows = page.items.map((i) => h("tr", {},
    h("td", { class: "num", text: String(i.id) }), h("td", {}, sev(i.severity)), h("td", { text: i.title }),
    h("td", {}, status(i.status)), h("td", { text: i.owner || "" }), h("td", { class: "num", text: `${i.open_findings}/${i.findings.length}` }),
    h("td", { text: when(i.opened_at) }),
    h("td", {}, i.status === "open" ? act(i, "acknowledge") : "", i.status !== "resolved" ? act(i, "resolve") : "")));
  const next = page.next_cursor ? h("button", { onclick: () => setHashParams("#/incidents", { ...params, limit: "", cursor: page.next_cursor }) }, "Older") : null;
  show(h("h1", { text: "Incidents" }),
    h("div", { class: "filters" }, ["", "open", "acknowledged", "resolved"].map((s) => h("a", { href: `#/incidents${query({ status: s })}`, text: s || "all" }))),
    table(["#", "Severity", "Title", "Status", "Owner", "Open findings#", "Opened", ""], rows, { id: "incidents" }),
    h("div", { class: "pager" }, next));
}

// ---- topology --------------------------------------------------------------

// Columns from the internet inwards.
const RANK = {
  Internet: 0, "AWS::EC2::InternetGateway": 1, "AWS::EC2::NatGateway": 1, "AWS::EC2::VPCPeeringConnection": 1, "AWS::EC2::TransitGateway": 1,
  "AWS::EC2::RouteTable": 2, "AWS::EC2::NetworkAcl": 3, "AWS::EC2::Subnet": 4, "AWS::ElasticLoadBalancingV2::LoadBalancer": 5,
  "AWS::ElasticLoadBalancingV2::Listener": 5, "AWS::ElasticLoadBalancingV2::TargetGroup": 6, "AWS::EC2::SecurityGroup": 6,
  "AWS::EC2::NetworkInterface": 7, "AWS::EC2::Instance": 8, "AWS::RDS::DBInstance": 8,
};

function layout(nodes) {
  const columns = new Map();
  for (const n of nodes) {
    const r = RANK[n.kind] ?? 7;
    if (!columns.has(r)) columns.set(r, []);
    columns.get(r).push(n);
  }
  const ranks = [...columns.keys()].sort((a, b) => a - b);
  const pos = new Map();
  ranks.forEach((r, ci) => {
    const col = columns.get(r).sort((a, b) => (a.vpc || "").localeCompare(b.vpc || "") || a.label.localeCompare(b.label));
    col.forEach((n, i) => pos.set(n.id, { x: 40 + ci * 190, y: 40 + i * 56 }));
  });
  return pos;
}

async function topology() {
  const p = hashParams();
  const params = { account: p.get("account") || "", vpc: p.get("vpc") || "", region: p.get("region") || "", path: p.get("path") || "" };
  const f = await api("/facets");
  let g;
  try {
    g = await api(`/topology${query(params)}`);
  } catch (e) {
    if (e.status !== 404 || !params.path) throw e;
    toast(e.message);
    g = await api(`/topology${query({ ...params, path: "" })}`);
  }
  const pos = layout(g.nodes);
  const onPath = new Set((g.path?.path || []).map((hop) => hop.id));
  const pathPairs = new Set();
  const hops = g.path?.path || [];
  for (let i = 1; i < hops.length; i++) {
    pathPairs.add(`${hops[i - 1].id}|${hops[i].id}`);
    pathPairs.add(`${hops[i].id}|${hops[i - 1].id}`);
  }
  const info = h("div", { class: "graph-info", id: "node-info" }, h("p", { class: "muted", text: "Click a node for its details; pick an exposed asset to draw how the internet reaches it." }));
  const svg = h("svg:svg", { id: "graph", viewBox: "0 0 1800 900", role: "img", "aria-label": "Topology graph" });
  const edgeLayer = h("svg:g", {});
  const nodeLayer = h("svg:g", {});
  svg.append(edgeLayer, nodeLayer);
  const edgeEls = [];
  for (const e of g.edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    const path = pathPairs.has(`${e.from}|${e.to}`);
    const el = h("svg:path", { class: `edge${path ? " on-path" : ""}`, d: `M${a.x + 150},${a.y + 18} C${a.x + 180},${a.y + 18} ${b.x - 30},${b.y + 18} ${b.x},${b.y + 18}`, "data-from": e.from, "data-to": e.to },
      h("svg:title", { text: `${e.kind} ${e.label}` }));
    edgeEls.push(el);
    edgeLayer.append(el);
  }
  let maxY = 0, maxX = 0;
  for (const n of g.nodes) {
    const { x, y } = pos.get(n.id);
    maxY = Math.max(maxY, y); maxX = Math.max(maxX, x);
    const cls = ["node", n.exposed ? "exposed" : "", n.kind === "Internet" ? "internet" : "", onPath.has(n.id) ? "on-path" : ""].filter(Boolean).join(" ");
    const el = h("svg:g", { class: cls, transform: `translate(${x},${y})`, "data-id": n.id, onclick: () => {
      for (const s of nodeLayer.querySelectorAll(".selected")) s.classList.remove("selected");
      el.classList.add("selected");
      for (const edge of edgeEls) edge.classList.toggle("near", edge.dataset.from === n.id || edge.dataset.to === n.id);
      const mine = g.exposures.filter((x) => x.asset_id === n.id);
      info.replaceChildren(h("h2", { text: n.label }), h("p", { class: "muted", text: n.kind }),
        n.kind !== "Internet" && n.id.startsWith("arn:") ? h("p", {}, assetLink(n.id, "Open the asset")) : "",
        mine.length ? h("ul", {}, mine.map((x) => h("li", { text: `${x.protocol}/${x.from_port}-${x.to_port} from ${x.source}` }))) : "",
        mine.length ? h("button", { class: "primary", onclick: () => setHashParams("#/topology", { ...params, path: n.id }) }, "Draw its exposure path") : "");
    } },
    h("svg:rect", { width: 150, height: 36, rx: 6 }),
    h("svg:text", { x: 8, y: 15, text: n.label.length > 22 ? `${n.label.slice(0, 21)}…` : n.label }),
    h("svg:text", { x: 8, y: 29, class: "muted", text: n.kind.replace("AWS::", "") }));
    nodeLayer.append(el);
  }
  let view = { x: 0, y: 0, w: Math.max(900, maxX + 220), h: Math.max(480, maxY + 80) };
  const applyView = () => svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  applyView();
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const k = event.deltaY > 0 ? 1.15 : 0.87;
    view = { x: view.x, y: view.y, w: view.w * k, h: view.h * k };
    applyView();
  }, { passive: false });
  let drag = null;
  svg.addEventListener("mousedown", (event) => { drag = { x: event.clientX, y: event.clientY, view: { ...view } }; });
  window.addEventListener("mouseup", () => { drag = null; });
  svg.addEventListener("mousemove", (event) => {
    if (!drag) return;
    const scale = view.w / svg.clientWidth;
    view = { ...drag.view, x: drag.view.x - (event.clientX - drag.x) * scale, y: drag.view.y - (event.clientY - drag.y) * scale };
    applyView();
  });
  const exposed = [...new Set(g.exposures.map((e) => e.asset_id))];
  const form = h("form", { class: "filters", id: "topology-filters", onsubmit: (event) => {
    event.preventDefault();
    setHashParams("#/topology", Object.fromEntries([...new FormData(form).entries()]));
  } },
  select("account", f.accounts, params.account, "Every account"),
  h("label", {}, "VPC", h("input", { name: "vpc", value: params.vpc, placeholder: "vpc-…" })),
  h("label", {}, "Exposure path of", h("select", { name: "path", id: "path-select" }, h("option", { value: "", text: "none" }),
    exposed.map((id) => h("option", { value: id, selected: id === params.path, text: g.nodes.find((n) => n.id === id)?.label || id })))),
  h("button", { class: "primary", type: "submit", id: "draw" }, "Draw"));
  const pathText = g.path ? h("p", { id: "path-text" }, h("strong", { text: "Exposure path: " }), hops.map((hop) => hop.label).join(" → "),
    h("span", { class: "muted", text: ` (${g.path.protocol}/${g.path.from_port}-${g.path.to_port} from ${g.path.source})` })) : "";
  show(h("h1", { text: "Topology" }), form,
    h("div", { class: "legend" }, h("span", { class: "l-exposed", text: "reached from the internet" }), h("span", { class: "l-path", text: "exposure path" }), h("span", { text: `${g.nodes.length} nodes, ${g.edges.length} edges; scroll to zoom, drag to pan` })),
    pathText, h("div", { class: "graph-wrap" }, svg, info));
}

start();
