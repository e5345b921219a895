// 同心 管理后台: a plain ES module, no framework. Every screen is built with DOM calls (no innerHTML of data), every
// read and write goes to the /v1 routes with the session cookie; a write carries X-CSRF-Token.
const CSRF_KEY = "tongxin.csrf";
const ROLE_LABELS = { resident: "居民", volunteer: "志愿者", party_member: "党员", grid_worker: "网格员",
  admin: "管理员", store_keeper: "积分超市店员" };
const ROSTER_LABELS = { signed: "已报名", waitlisted: "候补", checked_in: "已签到", checked_out: "已签退",
  absent: "缺席", unsettled: "未结算", cancelled: "已取消" };
const EVENT_LABELS = { open: "报名中", closed: "报名截止", ongoing: "进行中", ended: "已结束", cancelled: "已取消" };
const TASK_LABELS = { review: "待审核心愿", overdue: "超时未认领（吹哨）", settle_checkin: "未签退待补录" };
const PAGES = [["work", "工作台"], ["members", "居民"], ["events", "活动"], ["settings", "设置"]];

const state = { me: null, timers: [] };

// ---- helpers ---------------------------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
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

function when(iso) {
  if (!iso) return "—";
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  return m ? `${+m[2]}月${+m[3]}日 ${m[4]}:${m[5]}` : iso;
}

function later(fn, ms) { const id = setInterval(fn, ms); state.timers.push(id); return id; }
function stopTimers() { state.timers.forEach(clearInterval); state.timers = []; }

function showError(message) {
  const box = document.getElementById("alert");
  box.textContent = message;
  box.hidden = !message;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `请求失败（${status}）`);
    this.status = status; this.code = body?.error?.code; this.details = body?.error?.details || {};
  }
}

async function api(method, path, body) {
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
      showLogin(wasIn ? `${error.message}，请重新登录` : "");
    }
    throw error;
  }
  return data;
}

// Run a page's loader; its error goes to the alert line (the API's own Chinese message).
async function guarded(fn) {
  try { showError(""); await fn(); } catch (error) { if (error instanceof ApiError && error.status === 401) return; showError(error.message); }
}

function table(headers, rows, empty, cls = null) {
  if (!rows.length) return el("p", { class: "muted" }, empty);
  return el("table", { class: cls },
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", class: h.endsWith("#") ? "num" : null }, h.replace(/#$/, ""))))),
    el("tbody", {}, rows));
}

const has = (role) => state.me && state.me.roles.includes(role);
const isStaff = () => ["admin", "grid_worker", "store_keeper"].some(has);

// ---- navigation ------------------------------------------------------------------------------------------------
function go(path, replace = false) {
  if (replace) history.replaceState(null, "", path); else history.pushState(null, "", path);
  route();
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-nav]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  go(link.getAttribute("href"));
});
window.addEventListener("popstate", () => route());

function renderShell() {
  const top = document.getElementById("top");
  top.hidden = false;
  const nav = document.getElementById("nav");
  nav.replaceChildren(...PAGES.filter(([name]) => name !== "settings" || has("admin"))
    .map(([name, label]) => el("a", { href: `/console/${name}`, "data-nav": true, "data-page": name }, label)));
  const roles = state.me.roles.filter((r) => r !== "resident").map((r) => ROLE_LABELS[r] || r).join("、");
  document.getElementById("who").textContent = `${state.me.nickname}${roles ? `（${roles}）` : ""} · ${state.me.community_name || ""}`;
}

function route() {
  stopTimers();
  showError("");
  document.body.classList.remove("screen");
  if (!state.me) return;
  const path = location.pathname.replace(/\/+$/, "");
  const screen = /^\/console\/events\/([^/]+)\/screen$/.exec(path);
  if (screen) return screenPage(decodeURIComponent(screen[1]));
  const page = path.split("/")[2] || "work";
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.page === page) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  const pages = { work: workPage, members: membersPage, events: eventsPage, settings: settingsPage };
  (pages[page] || workPage)();
}

function mainArea(title) {
  const main = document.getElementById("main");
  main.replaceChildren(el("h1", {}, title));
  document.title = `${title} · 同心管理后台`;
  return main;
}

// ---- login -----------------------------------------------------------------------------------------------------
async function boot() {
  try {
    state.me = await api("GET", "/v1/me");
  } catch (error) {
    if (error.status !== 401) showError(error.message);
    return;
  }
  if (!isStaff()) { showError("此账号不是工作人员，不能使用管理后台"); }
  renderShell();
  route();
}

