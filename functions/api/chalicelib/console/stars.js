// 微星光 (admins; the second tab of the 微实事 page, rounds.js): the month's candidates (GET
// /v1/admin/commendations/candidates?month=: top 10 by points and by minutes, the already commended marked), 表彰 (POST
// /v1/admin/commendations), the standing list (GET /v1/commendations) with 撤销 and its reason (POST
// /v1/admin/commendations/{id}/revoke). Every refusal is the API's Chinese message beside what was tried.
import { ROLE_LABELS, el, api, guarded, notice, enc, field, headRow, moreRows, shanghaiToday, dayName } from "./lib.js";

// This month and the 5 before it, as YYYY-MM (Shanghai).
function months() {
  const [y, m] = shanghaiToday();
  return Array.from({ length: 6 }, (_, i) => {
    const k = y * 12 + (m - 1) - i;
    return `${Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, "0")}`;
  });
}
const monthName = (key) => `${key.slice(0, 4)}年${+key.slice(5, 7)}月`;

// ---- 微星光: the month's candidates, commend, the list with revoke -------------------------------------------------------
export function starsTab(panel, params) {
  const all = months();
  const month = el("select", { id: "cand-month", name: "month" },
    all.map((key) => el("option", { value: key, selected: (params.get("month") || all[0]) === key }, monthName(key))));
  const candidates = el("div", { id: "cand-list", class: "two" });
  const message = el("div", { id: "cmd-notice", role: "status", "aria-live": "polite" });
  const list = el("div", { id: "cmd-list", class: "queue" });
  const box = el("div", { role: "status", "aria-live": "polite" });
  const NOBODY = "从上方候选人中点“表彰”，或按昵称、姓名查找居民。";
  const who = el("p", { class: "cmd-who", id: "cmd-who" }, NOBODY);
  const found = el("div", { id: "cmd-found" });
  const q = el("input", { id: "cmd-q", type: "search", maxlength: 20, placeholder: "昵称、姓名或手机尾号",
    onkeydown: (event) => { if (event.key === "Enter") { event.preventDefault(); findMembers(); } } });
  const form = el("form", { class: "card event-form", id: "cmd-form", onsubmit: (event) => { event.preventDefault(); commend(); } },
    el("h2", {}, "表彰"),
    el("input", { type: "hidden", id: "cmd-user", name: "user_id" }),
    el("div", { class: "cmd-find" }, field("cmd-q", "查找居民", q),
      el("button", { type: "button", class: "secondary", id: "cmd-search", onclick: () => findMembers() }, "查找"), who),
    found,
    el("div", { class: "grid-form" },
      field("cmd-title", "称号", el("input", { id: "cmd-title", name: "title", maxlength: 30, required: true, placeholder: "如：优秀志愿者" })),
      field("cmd-period", "期次", el("input", { id: "cmd-period", name: "period", required: true, value: all[0], pattern: "\\d{4}(-\\d{2})?" }), "YYYY-MM 或 YYYY")),
    el("div", { class: "field wide" }, el("label", { for: "cmd-story" }, "事迹（社区居民可见，最多 1000 字）"),
      el("textarea", { id: "cmd-story", name: "story", rows: 3, maxlength: 1000, required: true })),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "表彰"), box));
  panel.replaceChildren(
    el("form", { class: "card inline", "aria-label": "候选人月份", onsubmit: (event) => { event.preventDefault(); loadCandidates(); } },
      field("cand-month", "月份", month), el("button", { type: "submit", class: "secondary" }, "刷新"),
      el("p", { class: "muted" }, "本月积分榜和志愿服务时长榜前 10 名，作为表彰候选人参考。")),
    candidates, form, message, el("h2", {}, "社区的表彰"), list);
  month.addEventListener("change", () => loadCandidates());

  async function loadCandidates() {
    history.replaceState(null, "", `/console/rounds?tab=stars&month=${enc(month.value)}`);
    candidates.replaceChildren(el("p", { class: "muted" }, "正在加载…"));
    await guarded(async () => {
      const answer = await api("GET", `/v1/admin/commendations/candidates?month=${enc(month.value)}`);
      const board = (id, title, unit, items) => el("section", { class: "card", "aria-labelledby": `${id}-h` },
        el("h2", { id: `${id}-h` }, `${monthName(answer.month)}${title}`),
        items.length ? el("table", { id, class: "party-table" }, headRow([["名次", "num"], "昵称", [unit, "num"], "表彰"]),
          el("tbody", {}, items.map((c) => el("tr", { "data-id": c.user.id },
            el("td", { class: "num" }, String(c.rank)), el("th", { scope: "row" }, c.user.nickname), el("td", { class: "num" }, String(c.score)),
            el("td", {}, c.commended ? el("span", { class: "tag ok" }, "已表彰")
              : el("button", { type: "button", class: "secondary pick", "aria-label": `表彰 ${c.user.nickname}`, onclick: () => choose(c.user, answer.month) }, "表彰"))))))
          : el("p", { class: "muted" }, "这个月还没有人上榜。"));
      candidates.replaceChildren(board("cand-points", "积分榜", "积分", answer.points), board("cand-minutes", "志愿服务时长榜", "分钟", answer.minutes));
    });
  }

  function choose(user, period) {
    form.elements.user_id.value = user.id;
    if (period) form.elements.period.value = period;
    who.textContent = `被表彰人：${user.nickname}${user.real_name ? `（${user.real_name}）` : ""}`;
    found.replaceChildren();
    form.elements.title.focus();
  }

  // 查找居民: the admin's member search (GET /v1/admin/members?q=), its first 10
  async function findMembers() {
    const text = q.value.trim();
    if (!text) { q.focus(); return; }
    await guarded(async () => {
      try {
        const page = await api("GET", `/v1/admin/members?q=${enc(text)}&limit=10`);
        found.replaceChildren(page.items.length ? el("table", { id: "cmd-members", class: "party-table" },
          headRow(["昵称", "姓名", "身份", "选择"]), el("tbody", {}, page.items.map((m) => el("tr", { "data-id": m.id },
            el("th", { scope: "row" }, m.nickname), el("td", {}, m.real_name || "—"),
            el("td", {}, m.roles.filter((r) => r !== "resident").map((r) => ROLE_LABELS[r] || r).join("、") || "居民"),
            el("td", {}, el("button", { type: "button", class: "secondary choose", "aria-label": `选择 ${m.nickname}`, onclick: () => choose(m) }, "选择"))))))
          : el("p", { class: "muted" }, "没有找到符合条件的居民。"));
      } catch (error) {
        if (error.status === 400) found.replaceChildren(el("p", { class: "notice error" }, error.message)); else throw error;
      }
    });
  }

  async function commend() {
    const e = form.elements;
    if (!e.user_id.value) { notice(box, "请先选择被表彰的居民", true); q.focus(); return; }
    try {
      const made = await api("POST", "/v1/admin/commendations", { user_id: e.user_id.value.trim(), title: e.title.value.trim(),
        story: e.story.value.trim(), period: e.period.value.trim() });
      notice(box, "");
      notice(message, `已表彰 ${made.user.nickname}：“${made.title}”（${made.period}），会显示在本人主页。`);
      e.title.value = ""; e.story.value = ""; e.user_id.value = ""; q.value = "";
      who.textContent = NOBODY;
      loadList();
      loadCandidates();
    } catch (error) {
      notice(box, error.message, true);
      const named = error.details.field && e[error.details.field.split(".")[0]];
      if (named && named.focus) named.focus();
    }
  }

  async function loadList() {
    list.replaceChildren(el("p", { class: "muted" }, "正在加载…"));
    await guarded(async () => {
      const page = await api("GET", "/v1/commendations?limit=20");
      if (!page.items.length) { list.replaceChildren(el("p", { class: "muted" }, "还没有表彰。")); return; }
      const body = el("tbody", {}, page.items.map(row));
      list.replaceChildren(el("table", { id: "cmd-table", class: "party-table" },
        headRow(["被表彰人", "称号", "事迹", "期次", "表彰时间", "表彰人", "操作"]), body));
      moreRows(list, body, "/v1/commendations?limit=20", page.next_cursor, row);
    });
  }
  function row(c) {
    const tr = el("tr", { "data-id": c.id },
      el("th", { scope: "row", class: "nowrap" }, c.user.nickname), el("td", {}, c.title), el("td", {}, c.story),
      el("td", { class: "nowrap" }, /^\d{4}-\d{2}$/.test(c.period) ? monthName(c.period) : `${c.period}年`),
      el("td", { class: "nowrap" }, dayName(c.created_at)), el("td", { class: "nowrap" }, c.commended_by ? c.commended_by.nickname : "—"),
      el("td", {}, el("button", { type: "button", class: "secondary revoke", "aria-label": `撤销 ${c.user.nickname} 的“${c.title}”`,
        onclick: () => revokeForm(c, tr) }, "撤销")));
    return tr;
  }
  function revokeForm(c, tr) {
    const shown = tr.nextElementSibling?.classList.contains("adjust-row") ? tr.nextElementSibling : null;
    if (shown) { shown.remove(); return; }
    const reason = el("textarea", { id: `revoke-${c.id}`, name: "reason", rows: 2, maxlength: 200, required: true,
      placeholder: "例如：事迹核实有误" });
    const note = el("div");
    const f = el("form", { onsubmit: async (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      if (!text) { notice(note, "请填写撤销原因", true); reason.focus(); return; }
      try {
        await api("POST", `/v1/admin/commendations/${enc(c.id)}/revoke`, { reason: text });
        notice(message, `已撤销 ${c.user.nickname} 的“${c.title}”。`);
        loadList();
        loadCandidates();
      } catch (error) {
        if (error.status === 409 || error.status === 404) { notice(message, `${c.user.nickname}：${error.message}`, true); loadList(); }
        else notice(note, error.message, true);
      }
    } }, el("label", { class: "grow", for: `revoke-${c.id}` }, "撤销原因（仅管理员可见，最多 200 字）", reason),
    el("button", { type: "submit" }, "确认撤销"), note);
    tr.after(el("tr", { class: "adjust-row" }, el("td", { colspan: 7 }, f)));
    reason.focus();
  }
  loadCandidates();
  loadList();
}
