// 积分: award points to a member (发放积分), a member's passbook (积分存折), an award taken back (撤销, admins).
import { state, el, when, api, guarded, table, has, mainArea, grids, gridName, notice, enc } from "./lib.js";

// the three kinds of award (docs/glossary.md), with what they reward
export const AWARD_CATEGORIES = [
  ["charity", "雪中送炭（公益）"], ["mediation", "息事宁人（调解）"], ["participation", "锦上添花（参与）"]];
export const ENTRY_KINDS = { wish: "心愿", volunteer: "志愿服务", award: "奖励", reversal: "奖励撤销", redeem: "兑换",
  refund: "退回" };
const PAGE = 20;

// The award id an entry belongs to: an award's entry and its reversal both carry `source: "award:<award id>"`.
export const awardIdOf = (entry) => (/^award:(.+)$/.exec(entry.source || "") || [])[1] || null;

export function pointsPage() {
  const main = mainArea("积分");
  const params = new URLSearchParams(location.search);
  const q = el("input", { id: "pt-q", name: "q", type: "search", maxlength: 20, placeholder: "昵称、姓名或手机号后四位" });
  const grid = el("select", { id: "pt-grid", name: "grid_id" });
  const results = el("div", { id: "pt-results" });
  const awardBox = el("section", { class: "card", id: "pt-award", "aria-labelledby": "pt-award-title" });
  const book = el("section", { id: "pt-book", "aria-live": "polite" });
  const form = el("form", { class: "card inline", role: "search", onsubmit: (event) => { event.preventDefault(); search(); } },
    el("div", { class: "field" }, el("label", { for: "pt-q" }, "查找居民"), q),
    el("div", { class: "field" }, el("label", { for: "pt-grid" }, "网格"), grid),
    el("button", { type: "submit" }, "搜索"));
  // left: find a member; right: the chosen member's award form and passbook
  main.append(el("div", { class: "pt-layout" }, el("div", { class: "pt-finder" }, form, results), el("div", {}, awardBox, book)));

  let chosen = null;        // the member whose award form and passbook show: {id, nickname, real_name, grid_id}
  let caps = null;          // {charity, mediation, participation, daily} from the community settings (admins only)
  let searches = 0;
  let books = 0;

  async function search() {
    const mine = ++searches;
    results.replaceChildren(el("p", { class: "muted", role: "status" }, "正在搜索…"));
    await guarded(async () => {
      const all = await grids();
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (q.value.trim()) query.set("q", q.value.trim());
      if (grid.value) query.set("grid_id", grid.value);
      const page = await api("GET", `/v1/admin/members?${query}`);
      if (mine !== searches) return;
      results.replaceChildren(
        el("p", { class: "muted", role: "status" }, `共 ${page.items.length} 人${page.next_cursor ? "（仅显示前一页，请缩小搜索范围）" : ""}`),
        table(["昵称", "姓名", "网格", "积分#", "操作"], page.items.map((m) => el("tr", { "data-user": m.id, class: chosen?.id === m.id ? "pt-chosen" : null },
          el("td", {}, m.nickname), el("td", {}, m.real_name || "—"), el("td", {}, gridName(m.grid_id, all)),
          el("td", { class: "num" }, m.points_balance),
          el("td", {}, el("button", { type: "button", class: "secondary", "aria-label": `选择 ${m.nickname}`,
            onclick: () => choose(m, true) }, "选择")))), "没有找到符合条件的居民。", "nowrap"));
    });
  }

  // ---- 发放积分 ----------------------------------------------------------------------------------------------------
  function renderAward(message) {
    const title = el("h2", { id: "pt-award-title" }, "发放积分");
    if (!chosen) {
      awardBox.replaceChildren(title, el("p", { class: "muted" }, "请先在左侧查找并选择一位居民。"));
      return;
    }
    const capText = (cat) => (caps ? `（单次最多 ${caps[cat]}）` : "");
    const category = el("select", { id: "pt-category", name: "category", required: true },
      AWARD_CATEGORIES.map(([value, label]) => el("option", { value }, `${label}${capText(value)}`)));
    const points = el("input", { id: "pt-points", name: "points", type: "number", min: 1, step: 1, required: true,
      inputmode: "numeric", class: "pt-num" });
    const reason = el("textarea", { id: "pt-reason", name: "reason", rows: 2, maxlength: 200, required: true,
      placeholder: "例如：参加楼道清洁志愿服务" });
    const hint = el("span", { class: "hint", id: "pt-points-hint" });
    const limit = () => {
      if (caps) { points.max = caps[category.value]; hint.textContent = `1–${caps[category.value]} 分`; }
      else hint.textContent = "上限以社区设置为准";
    };
    category.addEventListener("change", limit);
    limit();
    points.setAttribute("aria-describedby", "pt-points-hint");
    const status = el("div", { role: "status", "aria-live": "polite" });
    if (message) notice(status, message.text, message.error);
    const submit = el("button", { type: "submit" }, "发放积分");
    const awardForm = el("form", { class: "pt-award-form", novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      const body = { user_id: chosen.id, category: category.value, points: Number(points.value), reason: reason.value.trim() };
      if (!Number.isInteger(body.points) || body.points < 1) { notice(status, "请填写正整数的积分", true); points.focus(); return; }
      if (!body.reason) { notice(status, "请填写奖励理由", true); reason.focus(); return; }
      submit.disabled = true;
      try {
        const award = await api("POST", "/v1/points/awards", body);
        const label = AWARD_CATEGORIES.find(([v]) => v === award.category)?.[1] || award.category;
        points.value = ""; reason.value = "";
        notice(status, `已为 ${award.user.nickname} 发放 ${award.points} 积分（${label}）。`);
        await loadBook();
        search();  // the balance in the list
      } catch (error) {
        notice(status, error.message, true);
      } finally { submit.disabled = false; }
    } },
    el("p", { class: "pt-who" }, "发给：", el("b", {}, chosen.nickname), chosen.real_name ? `（${chosen.real_name}）` : ""),
    el("div", { class: "pt-row" }, el("div", { class: "field" }, el("label", { for: "pt-category" }, "类别"), category),
      el("div", { class: "field" }, el("label", { for: "pt-points" }, "积分", hint), points)),
    el("div", { class: "field" }, el("label", { for: "pt-reason" }, "理由（必填，居民可见）"), reason),
    el("div", { class: "actions" }, submit, caps ? el("span", { class: "muted" }, `每人每天最多发放 ${caps.daily} 分`) : ""),
    status);
    awardBox.replaceChildren(title, awardForm);
  }

  // ---- 积分存折 ----------------------------------------------------------------------------------------------------
  let entries = [];
  let cursor = null;
  let head = null;

  async function loadBook(more = false) {
    if (!chosen) { book.replaceChildren(); return; }
    const mine = ++books;
    const who = chosen;
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (more && cursor) query.set("cursor", cursor);
    try {
      const page = await api("GET", `/v1/admin/members/${enc(who.id)}/points?${query}`);
      if (mine !== books) return;
      entries = more ? [...entries, ...page.items] : page.items;
      cursor = page.next_cursor;
      head = { balance: page.balance, earned: page.earned_total };
      renderBook();
    } catch (error) {
      if (mine !== books || error.status === 401) return;
      // the route itself unknown (the generic 404 body, not the member's 成员不存在): a deployment without it yet
      const missing = error.status === 404 && error.message === "内容不存在";
      book.replaceChildren(el("h2", {}, `积分存折：${who.nickname}`), el("p", { class: missing ? "muted" : "notice error" },
        missing ? `暂时无法查看居民的积分存折（${error.message}）：该功能即将上线，请稍后再试。` : error.message));
    }
  }

  function renderBook(message) {
    const reversed = new Set(entries.filter((e) => e.kind === "reversal").map(awardIdOf).filter(Boolean));
    const rows = [];
    for (const e of entries) {
      const awardId = e.kind === "award" ? awardIdOf(e) : null;
      const action = !awardId || !has("admin") ? "" : reversed.has(awardId) ? el("span", { class: "muted" }, "已撤销")
        : el("button", { type: "button", class: "secondary", "aria-label": `撤销 ${when(e.created_at)} 的 ${e.amount} 积分奖励`,
          onclick: () => askReverse(e, awardId, row) }, "撤销");
      const row = el("tr", { "data-entry": e.id },
        el("td", { class: "nowrap" }, when(e.created_at)), el("td", { class: "nowrap" }, ENTRY_KINDS[e.kind] || e.kind),
        el("td", { class: `num ${e.amount < 0 ? "minus" : "plus"}` }, e.amount > 0 ? `+${e.amount}` : e.amount),
        el("td", { class: "num" }, e.balance_after), el("td", { class: "note" }, e.note || "—"), el("td", { class: "nowrap" }, action));
      rows.push(row);
    }
    const status = el("div", { role: "status", "aria-live": "polite" });
    if (message) notice(status, message.text, message.error);
    book.replaceChildren(
      el("h2", { id: "pt-book-title", tabindex: "-1" }, `积分存折：${chosen.nickname}`),
      el("p", { class: "pt-head" }, "当前余额 ", el("b", { id: "pt-balance" }, head.balance), " 分 · 累计获得 ",
        el("b", {}, head.earned), " 分"),
      status,
      table(["时间", "类型", "积分#", "余额#", "说明", "操作"], rows, "还没有积分记录。", "pt-passbook"),
      cursor ? el("p", { class: "actions" }, el("button", { type: "button", class: "secondary", id: "pt-more",
        onclick: () => loadBook(true) }, "更多")) : "");
  }

  // 撤销: a row under the entry asks for the reason; the API decides (409 INSUFFICIENT_POINTS when spent).
  function askReverse(entry, awardId, row) {
    book.querySelector("tr.pt-reverse")?.remove();
    const reason = el("input", { id: "pt-reverse-reason", name: "reason", maxlength: 200, required: true, class: "wide",
      placeholder: "例如：重复发放" });
    const status = el("div", { role: "status", "aria-live": "polite" });
    const confirm = el("button", { type: "submit" }, "确认撤销");
    const ask = el("tr", { class: "pt-reverse" }, el("td", { colspan: 6 }, el("form", { class: "inline", novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      if (!reason.value.trim()) { notice(status, "请填写撤销理由", true); reason.focus(); return; }
      confirm.disabled = true;
      try {
        const award = await api("POST", `/v1/points/awards/${enc(awardId)}/reverse`, { reason: reason.value.trim() });
        await loadBook();
        renderBook({ text: `已撤销这笔奖励，扣回 ${award.points} 积分。` });
        search();
        book.querySelector("#pt-book-title")?.focus();
      } catch (error) {
        notice(status, error.message, true);
        confirm.disabled = false;
      }
    } }, el("label", { for: "pt-reverse-reason", class: "pt-ask" }, `撤销这笔 ${entry.amount} 积分的奖励？请填写理由（居民可见）：`),
    reason, confirm, el("button", { type: "button", class: "secondary", onclick: () => { ask.remove(); row.querySelector("button")?.focus(); } }, "取消"),
    status)));
    row.after(ask);
    reason.focus();
  }

  async function choose(member, remember) {
    chosen = member;
    if (remember) history.replaceState(null, "", `/console/points?user=${enc(member.id)}`);
    for (const tr of results.querySelectorAll("tr.pt-chosen")) tr.classList.remove("pt-chosen");
    results.querySelector(`tr[data-user="${CSS.escape(member.id)}"]`)?.classList.add("pt-chosen");
    entries = []; cursor = null;
    renderAward();
    book.replaceChildren(el("p", { class: "muted", role: "status" }, "正在读取积分存折…"));
    await loadBook();
    awardBox.querySelector("#pt-category")?.focus();
  }

  renderAward();
  guarded(async () => {
    const all = await grids();
    const mineOnly = !has("admin");
    const shown = mineOnly ? all.filter((g) => (state.me.grid_ids || []).includes(g.id)) : all;
    grid.append(...(mineOnly ? [] : [el("option", { value: "" }, "全部网格")]), ...shown.map((g) => el("option", { value: g.id }, g.name)));
    if (has("admin")) {
      try {
        const c = await api("GET", "/v1/admin/community");
        caps = { charity: c.settings.award_cap_charity, mediation: c.settings.award_cap_mediation,
          participation: c.settings.award_cap_participation, daily: c.settings.award_daily_cap };
      } catch (error) { if (error.status !== 403) throw error; }
    }
    const userId = params.get("user");
    if (userId) {
      const m = await api("GET", `/v1/admin/members/${enc(userId)}`);
      q.value = m.nickname;
      await choose(m, false);
    }
    await search();
  });
}