function showLogin(message) {
  stopTimers();
  state.me = null;
  document.body.classList.remove("screen");
  document.getElementById("top").hidden = true;
  document.title = "登录 · 同心管理后台";
  const code = el("img", { class: "code", alt: "登录小程序码：请用同心小程序扫码", width: 280, height: 280 });
  const status = el("p", { role: "status", "aria-live": "polite" }, "正在获取登录码…");
  const renew = el("button", { type: "button", class: "secondary", onclick: () => newTicket() }, "换一个码");
  const local = ["127.0.0.1", "localhost"].includes(location.hostname);
  const nameInput = el("input", { id: "dev-name", name: "name", autocomplete: "off", value: "admin", required: true,
    pattern: "[A-Za-z0-9_-]+" });
  const devForm = local && el("form", { class: "card inline", id: "dev-login", onsubmit: async (event) => {
    event.preventDefault();
    await guarded(async () => {
      const session = await api("POST", "/v1/console/dev-login", { name: nameInput.value.trim() });
      signedIn(session);
    });
  } }, el("div", { class: "field" }, el("label", { for: "dev-name" }, "开发登录（仅本地）：演示用户名"), nameInput),
  el("button", { type: "submit" }, "开发登录"));
  document.getElementById("main").replaceChildren(el("div", { class: "login" }, code,
    el("div", {}, el("h1", {}, "同心 · 管理后台"),
      el("p", {}, "请用微信打开“同心”小程序，扫描左侧的码并在手机上确认登录。"),
      el("p", { class: "muted" }, "仅社区管理员、网格员、积分超市店员和街道工作人员可以登录。登录码 2 分钟内有效，过期会自动更换。"),
      status, el("p", {}, renew))), devForm || "");
  showError(message || "");

  let ticket = null;
  async function newTicket() {
    stopTimers();
    try {
      const answer = await api("POST", "/v1/console/sessions");
      ticket = answer.ticket;
      code.src = `/v1/console/sessions/${encodeURIComponent(ticket)}/qrcode?format=png`;
      status.textContent = "请扫码登录";
      later(poll, 2000);
    } catch (error) {
      status.textContent = error.message;
      if (error.status === 429) setTimeout(newTicket, (Number(error.details.retry_after) || 30) * 1000);
    }
  }
  async function poll() {
    if (!ticket) return;
    try {
      const answer = await api("GET", `/v1/console/sessions/${encodeURIComponent(ticket)}`);
      if (answer.status === "approved" && answer.session) { stopTimers(); signedIn(answer.session); }
      else if (answer.status === "expired") { status.textContent = "登录码已过期，正在更换…"; newTicket(); }
    } catch (error) {
      if (error.status === 404) newTicket(); else status.textContent = error.message;
    }
  }
  newTicket();
}

function signedIn(session) {
  stopTimers();
  sessionStorage.setItem(CSRF_KEY, session.csrf_token);
  if (!location.pathname.startsWith("/console/")) history.replaceState(null, "", "/console/work");
  boot();
}

document.getElementById("logout").addEventListener("click", async () => {
  try { await api("DELETE", "/v1/console/sessions/current"); } catch (error) { if (error.status !== 401) { showError(error.message); return; } }
  sessionStorage.removeItem(CSRF_KEY);
  history.replaceState(null, "", "/console/");
  showLogin("已退出登录");
});

// ---- 工作台 ------------------------------------------------------------------------------------------------------
function workPage() {
  const main = mainArea("工作台");
  guarded(async () => {
    if (has("grid_worker")) {
      const tasks = await api("GET", "/v1/grid/tasks");
      main.append(el("h2", {}, `我的网格待办（${tasks.items.length}）`), table(["事项", "内容", "状态", "时间"],
        tasks.items.map((task) => el("tr", {},
          el("td", {}, TASK_LABELS[task.task] || task.task_label || task.task),
          el("td", {}, task.title || task.content || task.event?.title || ""),
          el("td", {}, task.status_label || ROSTER_LABELS[task.attendance?.status] || task.status || ""),
          el("td", {}, when(task.created_at || task.attendance?.checked_in_at)))),
        "没有待处理的事项。"));
    }
    if (has("admin")) {
      const failed = await api("GET", "/v1/admin/messages?status=failed");
      main.append(el("h2", {}, `发送失败的订阅消息（${failed.items.length}）`), table(["消息", "接收人", "原因", "时间"],
        failed.items.map((m) => el("tr", {}, el("td", {}, m.kind_label || m.kind), el("td", {}, m.user?.nickname || m.user_id || ""),
          el("td", {}, m.reason_label || m.reason || ""), el("td", {}, when(m.created_at)))),
        "没有发送失败的消息。"));
    }
    main.append(el("h2", {}, "常用"), el("p", { class: "actions" },
      el("a", { href: "/console/members", "data-nav": true, class: "button secondary" }, "查找居民"),
      el("a", { href: "/console/events", "data-nav": true, class: "button secondary" }, "活动与签到大屏"),
      has("admin") && el("a", { href: "/console/settings", "data-nav": true, class: "button secondary" }, "社区设置")));
  });
}

