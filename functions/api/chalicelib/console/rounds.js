// 微实事 (admins): the community's 微实事 rounds; the page's second tab, 微星光, is stars.js.
//   The rounds (GET /v1/project-rounds) with their phase; 发起微实事 (POST /v1/admin/project-rounds: the dates typed in
//   Beijing time, sent as ISO with +08:00); a round's page: the proposals to review (GET …/projects?status=proposed;
//   POST /v1/projects/{id}/approve {cost_yuan?} · …/reject {reason}), the approved and the rejected ones; while voting
//   only "投票进行中，结果在截止后公布" (the API answers no count before the close, admins included); after it the
//   results (GET …/results: rank, votes, 入选, turnout, budget used) and for each selected project its progress (POST
//   /v1/projects/{id}/progress {note, percent}) until 100 %; a done project's 居民验收 (count, average) opens its ratings
//   under its row (查看评价: GET /v1/projects/{id}/ratings, newest first, 加载更多 — coprojects.js's ratingList).
// Every refusal is the API's Chinese message beside what was tried.
import { starsTab } from "./stars.js";
import { ratingList } from "./coprojects.js";
import { el, api, guarded, mainArea, notice, when, enc, field, tabStrip, headRow, moreRows, shanghaiToday } from "./lib.js";

const TABS = [["rounds", "微实事"], ["stars", "微星光"]];
export const PHASES = { proposing: "征集中", reviewing: "审核中", voting: "投票中", publicity: "公示中",
  implementing: "实施中", done: "已完成" };
const STYLES = { approval: "赞成票制", budget: "预算制" };
const REVIEWABLE = ["proposing", "reviewing"];   // reviews close when voting opens (the API's condition)
const COUNTED = ["publicity", "implementing", "done"];  // voting closed: the results exist
const beijing = (value) => (value ? `${value}:00+08:00` : null);  // a datetime-local value, read as Beijing time
const yuan = (n) => `${Number(n).toLocaleString("zh-CN")} 元`;

// A datetime-local value (Beijing time) `days` from today at `hour`:00.
function localAt(days, hour) {
  const [y, m, d] = shanghaiToday();
  const day = new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
  return `${day}T${String(hour).padStart(2, "0")}:00`;
}

// ---- the page ------------------------------------------------------------------------------------------------------
export function roundsPage() {
  const main = mainArea("微实事 · 微星光");
  const params = new URLSearchParams(location.search);
  const tab = TABS.some(([key]) => key === params.get("tab")) ? params.get("tab") : "rounds";
  const panel = el("div", { id: "rounds-body", role: "tabpanel" });
  const tabs = tabStrip(TABS, { label: "微实事与微星光", controls: "rounds-body", current: tab, onPick: (key) => pick(key) });
  main.append(tabs, panel);
  function pick(key, first = false) {
    tabs.select(key);
    if (!first) history.replaceState(null, "", `/console/rounds?tab=${key}`);
    panel.setAttribute("aria-labelledby", `tab-${key}`);
    (key === "rounds" ? roundsTab : starsTab)(panel, first ? params : new URLSearchParams());
  }
  pick(tab, true);
}

