// 同心 管理后台 — what every page shares: DOM building, the API call with the session cookie and CSRF token,
// tables, labels, the grids of the community.
export const CSRF_KEY = "tongxin.csrf";
export const ROLE_LABELS = { resident: "居民", volunteer: "志愿者", party_member: "党员", grid_worker: "网格员",
  admin: "管理员", store_keeper: "积分超市店员", street_staff: "街道工作人员", district_staff: "区里工作人员",
  department_staff: "区直部门工作人员" };
export const ROSTER_LABELS = { signed: "已报名", waitlisted: "候补", checked_in: "已签到", checked_out: "已签退",
  absent: "缺席", unsettled: "未结算", cancelled: "已取消" };
export const EVENT_LABELS = { open: "报名中", closed: "报名截止", ongoing: "进行中", ended: "已结束", cancelled: "已取消" };
export const TASK_LABELS = { review: "待审核心愿", overdue: "超时未认领（吹哨）", settle_checkin: "未签退待补录" };

// who is signed in (GET /v1/me), the page's timers; the shell (app.js) sets what a lost session and a new path do
export const state = { me: null, timers: [], signedOut: () => {}, route: () => {} };

// ---- helpers ---------------------------------------------------------------------------------------------------
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function when(iso) {
  if (!iso) return "—";
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  return m ? `${+m[2]}月${+m[3]}日 ${m[4]}:${m[5]}` : iso;
}

export function later(fn, ms) { const id = setInterval(fn, ms); state.timers.push(id); return id; }
export function stopTimers() { state.timers.forEach(clearInterval); state.timers = []; }

