// 诉求 (接诉即办 · 吹哨报到): the queue of whoever is signed in — their grids', the community's, their street's — with
// each request's clock, and a request's detail with its timeline and the steps its handler may take (响应 · 上报 · 办结).
import { ROLE_LABELS, WAITING, IN_HAND, state, el, when, later, api, guarded, table, has, mainArea, grids, gridName, pagesOf,
  notice, enc, requestClock } from "./lib.js";

const QUEUES = [
  { key: "grid", label: "我的网格", show: () => has("grid_worker"), empty: "您负责的网格没有待办的诉求。" },
  { key: "admin", label: "社区", show: () => has("admin"), empty: "没有等待社区处理的诉求。" },
  { key: "street", label: "街道", show: () => has("street_staff"), empty: "没有等待街道处理的诉求。" },
  { key: "department", label: "区直部门", show: () => has("department_staff"), empty: "没有派给本部门的诉求。" },
];
const ABOVE = { grid: "社区", community: "街道", street: "区直部门" };
const DONE = { accept: "已响应，请尽快办理。", resolve: "已办结，等待居民评价。" };
const communityNames = new Map();  // community id → name (street staff: read off the street's statistics)
let departments = [];  // street staff: where a request may go from the street (GET /v1/street/departments)

const short = (text, n = 24) => (text.length > n ? `${text.slice(0, n)}…` : text);

// The clock of the limit that applies now (requestClock): green with more than half of it left, amber under half, red past it.
function paintClock(node) {
  const r = node.request;
  const c = requestClock(r);
  if (!c) { node.className = "clock none"; node.textContent = r.status === "resolved" ? "待评价" : "—"; return; }
  node.className = `clock ${c.cls}`;
  node.replaceChildren(el("b", {}, c.text), el("span", {}, `${c.kind}时限 ${when(c.due)}`));
}
function clock(r) { const node = el("span", { class: "clock" }); node.request = r; paintClock(node); return node; }

function where(r, allGrids) {
  if (r.community_id !== state.me.community_id) return communityNames.get(r.community_id) || r.community_id;  // the street's
  return r.grid_id ? gridName(r.grid_id, allGrids) : state.me.community_name || "社区";
}

// What the signed-in user may do at the request's current level (the API decides; this leaves out what cannot work).
function handles(r) {
  const me = state.me;
  if (r.level === "grid") return has("grid_worker") && me.community_id === r.community_id && me.grid_ids.includes(r.grid_id);
  if (r.level === "community") return has("admin") && me.community_id === r.community_id;
  if (r.level === "department") return has("department_staff") && (me.department_ids || []).includes(r.department?.id);
  return has("street_staff") && (me.street_ids || []).includes(r.street_id);
}