// ---- 居民 --------------------------------------------------------------------------------------------------------
let gridsCache = null;
async function grids() {
  if (gridsCache === null) {
    try { gridsCache = (await api("GET", "/v1/admin/grids")).items; } catch (error) { if (error.status === 403) gridsCache = []; else throw error; }
  }
  return gridsCache;
}
const gridName = (id, all) => (all.find((g) => g.id === id)?.name) || id || "—";
const roleTags = (roles) => roles.map((r) => el("span", { class: `tag ${r}` }, ROLE_LABELS[r] || r));

function membersPage() {
  const main = mainArea("居民");
  const params = new URLSearchParams(location.search);
  const q = el("input", { id: "q", name: "q", type: "search", value: params.get("q") || "", maxlength: 20,
    placeholder: "昵称、姓名或手机号后四位" });
  const role = el("select", { id: "role", name: "role" }, el("option", { value: "" }, "全部角色"),
    Object.entries(ROLE_LABELS).map(([value, label]) => el("option", { value, selected: params.get("role") === value }, label)));
  const grid = el("select", { id: "grid", name: "grid_id" }, el("option", { value: "" }, "全部网格"));
  const results = el("div", { id: "results" });
  const detail = el("div", { id: "detail" });
  const form = el("form", { class: "card inline", role: "search", onsubmit: (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (q.value.trim()) next.set("q", q.value.trim());
    if (role.value) next.set("role", role.value);
    if (grid.value) next.set("grid_id", grid.value);
    history.replaceState(null, "", `/console/members?${next}`);
    search();
  } }, el("div", { class: "field" }, el("label", { for: "q" }, "搜索"), q),
  el("div", { class: "field" }, el("label", { for: "role" }, "角色"), role),
  el("div", { class: "field" }, el("label", { for: "grid" }, "网格"), grid),
  el("button", { type: "submit" }, "搜索"));
  main.append(form, el("div", { class: "two" }, results, detail));

  let searches = 0;
  async function search() {
    const mine = ++searches;  // an earlier search answering late must not overwrite this one
    results.replaceChildren(el("p", { class: "muted", role: "status" }, "正在搜索…"));
    await guarded(async () => {
      const all = await grids();
      const query = new URLSearchParams();
      if (q.value.trim()) query.set("q", q.value.trim());
      if (role.value) query.set("role", role.value);
      if (grid.value) query.set("grid_id", grid.value);
      const page = await api("GET", `/v1/admin/members?${query}`);
      if (mine !== searches) return;
      results.replaceChildren(el("p", { class: "muted", role: "status" }, `共 ${page.items.length} 人${page.next_cursor ? "（仅显示前一页，请缩小搜索范围）" : ""}`),
        table(["昵称", "姓名", "角色", "网格", "时长（分）#", "操作"], page.items.map((m) => el("tr", {},
          el("td", {}, m.nickname), el("td", {}, m.real_name || "—"), el("td", {}, roleTags(m.roles)),
          el("td", {}, gridName(m.grid_id, all)), el("td", { class: "num" }, m.volunteer_minutes),
          el("td", {}, el("button", { type: "button", class: "secondary", "aria-label": `查看 ${m.nickname}`,
            onclick: () => showMember(m.id) }, "查看")))), "没有找到符合条件的居民。", "nowrap"));
    });
  }

  async function showMember(id, notice) {
    await guarded(async () => {
      const [m, all] = await Promise.all([api("GET", `/v1/admin/members/${encodeURIComponent(id)}`), grids()]);
      const roleBoxes = Object.entries(ROLE_LABELS).map(([value, label]) => el("label", {},
        el("input", { type: "checkbox", name: "roles", value, checked: m.roles.includes(value) }), label));
      const gridBoxes = all.map((g) => el("label", {},
        el("input", { type: "checkbox", name: "grid_ids", value: g.id, checked: m.grid_ids.includes(g.id) }), g.name));
      const message = el("div", { role: "status", "aria-live": "polite" }, notice ? el("p", { class: "notice" }, notice) : "");
      const form = el("form", { onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        try {
          await api("PUT", `/v1/admin/members/${encodeURIComponent(id)}/roles`,
            { roles: data.getAll("roles"), grid_ids: data.getAll("grid_ids"), store_ids: m.store_ids });
          await showMember(id, "角色已保存，立即生效。");
          search();
        } catch (error) {
          message.replaceChildren(el("p", { class: "notice error" }, error.message));
        }
      } }, el("fieldset", {}, el("legend", {}, "角色"), el("div", { class: "checks" }, roleBoxes)),
      has("admin") && all.length ? el("fieldset", {}, el("legend", {}, "负责的网格（网格员）"), el("div", { class: "checks" }, gridBoxes)) : "",
      el("div", { class: "actions" }, el("button", { type: "submit", disabled: !has("admin") }, "保存角色"),
        has("admin") ? "" : el("span", { class: "muted" }, "仅管理员可以修改角色")), message);
      detail.replaceChildren(el("section", { class: "card", "aria-labelledby": "member-name" },
        el("h2", { id: "member-name" }, m.nickname),
        el("dl", { class: "facts" }, el("dt", {}, "姓名"), el("dd", {}, m.real_name || "—"),
          el("dt", {}, "手机号"), el("dd", {}, m.phone || "未绑定"), el("dt", {}, "所在网格"), el("dd", {}, gridName(m.grid_id, all)),
          el("dt", {}, "志愿时长"), el("dd", {}, `${m.volunteer_minutes} 分钟`), el("dt", {}, "积分"), el("dd", {}, m.points_balance),
          el("dt", {}, "加入时间"), el("dd", {}, when(m.joined_at))), form));
      detail.querySelector("h2").setAttribute("tabindex", "-1");
      if (notice) detail.querySelector("button[type=submit]").focus(); else detail.querySelector("h2").focus();
    });
  }

  guarded(async () => {
    const all = await grids();
    grid.append(...all.map((g) => el("option", { value: g.id, selected: params.get("grid_id") === g.id }, g.name)));
    await search();
  });
}

