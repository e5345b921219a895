// 心愿 (微心愿): the community's wishes by status, grid and category; a wish's detail and its review (通过 / 驳回).
import { el, when, api, guarded, table, has, state, mainArea, grids, gridName, notice, enc } from "./lib.js";

// GET /v1/wishes?status= (the API's own labels, docs/wishes.md)
const STATUSES = [["pending_review", "待审核"], ["open", "待认领"], ["claimed", "已认领"], ["fulfilled", "已完成待确认"],
  ["confirmed", "已圆梦"], ["rejected", "未通过审核"], ["cancelled", "已撤销"], ["expired", "已过期"]];
const STATUS_LABELS = Object.fromEntries(STATUSES);
const CATEGORIES = ["生活帮扶", "助老", "助残", "助学", "医疗健康", "维修", "物资", "其他"];
const OVERDUE = "超时未认领";

const statusTag = (w) => [el("span", { class: `tag wish-${w.status}` }, w.status_label || STATUS_LABELS[w.status] || w.status),
  w.escalated && w.status === "open" ? el("span", { class: "tag wish-overdue", title: `吹哨时间：${when(w.escalated_at)}` }, OVERDUE) : ""];
const who = (person) => person?.nickname || "—";

// May I review this wish? An admin, or a worker of its grid (the API decides; this only hides what would be refused).
const mayReview = (w) => has("admin") || (has("grid_worker") && (state.me.grid_ids || []).includes(w.grid_id));