export function requestsPage() {
  const main = mainArea("诉求");
  const params = new URLSearchParams(location.search);
  const mine = QUEUES.filter((q) => q.show());
  let queue = (mine.find((q) => q.key === params.get("queue")) || mine[0])?.key;
  let view = params.get("view") === "all" ? "all" : "queue";
  let current = params.get("id");
  let allGrids = [];
  let loads = 0;
  let shows = 0;
  let more = null;  // the next page of 全部诉求
  if (!queue) { main.append(el("p", { class: "muted" }, "您没有办理诉求的身份。")); return; }

  const listBox = el("div", { id: "queue", class: "queue" });
  const detail = el("div", { id: "request-detail", class: "request-detail" },
    el("p", { class: "muted card" }, "点击队列中的诉求，查看详情和办理。"));
  const heading = el("h2", { id: "queue-title" });

  function remember() {
    const next = new URLSearchParams();
    if (mine.length > 1) next.set("queue", queue);
    if (queue === "admin" && view === "all") next.set("view", "all");
    if (current) next.set("id", current);
    history.replaceState(null, "", `/console/requests${next.toString() ? `?${next}` : ""}`);
  }

  // ---- the queue selector (tabs) and the admin's 待办/全部 toggle --------------------------------------------------
  const tabs = mine.length > 1 && el("div", { role: "tablist", class: "tabs", "aria-label": "诉求队列" },
    mine.map((q) => el("button", { type: "button", role: "tab", id: `tab-${q.key}`, "aria-controls": "queue",
      "aria-selected": String(q.key === queue), tabindex: q.key === queue ? "0" : "-1",
      onclick: () => pick(q.key), onkeydown: (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        const next = mine[(mine.findIndex((x) => x.key === q.key) + step + mine.length) % mine.length];
        pick(next.key);
        document.getElementById(`tab-${next.key}`).focus();
      } }, q.label)));
  if (tabs) { listBox.setAttribute("role", "tabpanel"); }
  const toggle = el("div", { class: "toggle", role: "group", "aria-label": "社区诉求范围" },
    [["queue", "待办队列"], ["all", "全部诉求"]].map(([value, label]) => el("button", { type: "button", class: "secondary",
      "data-view": value, "aria-pressed": String(view === value), onclick: () => {
        view = value;
        toggle.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.view === view)));
        remember();
        loadQueue();
      } }, label)));

  function pick(key) {
    if (key === queue) return;
    queue = key;
    tabs.querySelectorAll("[role=tab]").forEach((t) => {
      const on = t.id === `tab-${key}`;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
    });
    remember();
    loadQueue();
  }

  main.append(tabs || "", el("div", { class: "two requests" },
    el("section", { "aria-labelledby": "queue-title" }, el("div", { class: "queue-head" }, heading, toggle), listBox), detail));

  // ---- the queue ------------------------------------------------------------------------------------------------
  async function fetchQueue() {
    if (queue === "grid") {
      const { items, more: cut } = await pagesOf("/v1/grid/tasks");
      return { items: items.filter((t) => t.request && t.task), cut };
    }
    if (queue === "street") { const { items, more: cut } = await pagesOf("/v1/street/tasks"); return { items, cut }; }
    if (queue === "department") { const { items, more: cut } = await pagesOf("/v1/department/tasks"); return { items, cut }; }
    if (view === "queue") { const { items, more: cut } = await pagesOf("/v1/admin/requests?view=queue"); return { items, cut }; }
    const page = await api("GET", "/v1/admin/requests?view=all&limit=50");
    return { items: page.items, next: page.next_cursor };
  }

  async function loadQueue(quiet = false) {
    const ticket = ++loads;  // a load answering late must not overwrite a newer one
    const all = queue === "admin" && view === "all";
    toggle.hidden = queue !== "admin";
    if (tabs) listBox.setAttribute("aria-labelledby", `tab-${queue}`);
    if (!quiet) listBox.replaceChildren(el("p", { class: "muted", role: "status" }, "正在加载…"));
    await guarded(async () => {
      const { items, cut, next } = await fetchQueue();
      if (ticket !== loads) return;
      more = next || null;
      const focused = document.activeElement?.closest?.("#queue tr[data-id]")?.dataset.id;
      heading.textContent = `${all ? "全部诉求" : "待办诉求"}（${items.length}${more || cut ? "+" : ""}）`;
      const label = QUEUES.find((q) => q.key === queue);
      const rows = items.map(({ request: r }) => row(r));
      const body = table(["类别", "内容", "居民 · 所在", "状态", "层级", "时限"], rows, all ? "社区还没有诉求。" : label.empty, "queue-table");
      listBox.replaceChildren(body, more ? el("p", {}, el("button", { type: "button", class: "secondary", onclick: loadMore },
        "加载更多")) : "", cut ? el("p", { class: "muted" }, "仅显示前 1000 条。") : "");
      if (focused) listBox.querySelector(`tr[data-id="${CSS.escape(focused)}"] a`)?.focus();
    });
  }

  async function loadMore(event) {
    const button = event.target;
    button.disabled = true;
    await guarded(async () => {
      const page = await api("GET", `/v1/admin/requests?view=all&limit=50&cursor=${enc(more)}`);
      more = page.next_cursor;
      const added = page.items.map(({ request: r }) => row(r));
      listBox.querySelector("tbody")?.append(...added);
      const count = listBox.querySelectorAll("tbody tr").length;
      heading.textContent = `全部诉求（${count}${more ? "+" : ""}）`;
      if (!more) button.parentElement.remove(); else button.disabled = false;
      added[0]?.querySelector("a").focus();
    });
    if (button.isConnected) button.disabled = false;
  }

  function row(r) {
    const link = el("a", { href: `/console/requests?id=${enc(r.id)}`, class: "open", "aria-current": r.id === current ? "true" : null,
      onclick: (event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        open(r.id);
      } }, short(r.content));
    return el("tr", { "data-id": r.id, class: r.id === current ? "current" : null, onclick: (event) => {
      if (!event.target.closest("a, button")) open(r.id);
    } },
    el("td", { class: "nowrap" }, r.urgent ? el("span", { class: "tag urgent" }, "紧急") : "", r.category),
    el("td", { class: "content" }, link),
    el("td", {}, r.author.nickname, el("span", { class: "muted sub" }, where(r, allGrids))),
    el("td", { class: "nowrap" }, r.status_label), el("td", { class: "nowrap" }, r.level_label), el("td", {}, clock(r)));
  }

  function open(id) {
    current = id;
    remember();
    listBox.querySelectorAll("tr[data-id]").forEach((tr) => {
      const on = tr.dataset.id === id;
      tr.classList.toggle("current", on);
      if (on) tr.querySelector("a").setAttribute("aria-current", "true"); else tr.querySelector("a").removeAttribute("aria-current");
    });
    showDetail(id, { focus: "title" });
  }

  // ---- a request's detail -------------------------------------------------------------------------------------------
  async function showDetail(id, { message = "", error = false, focus = null } = {}) {
    const ticket = ++shows;
    let r;
    try { r = await api("GET", `/v1/requests/${enc(id)}`); } catch (failure) {
      if (failure.status === 401 || ticket !== shows) return;
      detail.replaceChildren(el("div", { class: "card" }, el("p", { class: "notice error", role: "alert" }, failure.message)));
      return;
    }
    if (ticket !== shows) return;
    const box = el("div", { role: "status", "aria-live": "polite", class: "outcome", tabindex: "-1" });
    notice(box, message, error);
    const title = el("h2", { id: "request-title", tabindex: "-1" }, r.urgent ? el("span", { class: "tag urgent" }, "紧急") : "",
      `${r.category}诉求`);
    const flags = [r.late && "曾超时未响应", r.overdue && "曾超时未办结", r.reopened && "曾退回重办"].filter(Boolean);
    const steps = el("ol", { class: "timeline" }, (r.timeline || []).map((s) => el("li", {},
      el("div", { class: "step" }, el("b", {}, s.action_label),
        el("span", { class: "tag" }, s.action.endsWith("escalate") && ABOVE[s.level] ? `${s.level_label} → ${ABOVE[s.level]}` : s.level_label),
        el("time", { datetime: s.at, class: "muted" }, when(s.at))),
      el("div", {}, s.actor ? `${s.actor.nickname}（${ROLE_LABELS[s.actor.role] || s.actor.role}）` : "系统（定时任务）"),
      s.note ? el("p", { class: "note" }, `${{ escalate: "理由", resolve: "办理结果", close: "评价", reopen: "评价" }[s.action] || "说明"}：${s.note}`) : "")));
    detail.replaceChildren(el("section", { class: "card", "aria-labelledby": "request-title" }, title,
      el("p", { class: "content-full" }, r.content),
      el("dl", { class: "facts wide" },
        el("dt", {}, "状态"), el("dd", {}, `${r.status_label}${r.outcome ? `（${{ satisfied: "满意", unsatisfied: "不满意", unrated: "未评价" }[r.outcome]}）` : ""}`),
        el("dt", {}, "层级"), el("dd", {}, `${r.level_label}${r.handler ? ` · ${r.handler.nickname}` : ""}`),
        el("dt", {}, "时限"), el("dd", {}, clock(r)),
        el("dt", {}, "居民"), el("dd", {}, r.author.nickname, " · ", r.author.phone || "未绑定手机号"),
        el("dt", {}, "地点"), el("dd", {}, r.location?.address || "未填写", r.location?.lat != null ? el("span", { class: "muted" },
          `（${r.location.lat.toFixed(5)}, ${r.location.lng.toFixed(5)}）`) : ""),
        el("dt", {}, "所在"), el("dd", {}, where(r, allGrids)),
        el("dt", {}, "提交"), el("dd", {}, when(r.created_at)),
        r.rating ? [el("dt", {}, "评价"), el("dd", {}, `${r.rating} 分${r.comment ? `：${r.comment}` : ""}`)] : "",
        flags.length ? [el("dt", {}, "记录"), el("dd", {}, flags.join("、"))] : ""),
      actions(r, box), box, el("h3", {}, `办理经过（${(r.timeline || []).length}）`), steps));
    const target = focus === "title" ? title : focus === "action" ? (detail.querySelector(".act button") || box) : null;
    if (target) target.focus();
  }

  function actions(r, box) {
    if (!["submitted", "escalated", "accepted", "reopened"].includes(r.status)) return "";
    if (!handles(r)) return el("p", { class: "muted" }, `此诉求现由${r.level_label}办理，您可以查看进展。`);
    const own = r.author.id === state.me.id;
    const above = ABOVE[r.level];
    const formBox = el("div", {});
    const step = async (action, body, button) => {
      button.disabled = true;
      try {
        await api("POST", `/v1/requests/${enc(r.id)}/${action}`, body);
      } catch (failure) {
        button.disabled = false;
        if (failure.status === 401) return;
        if (failure.status === 403 || failure.status === 409) {  // the request moved on: show it as it is now
          await showDetail(r.id, { message: failure.message, error: true, focus: "action" });
          loadQueue(true);
        } else {
          notice(box, failure.message, true);
          (formBox.querySelector("textarea") || button).focus();
        }
        return;
      }
      await Promise.all([showDetail(r.id, { message: action === "escalate" ? `已上报${above}（吹哨），等待${above}响应。` : DONE[action],
        focus: "action" }), loadQueue(true)]);
    };
    const textForm = (action, label, hint, submit) => {
      const id = `${action}-text`;
      const text = el("textarea", { id, name: action === "escalate" ? "reason" : "note", rows: 3, maxlength: 200, required: true,
        oninput: () => box.querySelector(".error") && notice(box, "") });
      const send = el("button", { type: "submit" }, submit);
      const cancel = el("button", { type: "button", class: "secondary", onclick: () => {
        formBox.replaceChildren();
        document.getElementById(`open-${action}`)?.focus();
      } }, "取消");
      // 街呼区应: from the street, the request goes to a department of the street's district, named here
      const department = action === "escalate" && r.level === "street" && el("select", { id: "escalate-department", name: "department_id", required: true },
        el("option", { value: "" }, "请选择区直部门"), departments.map((d) => el("option", { value: d.id }, d.name)));
      const form = el("form", { class: "step-form", novalidate: true, onsubmit: (event) => {
        event.preventDefault();
        if (department && !department.value) { notice(box, "请选择区直部门", true); department.focus(); return; }
        if (!text.value.trim()) { notice(box, `请填写${label}`, true); text.focus(); return; }
        const body = action === "escalate" ? { reason: text.value.trim(), ...(department ? { department_id: department.value } : {}) }
          : { note: text.value.trim() };
        step(action, body, send);
      }, onkeydown: (event) => { if (event.key === "Escape") cancel.click(); } },
      department ? el("label", { for: "escalate-department" }, "派给哪个部门") : "", department || "",
      el("label", { for: id }, label, el("span", { class: "hint muted" }, hint)), text, el("div", { class: "actions" }, send, cancel));
      formBox.replaceChildren(form);
      notice(box, "");
      text.focus();
    };
    const buttons = [];
    if (WAITING.includes(r.status) && !own) {
      buttons.push(el("button", { type: "button", id: "do-accept", "aria-label": r.status === "escalated" ? "响应（报到）" : "响应",
        onclick: (event) => step("accept", undefined, event.currentTarget) }, "响应"));
    }
    if (above) {
      buttons.push(el("button", { type: "button", class: "secondary", id: "open-escalate", "aria-label": `上报（吹哨）到${above}`,
        onclick: () => textForm("escalate", "上报理由", `（必填，200 字以内；${above}和居民都能看到）`, `上报${above}`) }, "上报"));
    }
    if (IN_HAND.includes(r.status) && !own) {
      buttons.push(el("button", { type: "button", class: "secondary", id: "open-resolve", "aria-label": "办结",
        onclick: () => textForm("resolve", "办理结果", "（必填，200 字以内；居民会看到并评价）", "确认办结") }, "办结"));
    }
    if (!buttons.length) return "";
    return el("div", { class: "act" }, el("div", { class: "actions" }, buttons), formBox);
  }

  // ---- start, and every 30 s: the clocks move, the queue is read again --------------------------------------------
  guarded(async () => {
    const [gridList, known] = await Promise.all([
      has("admin") || has("grid_worker") ? grids().catch(() => []) : [],
      has("street_staff") ? api("GET", "/v1/street/departments").catch(() => ({ items: [] })) : { items: [] },
      has("street_staff") ? streetCommunities() : null]);
    allGrids = gridList;
    departments = known.items;
    await Promise.all([loadQueue(), current ? showDetail(current, { focus: "title" }) : null]);
  });
  later(() => {
    document.querySelectorAll("#main .clock").forEach((node) => node.request && paintClock(node));
    if (!(queue === "admin" && view === "all")) loadQueue(true);
  }, 30000);
}

// The names of the communities of my streets: the requests name only the community's id (one statistics read a street).
async function streetCommunities() {
  if (communityNames.size) return;
  for (const street of state.me.street_ids || []) {
    try {
      const stats = await api("GET", `/v1/admin/requests/stats?street_id=${enc(street)}`);
      (stats.by_community || []).forEach((c) => c.name && communityNames.set(c.community_id, c.name));
    } catch { /* the ids stay */ }
  }
}