// ---- 设置 --------------------------------------------------------------------------------------------------------
function settingsPage() {
  const main = mainArea("社区设置");
  guarded(async () => {
    const community = await api("GET", "/v1/admin/community");
    render(community);
    function render(c, notice) {
      const rows = c.fields.map((f) => {
        const id = `set-${f.name}`;
        const value = c.settings[f.name];
        const input = f.kind === "boolean"
          ? el("input", { id, name: f.name, type: "checkbox", checked: !!value })
          : el("input", { id, name: f.name, type: "number", value, min: f.min, max: f.max, step: 1, required: true });
        const hint = f.kind === "boolean" ? `默认：${f.default ? "是" : "否"}` : `默认 ${f.default}，范围 ${f.min}–${f.max}`;
        return el("div", { class: "row" }, el("label", { for: id }, f.label, el("span", { class: "hint" }, hint)), input);
      });
      const message = el("div", { role: "status", "aria-live": "polite" }, notice ? el("p", { class: "notice" }, notice) : "");
      const form = el("form", { class: "card settings", novalidate: true, onsubmit: async (event) => {
        event.preventDefault();
        const changes = {};
        for (const f of c.fields) {
          const input = event.target.elements[f.name];
          const next = f.kind === "boolean" ? input.checked : (input.value === "" ? null : Number(input.value));
          if (next !== c.settings[f.name]) changes[f.name] = next;
        }
        if (!Object.keys(changes).length) { message.replaceChildren(el("p", { class: "notice" }, "没有修改。")); return; }
        try {
          const saved = await api("PATCH", "/v1/admin/community", changes);
          render(saved, `已保存 ${Object.keys(changes).length} 项设置。`);
        } catch (error) {
          // the API names the field by its key: say it by its label, as the page does
          const named = c.fields.find((f) => f.name === error.details.field);
          message.replaceChildren(el("p", { class: "notice error" },
            named ? error.message.replace(named.name, named.label) : error.message));
          const field = error.details.field && event.target.elements[error.details.field];
          if (field) field.focus();
        }
      } }, rows, el("div", { class: "actions" }, el("button", { type: "submit" }, "保存设置"), message));
      main.replaceChildren(el("h1", {}, "社区设置"), el("p", { class: "muted" }, `${c.name}：修改后立即对全社区生效。`), form);
      if (notice) form.querySelector("button[type=submit]").focus();  // the keyboard stays where it was
    }
  });
}

