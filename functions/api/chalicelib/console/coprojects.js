// 共建项目 (群众评单): the 双报到 page's fifth tab (admins), over the co-project routes.
//   The list — GET /v1/co-projects?status= (newest first, 加载更多 by its cursor): unit, dates, percent, the grids it
//   serves (names from GET /v1/admin/grids; none = the whole community), ratings count and average;
//   登记项目 — POST /v1/admin/co-projects: a need (one of the community's posts, GET /v1/posts, and/or written out), a
//   unit with an agreement in force (GET /v1/admin/units, the 共建单位 tab's route), optionally one of its resources
//   (GET /v1/units/{id}/resources), dates, beneficiaries and the grids served (checkboxes);
//   a project — GET /v1/co-projects/{id}: the facts, the timeline, 登记进展 (…/progress {note, percent}), 完成 (…/complete
//   {note?}, after a confirm step) and the 群众评单 summary (the residents rate in the mini-program) with the ratings
//   under it — GET /v1/admin/co-projects/{id}/ratings: score, comment, rater, newest first, 加载更多 by its cursor
//   (ratingList, which the 微实事 page's 验收 uses too).
// Every refusal is the API's Chinese message beside what was tried.
import { el, api, guarded, notice, when, enc, field, headRow, moreRows, grids, gridName, dayName, shanghaiToday, isoDay } from "./lib.js";

const STATUS = [["", "全部"], ["planned", "计划中"], ["in_progress", "进行中"], ["done", "已完成"]];
export const CO_STATUS = { planned: "计划中", in_progress: "进行中", done: "已完成" };
const ROLES = { admin: "管理员", unit_liaison: "单位联络员" };
const ACTIONS = { created: "登记项目", progress: "登记进展", completed: "项目完成" };
const PAGE = 20;

function shanghaiDay(offset) { const [y, m, d] = shanghaiToday(); return isoDay(new Date(Date.UTC(y, m - 1, d + offset))); }
// the grids a project serves, by name; none named = the whole community
export const servedNames = (ids, all) => (ids.length ? ids.map((id) => gridName(id, all)).join("、") : "全社区");
export const ratingText = (p) => (p.ratings_count ? `${p.rating_average} 分（${p.ratings_count} 人）` : "暂无评价");

// One rating as the staff read it: the score (2 or less flagged: the complaint someone must act on), the rater, when,
// the comment (none: only a score).
export const ratingItem = (r) => el("li", { class: "rating" },
  el("div", { class: "step" }, el("span", { class: r.rating <= 2 ? "tag flag" : "tag" }, `${r.rating} 分`),
    el("b", {}, r.rater.nickname), el("time", { class: "muted", datetime: r.created_at }, when(r.created_at))),
  r.comment ? el("p", { class: "note" }, r.comment) : el("p", { class: "muted" }, "只评了分，没有写评价"));

// A project's ratings (`path`: its …/ratings route), newest first as the API answers them, 加载更多 by the cursor.
export async function ratingList(path, id, empty) {
  const query = `${path}?limit=${PAGE}`;
  const page = await api("GET", query);
  if (!page.items.length) return el("p", { class: "muted", id }, empty);
  const body = el("ol", { class: "timeline ratings" }, page.items.map(ratingItem));
  const box = el("div", { id }, body);
  moreRows(box, body, query, page.next_cursor, ratingItem);
  return box;
}

