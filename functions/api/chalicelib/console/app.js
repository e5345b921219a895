// 同心 管理后台: a plain ES module app, no framework. Every screen is built with DOM calls (no innerHTML of data), every
// read and write goes to the /v1 routes with the session cookie; a write carries X-CSRF-Token. This module is the
// shell: login, the menu, and which page a path shows; each page is its own module.
import { CSRF_KEY, ROLE_LABELS, state, el, later, stopTimers, showError, api, guarded, has, isStaff, go } from "./lib.js";
import { workPage } from "./work.js";
import { membersPage } from "./members.js";
import { settingsPage } from "./settings.js";
import { eventsPage, screenPage } from "./events.js";

import { wishesPage } from "./wishes.js";
import { requestsPage } from "./requests.js";
import { pointsPage } from "./points.js";
import { storePage } from "./store.js";
import { statsPage } from "./stats.js";
import { bulletinPage } from "./bulletin.js";
import { partyPage } from "./party.js";
import { unitsPage } from "./units.js";
import { roundsPage } from "./rounds.js";

// The menu: each page, who sees it (the API decides what they may do; the menu only leaves out what they cannot).
const ANY_STAFF = () => true;
const PAGES = [
  { name: "work", label: "工作台", show: ANY_STAFF, render: workPage },
  { name: "members", label: "居民", show: () => has("admin") || has("grid_worker"), render: membersPage },
  { name: "wishes", label: "心愿", show: () => has("admin") || has("grid_worker"), render: wishesPage },
  { name: "requests", label: "诉求", show: () => ["admin", "grid_worker", "street_staff", "department_staff"].some(has), render: requestsPage },
  { name: "events", label: "活动", show: () => has("admin") || has("grid_worker"), render: eventsPage },
  { name: "points", label: "积分", show: () => has("admin") || has("grid_worker"), render: pointsPage },
  { name: "store", label: "积分超市", show: () => has("admin") || has("store_keeper"), render: storePage },
  { name: "stats", label: "统计", show: () => has("admin") || has("street_staff"), render: statsPage },
  { name: "bulletin", label: "通报", show: () => has("street_staff") || has("district_staff"), render: bulletinPage },
  { name: "party", label: "双报到", show: () => has("admin"), render: partyPage },
  { name: "rounds", label: "微实事", show: () => has("admin"), render: roundsPage },
  { name: "units", label: "共建单位", show: () => has("street_staff"), render: unitsPage },
  { name: "settings", label: "设置", show: () => has("admin"), render: settingsPage },
];

// ---- navigation ------------------------------------------------------------------------------------------------
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
  nav.replaceChildren(...PAGES.filter((page) => page.show())
    .map(({ name, label }) => el("a", { href: `/console/${name}`, "data-nav": true, "data-page": name }, label)));
  const roles = state.me.roles.filter((r) => r !== "resident").map((r) => ROLE_LABELS[r] || r).join("、");
  const who = document.getElementById("who");
  who.textContent = `${state.me.nickname}${roles ? `（${roles}）` : ""}${state.me.community_name ? ` · ${state.me.community_name}` : ""}`;
  who.title = who.textContent;  // the line may be cut short at 1366 px
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
  (PAGES.find((p) => p.name === page && p.show()) || PAGES[0]).render();
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
    pattern: "[A-Za-z0-9_\\-]+" });
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

state.signedOut = showLogin;
state.route = route;
boot().then(() => { if (!state.me && document.getElementById("top").hidden && !document.querySelector(".login")) showLogin(); });