// ---- 活动 --------------------------------------------------------------------------------------------------------
async function rosterAll(eventId) {
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

function eventsPage() {
  const main = mainArea("活动");
  const params = new URLSearchParams(location.search);
  const rosterBox = el("div", { id: "roster" });
  guarded(async () => {
    const page = await api("GET", "/v1/events");
    main.append(table(["活动", "开始时间", "地点", "报名#", "状态", "操作"], page.items.map((e) => el("tr", {},
      el("td", {}, e.title), el("td", {}, when(e.starts_at)), el("td", {}, e.location?.address || "—"),
      el("td", { class: "num" }, `${e.signed_count}/${e.capacity}${e.waitlist_count ? `（候补 ${e.waitlist_count}）` : ""}`),
      el("td", {}, e.status_label || EVENT_LABELS[e.status] || e.status),
      el("td", {}, e.can_manage ? [
        el("a", { href: `/console/events?id=${encodeURIComponent(e.id)}`, "data-nav": true, "aria-label": `${e.title} 的名单` }, "名单"), " · ",
        el("a", { href: `/console/events/${encodeURIComponent(e.id)}/screen`, "data-nav": true, "aria-label": `${e.title} 的签到大屏` }, "签到大屏"),
      ] : "—"))), "近期没有活动。"), rosterBox);
    const id = params.get("id");
    if (id) {
      const event = page.items.find((e) => e.id === id) || await api("GET", `/v1/events/${encodeURIComponent(id)}`);
      const items = await rosterAll(id);
      rosterBox.replaceChildren(el("h2", { id: "roster-title", tabindex: "-1" }, `名单：${event.title}（${items.length} 人）`),
        table(["姓名", "状态", "报名时间", "签到", "签退", "时长（分钟）#"], items.map((r) => el("tr", {},
          el("td", {}, r.user.nickname), el("td", {}, ROSTER_LABELS[r.status] || r.status), el("td", {}, when(r.signed_at)),
          el("td", {}, when(r.checked_in_at)), el("td", {}, when(r.checked_out_at)), el("td", { class: "num" }, r.minutes ?? "—"))),
        "还没有人报名。"));
      document.getElementById("roster-title").focus();
    }
  });
}

// ---- 签到大屏 ------------------------------------------------------------------------------------------------------
function screenPage(eventId) {
  document.body.classList.add("screen");
  const main = document.getElementById("main");
  const path = `/v1/events/${encodeURIComponent(eventId)}`;
  const title = el("h1", { class: "screen-title" }, "签到大屏");
  const sub = el("p", { class: "screen-sub" }, "");
  const code = el("img", { id: "checkin-code", alt: "签到码：请用微信扫码签到", width: 600, height: 600 });
  const checked = el("b", { id: "checked-count" }, "–");
  const signed = el("b", { id: "signed-count" }, "–");
  main.replaceChildren(title, sub, el("div", { class: "screen-body" }, code, el("div", { class: "counts", "aria-live": "polite" },
    el("p", { class: "count" }, checked, el("span", {}, "已签到")), el("p", { class: "count" }, signed, el("span", {}, "已报名")))),
  el("div", { class: "screen-foot" }, el("a", { href: "/console/events", "data-nav": true, class: "button" }, "← 返回活动"),
    el("span", {}, "请用微信扫一扫签到，签退时再扫一次 · 二维码每 30 秒更新"),
    el("button", { type: "button", onclick: () => document.documentElement.requestFullscreen?.() }, "全屏")));
  document.title = "签到大屏 · 同心管理后台";
  const refreshCode = () => { code.src = `${path}/qrcode?kind=rotating&format=png&t=${Date.now()}`; };
  code.addEventListener("error", () => showError("签到码加载失败，请确认您是该活动的组织者"));
  code.addEventListener("load", () => showError(""));
  async function counts() {
    try {
      const [event, roster] = await Promise.all([api("GET", path), rosterAll(eventId)]);
      title.textContent = event.title;
      sub.textContent = [`${when(event.starts_at)} – ${when(event.ends_at).split(" ")[1] || ""}`, event.location?.address]
        .filter(Boolean).join(" · ");
      checked.textContent = roster.filter((r) => r.status === "checked_in" || r.status === "checked_out").length;
      signed.textContent = event.signed_count;
    } catch (error) { if (error.status !== 401) showError(error.message); }
  }
  refreshCode();
  counts();
  later(refreshCode, 25000);
  later(counts, 5000);
}

boot().then(() => { if (!state.me && document.getElementById("top").hidden && !document.querySelector(".login")) showLogin(); });