// ---- 微实事: the rounds, a new round --------------------------------------------------------------------------------
function roundsTab(panel, params) {
  const message = el("div", { id: "round-notice", role: "status", "aria-live": "polite" });
  const createBox = el("div", { id: "round-create" });
  const list = el("div", { id: "round-list", class: "queue" });
  const detail = el("div", { id: "round-detail" });
  // what a review or a progress report did, kept across the round's page being read again
  const say = el("div", { id: "review-notice", role: "status", "aria-live": "polite" });
  const opener = el("button", { type: "button", id: "round-new", "aria-expanded": "false", onclick: () => openCreate() }, "发起微实事");
  panel.replaceChildren(el("div", { class: "card round-bar" },
    el("p", { class: "muted" }, "居民提出项目 → 管理员审核 → 居民投票（每人一票）→ 公示结果 → 实施与验收。票数在投票截止后才公布。"), opener),
  createBox, message, list, detail);

  function openCreate() {
    if (createBox.firstChild) { closeCreate(); return; }
    opener.setAttribute("aria-expanded", "true");
    const box = el("div", { role: "status", "aria-live": "polite" });
    const style = el("select", { id: "round-style", name: "style" },
      Object.entries(STYLES).map(([value, label]) => el("option", { value }, label)));
    const maxField = field("round-max", "每票最多选", el("input", { id: "round-max", name: "max_choices", type: "number", min: 1, max: 10, value: 3 }), "1–10 个项目");
    style.addEventListener("change", () => { maxField.hidden = style.value !== "approval"; });
    const f = el("form", { class: "card event-form", id: "round-form", onsubmit: async (event) => {
      event.preventDefault();
      const e = f.elements;
      const body = { title: e.title.value.trim(), budget_yuan: Number(e.budget_yuan.value), style: style.value,
        proposals_until: beijing(e.proposals_until.value), voting_from: beijing(e.voting_from.value),
        voting_until: beijing(e.voting_until.value), publicity_days: Number(e.publicity_days.value) };
      if (style.value === "approval") body.max_choices = Number(e.max_choices.value);
      try {
        const round = await api("POST", "/v1/admin/project-rounds", body);
        closeCreate();
        notice(message, `已发起“${round.title}”，居民可在 ${when(round.proposals_until)} 前提出项目。`);
        await load();
        showRound(round.id);
      } catch (error) {
        notice(box, error.message, true);
        const named = error.details.field && e[error.details.field.split(".")[0]];
        if (named && named.focus) named.focus();
      }
    } },
    el("h2", {}, "发起微实事"),
    el("div", { class: "grid-form" },
      field("round-title", "名称", el("input", { id: "round-title", name: "title", maxlength: 40, required: true, placeholder: "如：2027 年第一季度民生微实事" })),
      field("round-budget", "总预算（元）", el("input", { id: "round-budget", name: "budget_yuan", type: "number", min: 1, max: 10000000, required: true })),
      field("round-style", "投票方式", style, "赞成票制：每票选几个；预算制：所选合计不超预算"),
      maxField,
      field("round-proposals", "征集截止", el("input", { id: "round-proposals", name: "proposals_until", type: "datetime-local", required: true, value: localAt(7, 18) }), "北京时间"),
      field("round-from", "投票开始", el("input", { id: "round-from", name: "voting_from", type: "datetime-local", required: true, value: localAt(10, 9) }), "此前审核项目"),
      field("round-until", "投票截止", el("input", { id: "round-until", name: "voting_until", type: "datetime-local", required: true, value: localAt(17, 18) }), "北京时间"),
      field("round-publicity", "公示天数", el("input", { id: "round-publicity", name: "publicity_days", type: "number", min: 0, max: 30, value: 7, required: true }), "0–30 天")),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "发起"),
      el("button", { type: "button", class: "secondary", onclick: closeCreate }, "取消"), box));
    createBox.replaceChildren(f);
    f.elements.title.focus();
  }
  function closeCreate() { createBox.replaceChildren(); opener.setAttribute("aria-expanded", "false"); }

  async function load() {
    list.replaceChildren(el("p", { class: "muted" }, "正在加载…"));
    await guarded(async () => {
      const page = await api("GET", "/v1/project-rounds?limit=20");
      if (!page.items.length) { list.replaceChildren(el("p", { class: "muted" }, "还没有微实事。点“发起微实事”开始征集项目。")); return; }
      const body = el("tbody", {}, page.items.map(row));
      list.replaceChildren(el("table", { id: "round-table", class: "party-table" },
        headRow(["名称", "阶段", ["总预算", "num"], "投票方式", "征集截止", "投票时间", ["提出", "num"], ["通过", "num"], "操作"]), body));
      moreRows(list, body, "/v1/project-rounds?limit=20", page.next_cursor, row);
    });
  }
  function row(r) {
    return el("tr", { "data-id": r.id },
      el("th", { scope: "row" }, r.title), el("td", {}, el("span", { class: `tag phase-${r.phase}` }, PHASES[r.phase] || r.phase)),
      el("td", { class: "num" }, yuan(r.budget_yuan)),
      el("td", {}, r.style === "approval" ? `${STYLES.approval}（每票 ≤ ${r.max_choices}）` : STYLES.budget),
      el("td", { class: "nowrap" }, when(r.proposals_until)), el("td", { class: "nowrap" }, `${when(r.voting_from)} – ${when(r.voting_until)}`),
      el("td", { class: "num" }, String(r.proposed_count)), el("td", { class: "num" }, String(r.approved_count)),
      el("td", {}, el("button", { type: "button", class: "secondary open", "aria-label": `查看 ${r.title}`, onclick: () => showRound(r.id) }, "查看")));
  }

  // ---- a round's page ----------------------------------------------------------------------------------------------
  async function showRound(id) {
    history.replaceState(null, "", `/console/rounds?round=${enc(id)}`);
    await guarded(async () => {
      const path = `/v1/project-rounds/${enc(id)}/projects`;
      const [round, proposed, approved, rejected] = await Promise.all([api("GET", `/v1/project-rounds/${enc(id)}`),
        api("GET", `${path}?status=proposed&limit=50`), api("GET", `${path}?status=approved&limit=50`),
        api("GET", `${path}?status=rejected&limit=50`)]);
      const results = COUNTED.includes(round.phase) ? await api("GET", `/v1/project-rounds/${enc(id)}/results`) : null;
      if (detail.dataset.id !== id) notice(say, "");  // another round: what was said of the last one goes
      detail.dataset.id = id;
      const listed = list.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
      if (listed) listed.replaceWith(row(round));
      const card = el("section", { class: "card round-card", "aria-labelledby": "round-name" },
        el("h2", { id: "round-name", tabindex: "-1" }, round.title, " ", el("span", { class: `tag phase-${round.phase}` }, PHASES[round.phase] || round.phase)),
        el("p", { class: "muted", id: "round-facts" }, `总预算 ${yuan(round.budget_yuan)} · ${round.style === "approval" ? `${STYLES.approval}，每票最多选 ${round.max_choices} 个` : `${STYLES.budget}，所选项目合计不超过总预算`}`
          + ` · 征集截止 ${when(round.proposals_until)} · 投票 ${when(round.voting_from)} – ${when(round.voting_until)}`
          + (round.publicity_days ? ` · 公示 ${round.publicity_days} 天（至 ${when(round.publicity_until)}）` : " · 不公示，投票截止后即实施")), say);
      // the votes: nothing while voting runs; the results after the close
      if (round.phase === "voting") card.append(el("p", { class: "notice", id: "round-voting" }, "投票进行中，结果在截止后公布"));
      if (results) card.append(resultsView(round, results));
      if (results && ["implementing", "done"].includes(round.phase)) card.append(deliveryView(round, results, approved.items, say, () => showRound(id)));
      if (round.phase === "publicity") card.append(el("p", { class: "muted" }, `公示中：${when(round.publicity_until)} 公示结束后开始实施，届时可以登记实施进展。`));
      // the proposals
      if (REVIEWABLE.includes(round.phase) || proposed.items.length) {
        card.append(el("h3", {}, `待审核（${proposed.items.length}${proposed.next_cursor ? "+" : ""}）`),
          reviewView(round, proposed, say, () => showRound(id)));
      }
      card.append(el("h3", {}, `已通过（${round.approved_count}）`), projectTable("approved-table", approved, `${path}?status=approved&limit=50`, false, "还没有通过审核的项目。"),
        el("h3", {}, "未通过"), projectTable("rejected-table", rejected, `${path}?status=rejected&limit=50`, true, "没有未通过的项目。"));
      detail.replaceChildren(card);
      detail.querySelector("h2").focus();
    });
  }

  function projectTable(id, page, query, rejected, empty) {
    if (!page.items.length) return el("p", { class: "muted" }, empty);
    const row = (p) => el("tr", { "data-id": p.id }, el("th", { scope: "row" }, p.title), el("td", {}, p.category),
      el("td", { class: "num" }, yuan(p.cost_yuan)), el("td", {}, p.proposer.nickname),
      rejected ? el("td", {}, p.reject_reason || "—") : el("td", { class: "nowrap" }, when(p.approved_at)));
    const body = el("tbody", {}, page.items.map(row));
    const wrap = el("div", {}, el("table", { id, class: "party-table" },
      headRow(["项目", "类别", ["费用", "num"], "提出人", rejected ? "未通过原因" : "通过时间"]), body));
    moreRows(wrap, body, query, page.next_cursor, row);
    return wrap;
  }

  // 待审核: 通过 with an optional corrected cost, 驳回 with a reason (while reviews are open: before voting opens)
  function reviewView(round, page, say, reload) {
    if (!page.items.length) return el("p", { class: "muted" }, REVIEWABLE.includes(round.phase) ? "没有待审核的项目。" : "没有待审核的项目。投票开始后不能再审核。");
    const open = REVIEWABLE.includes(round.phase);
    const row = (p) => {
      const cost = el("input", { type: "number", class: "short", min: 1, max: round.budget_yuan, name: "cost_yuan",
        placeholder: String(p.cost_yuan), "aria-label": `核定 ${p.title} 的费用（元）` });
      const tr = el("tr", { "data-id": p.id },
        el("th", { scope: "row" }, p.title, el("div", { class: "small muted" }, p.description)), el("td", {}, p.category),
        el("td", { class: "num" }, yuan(p.cost_yuan)), el("td", {}, p.proposer.nickname), el("td", { class: "nowrap" }, when(p.created_at)),
        open ? el("td", { class: "nowrap" }, cost, " ",
          el("button", { type: "button", class: "approve", "aria-label": `通过 ${p.title}`, onclick: () => approve(p, cost) }, "通过"), " ",
          el("button", { type: "button", class: "secondary reject", "aria-label": `驳回 ${p.title}`, onclick: () => rejectForm(p, tr) }, "驳回"))
          : el("td", { class: "muted" }, "投票已开始"));
      return tr;
    };
    async function approve(p, cost) {
      const body = cost.value ? { cost_yuan: Number(cost.value) } : {};
      try {
        const done = await api("POST", `/v1/projects/${enc(p.id)}/approve`, body);
        notice(say, `已通过“${done.title}”，费用 ${yuan(done.cost_yuan)}，进入投票。`);
        reload();
      } catch (error) {
        notice(say, `${p.title}：${error.message}`, true);
        if (error.status === 409 || error.status === 404) reload();
      }
    }
    function rejectForm(p, tr) {
      const shown = tr.nextElementSibling?.classList.contains("adjust-row") ? tr.nextElementSibling : null;
      if (shown) { shown.remove(); return; }
      const reason = el("textarea", { id: `reason-${p.id}`, name: "reason", rows: 2, maxlength: 200, required: true,
        placeholder: "例如：属于物业维修基金范围，请联系物业" });
      const box = el("div");
      const form = el("form", { onsubmit: async (event) => {
        event.preventDefault();
        const text = reason.value.trim();
        if (!text) { notice(box, "请填写未通过的原因", true); reason.focus(); return; }
        try {
          await api("POST", `/v1/projects/${enc(p.id)}/reject`, { reason: text });
          notice(say, `“${p.title}”未通过，原因已告知提出人。`);
          reload();
        } catch (error) {
          if (error.status === 409 || error.status === 404) { notice(say, `${p.title}：${error.message}`, true); reload(); }
          else notice(box, error.message, true);
        }
      } }, el("label", { class: "grow", for: `reason-${p.id}` }, "未通过的原因（提出人可见，最多 200 字）", reason),
      el("button", { type: "submit" }, "确认驳回"), box);
      tr.after(el("tr", { class: "adjust-row" }, el("td", { colspan: 6 }, form)));
      reason.focus();
    }
    const body = el("tbody", {}, page.items.map(row));
    return el("table", { id: "review-table", class: "party-table" },
      headRow(["项目", "类别", ["申报费用", "num"], "提出人", "提出时间", open ? "审核（可核定费用）" : "审核"]), body);
  }

  // 结果: rank, votes, 入选; turnout and the budget used
  function resultsView(round, results) {
    const rows = results.items.map((i) => el("tr", { "data-id": i.project.id, class: i.selected ? "selected" : null },
      el("td", { class: "num" }, String(i.rank)), el("th", { scope: "row" }, i.project.title), el("td", {}, i.project.category),
      el("td", { class: "num" }, yuan(i.project.cost_yuan)), el("td", { class: "num" }, String(i.votes)),
      el("td", {}, i.selected ? el("span", { class: "tag ok" }, "入选") : "—")));
    return el("div", { id: "round-results" },
      el("h3", {}, "投票结果", results.final ? "" : el("span", { class: "tag" }, "待定稿")),
      el("p", { id: "round-turnout" }, `参与投票 ${results.turnout} 人 · 入选 ${results.items.filter((i) => i.selected).length} 个项目，`
        + `使用预算 ${yuan(results.selected_yuan)} / ${yuan(results.budget_yuan)}`),
      rows.length ? el("table", { id: "results-table", class: "party-table" },
        headRow([["名次", "num"], "项目", "类别", ["费用", "num"], ["得票", "num"], "是否入选"]), el("tbody", {}, rows))
        : el("p", { class: "muted" }, "本轮没有进入投票的项目。"));
  }

  // 实施: each selected project's progress, a report (note, percent) until it is done
  function deliveryView(round, results, approved, say, reload) {
    const byId = Object.fromEntries(approved.map((p) => [p.id, p]));
    const chosen = results.items.filter((i) => i.selected);
    if (!chosen.length) return el("p", { class: "muted" }, "没有入选的项目。");
    const rows = chosen.map(({ project }) => {
      const p = byId[project.id] || { percent: 0, done_at: null, ratings_count: 0, rating_average: null };
      const note = el("input", { name: "note", maxlength: 500, required: true, placeholder: "如：扶手已安装完 2 个单元", "aria-label": `${project.title} 的进展说明` });
      const percent = el("input", { name: "percent", type: "number", class: "short", min: 0, max: 100, required: true,
        value: p.percent, "aria-label": `${project.title} 的完成进度（%）` });
      const form = el("form", { class: "progress-form", onsubmit: async (event) => {
        event.preventDefault();
        try {
          const done = await api("POST", `/v1/projects/${enc(project.id)}/progress`, { note: note.value.trim(), percent: Number(percent.value) });
          notice(say, done.done_at ? `“${project.title}”已完工，居民可以验收评价。` : `已登记“${project.title}”的进展：${done.percent}%。`);
          reload();
        } catch (error) {
          notice(say, `${project.title}：${error.message}`, true);
        }
      } }, note, percent, "%", el("button", { type: "submit" }, "登记进展"));
      return el("tr", { "data-id": project.id },
        el("th", { scope: "row" }, project.title), el("td", { class: "num" }, `${p.percent}%`),
        el("td", {}, p.done_at ? `已完工 ${when(p.done_at)}` : "实施中"),
        el("td", {}, p.ratings_count ? [`${p.rating_average} 分（${p.ratings_count} 人）`, " ",
          el("button", { type: "button", class: "secondary show-ratings", "aria-expanded": "false", "aria-label": `查看 ${project.title} 的验收评价`,
            onclick: (event) => toggleRatings(project, event.currentTarget) }, "查看评价")] : "—"),
        el("td", {}, p.done_at ? "—" : form));
    });
    // 查看评价: the project's ratings in a row under it (again: closed)
    function toggleRatings(project, button) {
      const tr = button.closest("tr");
      const shown = tr.nextElementSibling?.classList.contains("adjust-row") ? tr.nextElementSibling : null;
      if (shown) { shown.remove(); button.setAttribute("aria-expanded", "false"); return; }
      guarded(async () => {
        const list = await ratingList(`/v1/projects/${enc(project.id)}/ratings`, `ratings-${project.id}`, "还没有验收评价。");
        tr.after(el("tr", { class: "adjust-row ratings-row" }, el("td", { colspan: 5 }, el("h4", {}, `“${project.title}”的居民验收评价（新的在前）`), list)));
        button.setAttribute("aria-expanded", "true");
      });
    }
    return el("div", { id: "round-delivery" }, el("h3", {}, "实施进展"),
      el("table", { id: "delivery-table", class: "party-table" }, headRow(["入选项目", ["进度", "num"], "状态", "居民验收", "登记进展（100% 即完工）"]),
        el("tbody", {}, rows)));
  }

  load().then(() => { if (params.get("round")) showRound(params.get("round")); });
}