export function wishesPage() {
  const main = mainArea("心愿");
  const params = new URLSearchParams(location.search);
  const option = (value, label, picked) => el("option", { value, selected: picked === value }, label);
  const status = el("select", { id: "wish-status", name: "status" }, option("", "全部状态"),
    STATUSES.map(([value, label]) => option(value, label, params.get("status"))));
  const grid = el("select", { id: "wish-grid", name: "grid_id" }, option("", "全部网格"));
  const category = el("select", { id: "wish-category", name: "category" }, option("", "全部类别"),
    CATEGORIES.map((c) => option(c, c, params.get("category"))));
  const count = el("p", { class: "muted", role: "status", "aria-live": "polite" });
  const list = el("div", { id: "wish-list", class: "wish-list" });
  const more = el("button", { type: "button", class: "secondary", id: "wish-more", hidden: true, onclick: () => load(true) }, "更多");
  const detail = el("div", { id: "wish-detail" }, el("p", { class: "card muted" }, "点击心愿的标题，查看详情、经过，并审核待审核的心愿。"));
  const form = el("form", { class: "card inline", role: "search", "aria-label": "筛选心愿", onsubmit: (event) => {
    event.preventDefault();
    remember();  // the open wish stays open (and in the link) while the list is filtered
    load(false);
  } }, el("div", { class: "field" }, el("label", { for: "wish-status" }, "状态"), status),
  el("div", { class: "field" }, el("label", { for: "wish-grid" }, "网格"), grid),
  el("div", { class: "field" }, el("label", { for: "wish-category" }, "类别"), category),
  el("button", { type: "submit" }, "筛选"));
  for (const select of [status, grid, category]) select.addEventListener("change", () => form.requestSubmit());
  main.append(form, el("div", { class: "two wishes" }, el("div", {}, count, list, el("p", { class: "actions" }, more)), detail));

  // The address bar keeps the filters and the open wish (a link to this view can be sent or reloaded).
  function remember({ id = params.get("id") } = {}) {
    const next = new URLSearchParams();
    if (status.value) next.set("status", status.value);
    if (grid.value) next.set("grid_id", grid.value);
    if (category.value) next.set("category", category.value);
    if (id) next.set("id", id);
    params.delete("id");
    if (id) params.set("id", id);
    const query = next.toString();
    history.replaceState(null, "", `/console/wishes${query ? `?${query}` : ""}`);
  }

  let all = [];
  let cursor = null;
  let shown = [];
  let loads = 0;
  async function load(append) {
    const mine = ++loads;  // a filter changed while an earlier page was still coming: that page is dropped
    more.disabled = true;
    if (!append) { shown = []; cursor = null; list.replaceChildren(el("p", { class: "muted" }, "正在加载…")); count.textContent = ""; }
    await guarded(async () => {
      const query = new URLSearchParams({ limit: "20" });
      if (status.value) query.set("status", status.value);
      if (grid.value) query.set("grid_id", grid.value);
      if (category.value) query.set("category", category.value);
      // a page may hold fewer items than asked, even none, with a cursor to go on (a filter within the page)
      const found = [];
      for (let i = 0; i < 5 && found.length < 20; i += 1) {
        if (cursor) query.set("cursor", cursor);
        const page = await api("GET", `/v1/wishes?${query}`);
        if (mine !== loads) return;
        found.push(...page.items);
        cursor = page.next_cursor;
        if (!cursor) break;
      }
      shown = shown.concat(found);
      renderList();
    });
    if (mine === loads) more.disabled = false;
  }

  function renderList() {
    const overdue = shown.filter((w) => w.escalated && w.status === "open").length;
    count.textContent = !shown.length && !cursor ? "" : `已显示 ${shown.length} 条${cursor ? "，还有更多" : ""}${overdue ? `，其中 ${overdue} 条${OVERDUE}` : ""}`;
    more.hidden = !cursor;
    const openId = params.get("id");
    list.replaceChildren(table(["心愿", "发布人", "网格", "状态", "发布时间", "认领人"], shown.map((w) => el("tr", {
      class: [w.id === openId ? "current" : "", w.escalated && w.status === "open" ? "overdue" : ""].join(" ").trim() || null },
    el("td", {}, el("button", { type: "button", class: "link", "data-wish": w.id, "aria-label": `查看心愿：${w.title}`,
      onclick: () => showWish(w.id) }, w.title), el("br"), el("span", { class: "muted small" }, w.category)),
    el("td", {}, who(w.author)), el("td", { class: "nowrap" }, gridName(w.grid_id, all)),
    el("td", {}, statusTag(w)), el("td", { class: "nowrap" }, when(w.created_at)), el("td", {}, who(w.claimer)))),
    status.value ? `没有“${STATUS_LABELS[status.value]}”的心愿。` : "没有符合条件的心愿。", "wish-table"));
  }

  // A wish's detail: its facts, its history told from its times, and for one waiting for review the review itself.
  async function showWish(id, message = "") {
    remember({ id });
    for (const row of list.querySelectorAll("tr.current")) row.classList.remove("current");
    list.querySelector(`button[data-wish="${CSS.escape(id)}"]`)?.closest("tr").classList.add("current");
    await guarded(async () => {
      const w = await api("GET", `/v1/wishes/${enc(id)}`);
      const facts = [["类别", w.category], ["网格", gridName(w.grid_id, all)], ["发布人", who(w.author)],
        ["认领人", who(w.claimer)], ["联系电话", w.contact_phone || "—"], ["地址", w.address || "—"],
        ["截止时间", when(w.deadline)], ["发布时间", when(w.created_at)]];
      const box = el("div", { role: "status", "aria-live": "polite" });
      if (message) notice(box, message);
      detail.replaceChildren(el("section", { class: "card wish-card", "aria-labelledby": "wish-title" },
        el("h2", { id: "wish-title", tabindex: "-1" }, w.title), el("p", {}, statusTag(w)),
        el("p", { class: "wish-content" }, w.content),
        el("dl", { class: "facts" }, facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
        el("h3", {}, "经过"), timeline(w),
        w.status === "pending_review" && mayReview(w) ? review(w, box) : "", box));
      detail.querySelector("h2").focus();
    });
  }

  function timeline(w) {
    const steps = [[w.created_at, "发布", ""],
      [w.published_at && w.published_at !== w.created_at ? w.published_at : null, "审核通过，公开", ""],
      [w.escalated_at, "超时未认领，吹哨到网格", ""],
      [w.claimed_at, "认领", w.claimer ? who(w.claimer) : ""],
      [w.fulfilled_at, "完成", w.fulfil_note || ""],
      [w.confirmed_at, "确认圆梦", [w.rating ? `评分 ${w.rating} 星` : "", w.comment || "",
        w.points_awarded !== null && w.points_awarded !== undefined ? `认领人获得 ${w.points_awarded} 积分` : ""].filter(Boolean).join("；")]]
      .filter(([at]) => at).sort((a, b) => a[0].localeCompare(b[0]));
    if (w.status === "rejected") steps.push([null, "未通过审核", w.reject_reason ? `理由：${w.reject_reason}` : ""]);
    if (w.status === "cancelled") steps.push([null, "发布人撤销", ""]);
    if (w.status === "expired") steps.push([null, "过期未认领", ""]);
    return el("ol", { class: "wish-history" }, steps.map(([at, what, note]) => el("li", {},
      el("span", { class: "when" }, at ? when(at) : "—"), el("b", {}, what), note ? el("span", { class: "muted" }, ` ${note}`) : "")));
  }

  function review(w, box) {
    const reason = el("textarea", { id: "reject-reason", name: "reason", rows: 2, maxlength: 100, required: true,
      placeholder: "请写明驳回理由，发布人会看到" });
    const act = async (path, body, done) => {
      for (const b of detail.querySelectorAll(".review button")) b.disabled = true;
      try {
        await api("POST", `/v1/wishes/${enc(w.id)}/${path}`, body);
        await showWish(w.id, done);
        load(false);
      } catch (error) {
        for (const b of detail.querySelectorAll(".review button")) b.disabled = false;
        notice(box, error.message, true);
      }
    };
    return el("div", { class: "review" }, el("h3", {}, "审核"),
      el("p", { class: "actions" }, el("button", { type: "button", id: "approve-wish", "aria-label": `通过心愿：${w.title}`,
        onclick: () => act("approve", undefined, "已通过，心愿已公开，等待志愿者认领。") }, "通过")),
      el("form", { class: "reject", onsubmit: (event) => {
        event.preventDefault();
        const text = reason.value.trim();
        if (!text) { notice(box, "请填写驳回理由", true); reason.focus(); return; }
        act("reject", { reason: text }, "已驳回，发布人会收到理由。");
      } }, el("label", { for: "reject-reason" }, "驳回理由（必填，100 字以内）"), reason,
      el("p", { class: "actions" }, el("button", { type: "submit", class: "secondary", id: "reject-wish",
        "aria-label": `驳回心愿：${w.title}` }, "驳回"))));
  }

  guarded(async () => {
    all = await grids();
    grid.append(...all.map((g) => option(g.id, g.name, params.get("grid_id"))));
    const id = params.get("id");
    await Promise.all([load(false), id ? showWish(id) : null]);
  });
}