export function coProjectsTab(panel, params) {
  const status = el("select", { id: "co-status", name: "status" },
    STATUS.map(([value, label]) => el("option", { value, selected: (params.get("status") || "") === value }, label)));
  const message = el("div", { id: "co-notice", role: "status", "aria-live": "polite" });
  const createBox = el("div", { id: "co-create" });
  const list = el("div", { id: "co-list", class: "queue" });
  const detail = el("div", { id: "co-detail" });
  const opener = el("button", { type: "button", id: "co-new", "aria-expanded": "false", onclick: () => openCreate() }, "登记共建项目");
  const form = el("form", { class: "card inline", "aria-label": "共建项目筛选", onsubmit: (event) => { event.preventDefault(); load(); } },
    field("co-status", "状态", status), el("button", { type: "submit", class: "secondary" }, "刷新"), opener,
    el("p", { class: "muted range" }, "社区的需求与共建单位的资源对接成项目，跟踪到完成，由服务网格的居民评价（群众评单）。"));
  status.addEventListener("change", () => load());
  panel.replaceChildren(form, createBox, message, list, detail);

  // ---- 登记共建项目 ----------------------------------------------------------------------------------------------------
  async function openCreate() {
    if (createBox.firstChild) { closeCreate(); return; }
    opener.setAttribute("aria-expanded", "true");
    await guarded(async () => {
      const [posts, units, all] = await Promise.all([api("GET", "/v1/posts?limit=100"), api("GET", "/v1/admin/units?limit=100"), grids()]);
      const signed = units.items.filter((u) => u.agreement && u.agreement.valid);
      const box = el("div", { role: "status", "aria-live": "polite" });
      const unit = el("select", { id: "co-unit", name: "unit_id", required: true },
        el("option", { value: "" }, signed.length ? "请选择" : "没有有效协议的单位"), signed.map((u) => el("option", { value: u.id }, u.name)));
      const resource = el("select", { id: "co-resource", name: "resource_id", disabled: true }, el("option", { value: "" }, "先选择单位"));
      unit.addEventListener("change", () => resourcesOf(unit.value));
      async function resourcesOf(unitId) {
        resource.replaceChildren(el("option", { value: "" }, unitId ? "正在加载…" : "先选择单位"));
        resource.disabled = true;
        if (!unitId) return;
        try {
          const page = await api("GET", `/v1/units/${enc(unitId)}/resources?limit=100`);
          if (unit.value !== unitId) return;  // another unit chosen meanwhile
          resource.replaceChildren(el("option", { value: "" }, page.items.length ? "不选（可选）" : "该单位还没有发布资源"),
            ...page.items.map((r) => el("option", { value: r.id }, `${r.title}（可服务 ${r.capacity} 人）`)));
          resource.disabled = !page.items.length;
        } catch (error) {
          resource.replaceChildren(el("option", { value: "" }, "资源清单读取失败"));
          notice(box, error.message, true);
        }
      }
      const post = el("select", { id: "co-post", name: "post_id" }, el("option", { value: "" }, "不选（在下面写明需求）"),
        posts.items.map((p) => el("option", { value: p.id }, p.title)));
      const gridBoxes = all.map((g) => el("label", {}, el("input", { type: "checkbox", name: "served_grid_ids", value: g.id }), g.name));
      const f = el("form", { class: "card event-form", id: "co-form", "aria-labelledby": "co-form-title", onsubmit: async (event) => {
        event.preventDefault();
        const e = f.elements;
        const need = {};
        if (post.value) need.post_id = post.value;
        if (e.need_text.value.trim()) need.text = e.need_text.value.trim();
        const body = { title: e.title.value.trim(), need, unit_id: unit.value, starts_on: e.starts_on.value, ends_on: e.ends_on.value,
          beneficiaries_note: e.beneficiaries_note.value.trim(),
          served_grid_ids: [...f.querySelectorAll("input[name=served_grid_ids]:checked")].map((i) => i.value) };
        if (resource.value) body.resource_id = resource.value;
        try {
          const made = await api("POST", "/v1/admin/co-projects", body);
          closeCreate();
          notice(message, `已登记共建项目“${made.title}”（${made.unit.name}）。`);
          status.value = "";
          await load();
          show(made.id);
        } catch (error) {
          notice(box, error.message, true);
          const name = error.details.field && error.details.field.split(".").pop();
          const named = { post_id: post, text: e.need_text, need: e.need_text, served_grid_ids: gridBoxes[0]?.firstChild }[name] || (name && e[name]);
          if (named && named.focus) named.focus();
        }
      } },
      el("h2", { id: "co-form-title" }, "登记共建项目"),
      signed.length ? "" : el("p", { class: "notice error" }, "本社区还没有有效的共建协议：请先在“共建单位”标签页与单位签订协议。"),
      el("div", { class: "grid-form" },
        field("co-title", "项目名称", el("input", { id: "co-title", name: "title", maxlength: 40, required: true, placeholder: "如：周末义诊进社区" }), "1–40 字"),
        field("co-unit", "承接单位", unit, "协议有效的共建单位"),
        field("co-resource", "单位资源", resource, "资源清单，可选"),
        field("co-post", "对接的岗位/需求", post, "社区清单，可选"),
        field("co-starts", "开始日期", el("input", { id: "co-starts", name: "starts_on", type: "date", value: shanghaiDay(0), required: true }), "北京时间"),
        field("co-ends", "结束日期", el("input", { id: "co-ends", name: "ends_on", type: "date", value: shanghaiDay(90), required: true }), "不早于开始，最长 3 年")),
      el("div", { class: "field wide" }, el("label", { for: "co-need" }, "需求内容", el("span", { class: "hint" }, "不选岗位时必填；选了岗位可作补充，最多 500 字")),
        el("textarea", { id: "co-need", name: "need_text", rows: 2, maxlength: 500 })),
      el("div", { class: "field wide" }, el("label", { for: "co-beneficiaries" }, "服务对象", el("span", { class: "hint" }, "如：3 栋、5 栋的独居老人，最多 200 字")),
        el("textarea", { id: "co-beneficiaries", name: "beneficiaries_note", rows: 2, maxlength: 200, required: true })),
      all.length ? el("fieldset", { id: "co-grids" }, el("legend", {}, "服务的网格（只有这些网格的居民可以评价；都不勾选即为全社区）"),
        el("div", { class: "checks" }, gridBoxes)) : "",
      el("div", { class: "actions" }, el("button", { type: "submit", disabled: !signed.length }, "登记"),
        el("button", { type: "button", class: "secondary", onclick: closeCreate }, "取消"), box));
      createBox.replaceChildren(f);
      f.elements.title.focus();
    });
    if (!createBox.firstChild) opener.setAttribute("aria-expanded", "false");
  }
  function closeCreate() { createBox.replaceChildren(); opener.setAttribute("aria-expanded", "false"); }

  // ---- the list --------------------------------------------------------------------------------------------------------
  let loads = 0;
  let all = [];
  async function load() {
    const ticket = ++loads;
    history.replaceState(null, "", `/console/party?tab=coprojects${status.value ? `&status=${enc(status.value)}` : ""}`);
    list.replaceChildren(el("p", { class: "muted" }, "正在加载…"));
    await guarded(async () => {
      const query = `/v1/co-projects?limit=${PAGE}${status.value ? `&status=${enc(status.value)}` : ""}`;
      const [page, names] = await Promise.all([api("GET", query), grids()]);
      if (ticket !== loads) return;
      all = names;
      if (!page.items.length) {
        list.replaceChildren(el("p", { class: "muted" }, status.value ? "没有这一状态的共建项目。" : "还没有共建项目。点“登记共建项目”把需求和单位资源对接起来。"));
        return;
      }
      const body = el("tbody", {}, page.items.map(row));
      list.replaceChildren(el("table", { id: "co-table", class: "party-table" },
        headRow(["项目", "共建单位", "起止日期", ["进度", "num"], "服务网格", "状态", ["评价人数", "num"], ["平均分", "num"], "操作"]), body));
      moreRows(list, body, query, page.next_cursor, row);
    });
  }

  function row(p) {
    return el("tr", { "data-id": p.id },
      el("th", { scope: "row" }, p.title), el("td", {}, p.unit.name),
      el("td", { class: "nowrap" }, dayName(p.starts_on), el("br"), `至 ${dayName(p.ends_on)}`),
      el("td", { class: "num" }, `${p.percent}%`), el("td", {}, servedNames(p.served_grid_ids, all)),
      el("td", {}, el("span", { class: `tag co-${p.status}` }, CO_STATUS[p.status] || p.status)),
      el("td", { class: "num" }, String(p.ratings_count)), el("td", { class: "num" }, p.rating_average === null ? "—" : String(p.rating_average)),
      el("td", { class: "nowrap" }, el("button", { type: "button", class: "secondary open", "aria-label": `查看项目 ${p.title}`,
        onclick: () => show(p.id) }, "查看")));
  }

  // ---- a project -------------------------------------------------------------------------------------------------------
  async function show(id, said = null) {
    await guarded(async () => {
      const [p, names] = await Promise.all([api("GET", `/v1/co-projects/${enc(id)}`), grids()]);
      all = names;
      history.replaceState(null, "", `/console/party?tab=coprojects${status.value ? `&status=${enc(status.value)}` : ""}&id=${enc(id)}`);
      const listed = list.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
      if (listed) listed.replaceWith(row(p));  // the list's row as the project is now
      const box = el("div", { id: "co-act-notice", role: "status", "aria-live": "polite" }, said ? el("p", { class: "notice" }, said) : "");
      const done = p.status === "done";
      const comments = done ? await ratingList(`/v1/admin/co-projects/${enc(id)}/ratings`, "co-rating-list", "还没有居民评价。") : null;
      const need = [p.need.post_title ? `岗位：${p.need.post_title}` : "", p.need.text || ""].filter(Boolean);
      detail.replaceChildren(el("section", { class: "card co-card", "aria-labelledby": "co-name" },
        el("h2", { id: "co-name", tabindex: "-1" }, p.title, " ", el("span", { class: `tag co-${p.status}` }, CO_STATUS[p.status] || p.status)),
        el("dl", { class: "facts co-facts" },
          el("dt", {}, "共建单位"), el("dd", {}, p.unit.name), el("dt", {}, "单位资源"), el("dd", {}, p.resource ? p.resource.title : "—"),
          el("dt", {}, "起止日期"), el("dd", {}, `${dayName(p.starts_on)} 至 ${dayName(p.ends_on)}`),
          el("dt", {}, "完成进度"), el("dd", { id: "co-percent" }, `${p.percent}%`, p.completed_at ? `（${when(p.completed_at)} 完成）` : ""),
          el("dt", {}, "服务网格"), el("dd", {}, servedNames(p.served_grid_ids, all)),
          el("dt", {}, "群众评单"), el("dd", { id: "co-ratings" }, ratingText(p))),
        el("dl", { class: "facts wide co-text" },
          el("dt", {}, "需求"), el("dd", {}, need.map((t) => el("div", {}, t))),
          el("dt", {}, "服务对象"), el("dd", {}, p.beneficiaries_note)),
        el("h3", {}, "进展"),
        el("ol", { class: "timeline", id: "co-timeline" }, p.timeline.map((s) => el("li", {},
          el("div", { class: "step" }, el("b", {}, ACTIONS[s.action] || s.action), el("span", {}, `${s.by.nickname}（${ROLES[s.role] || s.role}）`),
            s.percent === null ? "" : el("span", { class: "tag" }, `${s.percent}%`), el("time", { class: "muted", datetime: s.at }, when(s.at))),
          s.note ? el("p", { class: "note" }, s.note) : ""))),
        done ? [el("p", { class: "muted" }, p.ratings_count ? `${p.ratings_count} 位居民评价，平均 ${p.rating_average} 分（满分 5 分）。`
          : "项目已完成：服务网格的居民可以在小程序中评价（群众评单）。"), el("h3", {}, "居民评价（新的在前）"), comments]
          : [progressForm(p, box), completeBox(p, box)], box));
      detail.querySelector("h2").focus();
    });
  }

  function progressForm(p, box) {
    const note = el("input", { id: "co-progress-note", name: "note", maxlength: 500, required: true, placeholder: "如：已完成 3 栋、5 栋的上门义诊" });
    const percent = el("input", { id: "co-progress-percent", name: "percent", type: "number", class: "short", min: 0, max: 100, required: true, value: p.percent });
    return el("form", { class: "progress-form", id: "co-progress", "aria-label": "登记进展", onsubmit: async (event) => {
      event.preventDefault();
      try {
        const now = await api("POST", `/v1/admin/co-projects/${enc(p.id)}/progress`, { note: note.value.trim(), percent: Number(percent.value) });
        await show(p.id, `已登记进展：${now.percent}%。`);
      } catch (error) {
        notice(box, error.message, true);
        if (error.status === 409 || error.status === 404) load();
      }
    } }, field("co-progress-note", "进展说明", note), field("co-progress-percent", "完成进度（%）", percent),
    el("button", { type: "submit" }, "登记进展"));
  }

  // 完成: the button opens a confirm step with an optional note (a project done takes no more reports)
  function completeBox(p, box) {
    const holder = el("div", { class: "co-complete" });
    const ask = () => {
      const note = el("textarea", { id: "co-complete-note", name: "note", rows: 2, maxlength: 500, placeholder: "可选：完成情况说明" });
      holder.replaceChildren(el("form", { class: "confirm", id: "co-complete-form", onsubmit: async (event) => {
        event.preventDefault();
        const body = note.value.trim() ? { note: note.value.trim() } : {};
        try {
          await api("POST", `/v1/admin/co-projects/${enc(p.id)}/complete`, body);
          await show(p.id, `“${p.title}”已完成，已通知单位联络员；服务网格的居民可以评价了。`);
          load();
        } catch (error) {
          notice(box, error.message, true);
          if (error.status === 409 || error.status === 404) load();
        }
      } }, el("label", { for: "co-complete-note" }, `确认完成“${p.title}”？完成后进度记为 100%，不能再登记进展。`), note,
      el("div", { class: "actions" }, el("button", { type: "submit", id: "co-complete-yes" }, "确认完成"),
        el("button", { type: "button", class: "secondary", onclick: reset }, "取消"))));
      note.focus();
    };
    const reset = () => holder.replaceChildren(el("button", { type: "button", class: "secondary", id: "co-complete", onclick: ask }, "完成项目"));
    reset();
    return holder;
  }

  load().then(() => { if (params.get("id")) show(params.get("id")); });
}