export function showError(message) {
  const box = document.getElementById("alert");
  box.textContent = message;
  box.hidden = !message;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `请求失败（${status}）`);
    this.status = status; this.code = body?.error?.code; this.details = body?.error?.details || {};
  }
}

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  const options = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (method !== "GET") {
    const csrf = sessionStorage.getItem(CSRF_KEY);
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  if (body !== undefined) { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
  let resp;
  try { resp = await fetch(path, options); } catch { throw new ApiError(0, { error: { message: "网络连接失败，请检查网络后重试" } }); }
  let data = null;
  if (resp.status !== 204) { try { data = await resp.json(); } catch { data = null; } }
  if (!resp.ok) {
    const error = new ApiError(resp.status, data);
    if (resp.status === 401 && !path.startsWith("/v1/console/")) {
      // Not signed in (the first visit) or the session is over (8 hours, logged out elsewhere): the login page.
      const wasIn = state.me !== null;
      sessionStorage.removeItem(CSRF_KEY);
      state.signedOut(wasIn ? `${error.message}，请重新登录` : "");
    }
    throw error;
  }
  return data;
}

// Run a page's loader; its error goes to the alert line (the API's own Chinese message).
export async function guarded(fn) {
  try { showError(""); await fn(); } catch (error) { if (error instanceof ApiError && error.status === 401) return; showError(error.message); }
}

export function table(headers, rows, empty, cls = null) {
  if (!rows.length) return el("p", { class: "muted" }, empty);
  return el("table", { class: cls },
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", class: h.endsWith("#") ? "num" : null }, h.replace(/#$/, ""))))),
    el("tbody", {}, rows));
}

export const has = (role) => state.me && state.me.roles.includes(role);
export const isStaff = () => ["admin", "grid_worker", "store_keeper", "street_staff", "district_staff", "department_staff"].some(has);

export function go(path, replace = false) {
  if (replace) history.replaceState(null, "", path); else history.pushState(null, "", path);
  state.route();
}

export function mainArea(title) {
  const main = document.getElementById("main");
  main.replaceChildren(el("h1", {}, title));
  document.title = `${title} · 同心管理后台`;
  return main;
}

let gridsCache = null;
export async function grids() {
  if (gridsCache === null) {
    try { gridsCache = (await api("GET", "/v1/admin/grids")).items; } catch (error) {
      // no grids to name: not an admin or grid worker (403), or staff above the communities (street: 409)
      if (error.status === 403 || error.status === 409) gridsCache = []; else throw error;
    }
  }
  return gridsCache;
}
export const gridName = (id, all) => (all.find((g) => g.id === id)?.name) || id || "—";
export const roleTags = (roles) => roles.map((r) => el("span", { class: `tag ${r}` }, ROLE_LABELS[r] || r));

export async function rosterAll(eventId) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < 10; i += 1) {
    const page = await api("GET", `/v1/events/${encodeURIComponent(eventId)}/roster?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// Every page of a list (at most `pages` pages of `limit`): for the screens that count or export a whole list.
export async function pagesOf(path, { limit = 100, pages = 10 } = {}) {
  const items = [];
  let cursor = null;
  const join = path.includes("?") ? "&" : "?";
  for (let i = 0; i < pages; i += 1) {
    const page = await api("GET", `${path}${join}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return { items, more: Boolean(cursor) };
}

// A CSV file the browser saves (UTF-8 with a BOM, so Excel opens the Chinese as Chinese).
export function downloadCsv(fileName, headers, rows) {
  const cell = (v) => { const s = v === null || v === undefined ? "" : String(v); return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s; };
  const text = [headers, ...rows].map((row) => row.map(cell).join(",")).join("\r\n");
  const url = URL.createObjectURL(new Blob(["\ufeff", text, "\r\n"], { type: "text/csv;charset=utf-8" }));
  const link = el("a", { href: url, download: fileName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// A note under a form: what happened, or the API's message when it was refused.
export function notice(box, text, error = false) {
  box.replaceChildren(text ? el("p", { class: error ? "notice error" : "notice" }, text) : "");
}

export const enc = encodeURIComponent;

// ---- forms, tabs and tables the pages build alike ---------------------------------------------------------------------
// A labelled field of a form: the label (with its hint) above the input.
export function field(id, label, input, hint = null) {
  return el("div", { class: "field" }, el("label", { for: id }, label, hint ? el("span", { class: "hint" }, hint) : ""), input);
}

// A select of ids (a person's streets, districts): null when there is one id or none (nothing to choose).
export function idPicker(id, name, ids, selected) {
  if (ids.length <= 1) return null;
  return el("select", { id, name }, ids.map((value) => el("option", { value, selected: selected === value }, value)));
}

// A strip of tabs over the panel `controls`: `tabs` is [[key, label], …]; a click or ←/→ calls onPick(key). The strip's
// `select(key)` marks `key` chosen (aria-selected, the one tab in the tab order).
export function tabStrip(tabs, { label, controls, current, onPick }) {
  const strip = el("div", { role: "tablist", class: "tabs", "aria-label": label },
    tabs.map(([key, text], i) => el("button", { type: "button", role: "tab", id: `tab-${key}`, "aria-controls": controls,
      "aria-selected": String(key === current), tabindex: key === current ? "0" : "-1", onclick: () => onPick(key),
      onkeydown: (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        const next = tabs[(i + step + tabs.length) % tabs.length][0];
        onPick(next);
        document.getElementById(`tab-${next}`).focus();
      } }, text)));
  strip.select = (key) => strip.querySelectorAll("[role=tab]").forEach((t) => {
    const on = t.id === `tab-${key}`;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
  });
  return strip;
}

// A table's head row: each header a label or [label, class] ("num" for a number's column).
export const headRow = (headers) => el("thead", {}, el("tr", {}, headers.map((h) => {
  const [text, cls] = Array.isArray(h) ? h : [h, null];
  return el("th", { scope: "col", class: cls }, text);
})));

// 加载更多 under a table while the list has a next page: `query` (ending in its own parameters) read at the cursor,
// its items appended to `body` as `row(item)`, until there is no cursor left.
export function moreRows(list, body, query, cursor, row, cls = "actions") {
  if (!cursor) return;
  const more = el("div", { class: cls }, el("button", { type: "button", class: "secondary more", onclick: () => guarded(async () => {
    const next = await api("GET", `${query}&cursor=${enc(cursor)}`);
    body.append(...next.items.map(row));
    cursor = next.next_cursor;
    if (!cursor) more.remove();
  }) }, "加载更多"));
  list.append(more);
}

// ---- days in Shanghai time ----------------------------------------------------------------------------------------------
export function shanghaiToday() {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric",
    month: "2-digit", day: "2-digit" }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  return [Number(parts.year), Number(parts.month), Number(parts.day)];
}
export const isoDay = (date) => date.toISOString().slice(0, 10);
// 2026年12月6日 of an ISO date (or date-time); "—" for none.
export const dayName = (iso) => { if (!iso) return "—"; const [y, m, d] = iso.slice(0, 10).split("-"); return `${y}年${+m}月${+d}日`; };

// ---- a request's clock (接诉即办): the work page's and the requests page's --------------------------------------------
export const WAITING = ["submitted", "escalated"];  // waiting for an answer at its level: the answer limit runs
export const IN_HAND = ["accepted", "reopened"];    // someone has it: the solve limit runs

// A duration in words: 12 分钟 · 3 小时 20 分 · 2 天 4 小时 (`coarse`: whole hours).
export function span(ms, coarse = false) {
  const m = Math.max(1, Math.floor(ms / 60000));
  if (m < 60) return `${m} 分钟`;
  const h = Math.floor(m / 60);
  if (h < 24) return coarse || !(m % 60) ? `${h} 小时` : `${h} 小时 ${m % 60} 分`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} 天 ${h % 24} 小时` : `${d} 天`;
}

// The limit that runs now — {kind: 响应|办结, due, text: 剩 …|超时 …, cls: ok (over half of it left) | warn | late} —
// or null when none runs (resolved, closed). The limit's length is the request's own (answer_minutes, solve_minutes).
export function requestClock(r) {
  const waiting = WAITING.includes(r.status);
  const due = waiting ? r.answer_due : IN_HAND.includes(r.status) ? r.solve_due : null;
  if (!due) return null;
  const left = Date.parse(due) - Date.now();
  const total = (waiting ? r.answer_minutes : r.solve_minutes) * 60000;
  return { kind: waiting ? "响应" : "办结", due, text: left < 0 ? `超时 ${span(-left, true)}` : `剩 ${span(left)}`,
    cls: left < 0 ? "late" : left > total / 2 ? "ok" : "warn" };
}
