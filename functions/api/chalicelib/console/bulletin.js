// 通报 (街呼区应): the month's bulletin of the street's communities (street staff: GET /v1/street/bulletin) and of the
// district's streets, departments and communities (district staff: GET /v1/district/bulletin), ranked, each row under a
// threshold marked 通报, the server's own CSV behind 导出 CSV (format=csv); and a second tab, 汇总, with the period's
// figures per community of the street (GET /v1/street/stats) or per street of the district (GET /v1/district/stats).
// Someone who holds both roles sees both; a refusal (a role taken away since the menu was drawn) is the API's message
// in the unit's own place.
import { el, api, has, state, mainArea, notice, enc, field, idPicker, tabStrip, headRow, shanghaiToday, isoDay, dayName } from "./lib.js";

const RATES = [["response_rate", "响应率"], ["resolve_rate", "解决率"], ["satisfaction_rate", "满意率"]];
const COUNTS = [["received", "收到"], ["answered_on_time", "按时响应"], ["resolved_on_time", "按时办结"], ["overdue", "超期"],
  ["extended", "延期"]];
const TABS = [["bulletin", "月度通报"], ["rollup", "汇总"]];
const PERIODS = [["30d", "近 30 天", 30], ["90d", "近 90 天", 90], ["365d", "近 12 个月", 365]];
// 汇总's columns (GET /v1/street/stats, /v1/district/stats: the rates there are resolution_rate, not resolve_rate)
const ROLLUP_COUNTS = [["wishes", "心愿"], ["volunteers", "志愿者"], ["volunteer_minutes", "志愿时长（小时）"], ["events", "活动"],
  ["points_issued", "发放积分"], ["points_redeemed", "兑换积分"], ["requests", "诉求"]];
const ROLLUP_RATES = [["response_rate", "响应率"], ["resolution_rate", "解决率"], ["satisfaction_rate", "满意率"]];

// A rate as a percentage with one decimal (half up), "—" when there is nothing to divide by.
const pct = (r) => (r === null || r === undefined ? "—" : `${(Math.round(r * 1000) / 10).toFixed(1)}%`);
const nameOf = (ref) => ref.name || ref.id;

// ---- months and days, in Shanghai time ------------------------------------------------------------------------------
const monthKey = (y, m) => `${y}-${String(m).padStart(2, "0")}`;
const monthName = (key) => `${key.slice(0, 4)}年${+key.slice(5)}月`;
// This month and the 23 before it: the bulletin has no month to come (the API refuses one).
function months() {
  const [y, m] = shanghaiToday();
  return Array.from({ length: 24 }, (_, i) => { const d = new Date(Date.UTC(y, m - 1 - i, 1)); return monthKey(d.getUTCFullYear(), d.getUTCMonth() + 1); });
}
// The last N Shanghai days, today included, as the API's window (whole days, +08:00).
function windowOf(key) {
  const [y, m, d] = shanghaiToday();
  const days = (PERIODS.find((p) => p[0] === key) || PERIODS[0])[2];
  return { from: `${isoDay(new Date(Date.UTC(y, m - 1, d - days + 1)))}T00:00:00+08:00`,
    to: `${isoDay(new Date(Date.UTC(y, m - 1, d)))}T23:59:59+08:00` };
}

// ---- the units the signed-in person sees: their street(s) and their district(s) -----------------------------------------
function units(params) {
  const out = [];
  const pick = (key, ids, label) => {
    const select = idPicker(`bulletin-${key}`, `${key}_id`, ids, params.get(`${key}_id`));
    return select ? { id: null, select, field: field(`bulletin-${key}`, label, select) } : { id: ids[0] || null, select: null };
  };
  if (has("street_staff")) out.push({ key: "street", label: "街道", ...pick("street", state.me.street_ids || [], "街道") });
  if (has("district_staff")) out.push({ key: "district", label: "区", ...pick("district", state.me.district_ids || [], "区") });
  return out;
}
const scopeOf = (unit) => unit.select?.value || unit.id;
const scopeQuery = (unit) => (unit.select ? `&${unit.key}_id=${enc(unit.select.value)}` : "");

// ---- the page ------------------------------------------------------------------------------------------------------
export function bulletinPage() {
  const main = mainArea("通报");
  const params = new URLSearchParams(location.search);
  const mine = units(params);
  if (!mine.length) {
    const box = el("div");
    notice(box, "通报只有街道和区里的工作人员可以查看。", true);
    main.append(box);
    return;
  }
  let tab = params.get("tab") === "rollup" ? "rollup" : "bulletin";
  const allMonths = months();
  const month = el("select", { id: "bulletin-month", name: "month" },
    allMonths.map((key) => el("option", { value: key, selected: (params.get("month") || allMonths[0]) === key }, monthName(key))));
  const period = el("select", { id: "rollup-period", name: "period" },
    PERIODS.map(([value, label]) => el("option", { value, selected: (params.get("period") || "30d") === value }, label)));
  const monthField = field("bulletin-month", "月份", month);
  const periodField = field("rollup-period", "统计区间", period);
  const status = el("p", { class: "muted range", role: "status", "aria-live": "polite" });
  const form = el("form", { class: "card inline", "aria-label": "通报月份与统计区间", onsubmit: (event) => { event.preventDefault(); load(); } },
    monthField, periodField, mine.map((u) => u.field || ""), el("button", { type: "submit", class: "secondary" }, "刷新"), status);
  for (const select of [month, period, ...mine.map((u) => u.select).filter(Boolean)]) select.addEventListener("change", () => load());

  const panel = el("div", { id: "bulletin-body", role: "tabpanel" });
  const tabs = tabStrip(TABS, { label: "通报与汇总", controls: "bulletin-body", current: tab, onPick: pick });
  main.append(tabs, form, panel);

  function pick(key) {
    if (key === tab) return;
    tab = key;
    tabs.select(key);
    load();
  }

  let loads = 0;
  async function load() {
    const ticket = ++loads;  // an answer arriving after a newer load is dropped
    const next = new URLSearchParams();
    if (tab === "rollup") next.set("tab", "rollup");
    next.set(tab === "rollup" ? "period" : "month", tab === "rollup" ? period.value : month.value);
    for (const u of mine) if (u.select) next.set(`${u.key}_id`, u.select.value);
    history.replaceState(null, "", `/console/bulletin?${next}`);
    monthField.hidden = tab !== "bulletin";
    periodField.hidden = tab !== "rollup";
    panel.setAttribute("aria-labelledby", `tab-${tab}`);
    const range = tab === "rollup" && windowOf(period.value);
    status.textContent = range ? `${dayName(range.from)} 至 ${dayName(range.to)}，按上海时间` : `${monthName(month.value)}提交的诉求，按上海时间`;
    panel.replaceChildren(el("p", { class: "muted" }, "正在加载…"));
    const settle = (p) => p.then((data) => ({ data }), (error) => ({ error }));
    const answers = await Promise.all(mine.map((u) => settle(tab === "rollup"
      ? api("GET", `/v1/${u.key}/stats?from=${enc(range.from)}&to=${enc(range.to)}${scopeQuery(u)}`)
      : api("GET", `/v1/${u.key}/bulletin?month=${enc(month.value)}${scopeQuery(u)}`))));
    if (ticket !== loads) return;
    if (answers.some((a) => a.error?.status === 401)) return;  // signed out: the login page is shown already
    panel.replaceChildren(...mine.map((u, i) => {
      const { data, error } = answers[i];
      if (error) return failed(u, error);
      if (tab === "rollup") return u.key === "street" ? streetRollup(data) : districtRollup(data);
      return u.key === "street" ? streetBulletin(data, scopeQuery(u)) : districtBulletin(data, scopeQuery(u));
    }));
  }
  load();
}

function failed(unit, error) {
  const box = el("div", { class: "unit-error" });
  notice(box, error.message, true);
  return el("section", { class: "bulletin-unit", id: `bulletin-${unit.key}`, "data-unit": unit.key },
    el("h2", {}, `${unit.label}${scopeOf(unit) ? ` · ${scopeOf(unit)}` : ""}`), box);
}

// ---- 月度通报 -------------------------------------------------------------------------------------------------------
// Whether the month's figures can still move: 已定稿 (the snapshot of the 1st), or live — this month, or a month ended
// whose snapshot the scheduler has not written yet.
function finalNote(data) {
  const current = data.month === months()[0];
  if (data.final) return [el("span", { class: "tag final" }, "已定稿"), "次月 1 日定稿，数字不再变化"];
  return [el("span", { class: "tag live" }, "实时"), current ? "本月未结束，数字随诉求办理变化" : "尚未定稿（次月 1 日定稿），数字仍可能变化"];
}

function unitHead(id, title, data, csvPath, fileName) {
  const [tag, note] = finalNote(data);
  const t = data.thresholds;
  const csv = el("a", { class: "button secondary csv", id: `${id}-csv`, href: csvPath, download: fileName,
    "aria-label": `导出 CSV：${title}` }, "导出 CSV");
  return [el("div", { class: "unit-head" }, el("h2", { id: `${id}-title` }, title), tag, csv),
    el("p", { class: "unit-note" }, el("span", { class: "state-note" }, note),
      el("span", { class: "thresholds" }, "通报线：", RATES.flatMap(([key, label], i) => [i ? " · " : "",
        el("b", { "data-threshold": key }, `${label} ${t[key]}%`)]), "（任一低于即通报）"))];
}

// One ranked table: 排名, the unit, the counts, the three rates (a rate under its threshold in red), 通报.
function bulletinTable(id, unitLabel, rows, refOf, thresholds, empty) {
  if (!rows.length) return el("p", { class: "muted", id }, empty);
  const headers = [["排名", "num"], [unitLabel, null], ...COUNTS.map(([, label]) => [label, "num"]),
    ...RATES.map(([, label]) => [label, "num"]), ["通报", null]];
  return el("div", { class: "table-wrap" }, el("table", { class: "bulletin-table", id },
    headRow(headers),
    el("tbody", {}, rows.map((r) => {
      const ref = refOf(r);
      const below = r.below || [];
      return el("tr", { "data-id": ref.id, class: r.flagged ? "flagged" : r.rank === null ? "none" : null },
        el("td", { class: "num rank" }, r.rank === null ? "—" : String(r.rank)),
        el("th", { scope: "row" }, nameOf(ref)),
        COUNTS.map(([key]) => el("td", { class: "num" }, String(r[key]))),
        RATES.map(([key]) => el("td", { class: below.includes(key) ? "num low" : "num" }, pct(r[key]))),
        el("td", { class: "flag" }, r.flagged
          ? [el("span", { class: "tag flag" }, "通报"), el("span", { class: "below" },
            RATES.filter(([key]) => below.includes(key)).map(([key, label]) => `${label}低于${thresholds[key]}%`).join("、"))]
          : r.rank === null ? el("span", { class: "muted" }, "本月无诉求") : ""));
    }))));
}

function streetBulletin(data, scope) {
  const title = `${nameOf(data.street)} · ${monthName(data.month)}通报`;
  return el("section", { class: "bulletin-unit", id: "bulletin-street", "data-unit": "street", "aria-labelledby": "bulletin-street-title" },
    unitHead("bulletin-street", title, data, `/v1/street/bulletin?month=${enc(data.month)}&format=csv${scope}`,
      `通报-${nameOf(data.street)}-${data.month}.csv`),
    el("h3", {}, "各社区（按排名）"),
    bulletinTable("bulletin-street-communities", "社区", data.items, (r) => r.community, data.thresholds, "街道还没有社区。"));
}

function districtBulletin(data, scope) {
  const title = `${nameOf(data.district)} · ${monthName(data.month)}通报`;
  return el("section", { class: "bulletin-unit", id: "bulletin-district", "data-unit": "district", "aria-labelledby": "bulletin-district-title" },
    unitHead("bulletin-district", title, data, `/v1/district/bulletin?month=${enc(data.month)}&format=csv${scope}`,
      `通报-${nameOf(data.district)}-${data.month}.csv`),
    el("h3", {}, "街道（按排名）"),
    bulletinTable("bulletin-district-streets", "街道", data.streets, (r) => r.street, data.thresholds, "区里还没有街道。"),
    el("h3", {}, "区直部门（按排名）"),
    bulletinTable("bulletin-district-departments", "区直部门", data.departments, (r) => r.department, data.thresholds, "区里还没有区直部门。"),
    el("h3", {}, "社区（按排名）"),
    bulletinTable("bulletin-district-communities", "社区", data.communities, (r) => r.community, data.thresholds, "区里还没有社区。"));
}

// ---- 汇总 -------------------------------------------------------------------------------------------------------------
const rollupValue = (r, key) => (key === "volunteer_minutes" ? (r[key] / 60).toFixed(1) : String(r[key]));

function rollupTable(id, unitLabel, rows, extra = []) {
  const headers = [[unitLabel, null], ...extra.map(([, label]) => [label, "num"]), ...ROLLUP_COUNTS.map(([, label]) => [label, "num"]),
    ...ROLLUP_RATES.map(([, label]) => [label, "num"])];
  return el("div", { class: "table-wrap" }, el("table", { class: "bulletin-table rollup-table", id },
    headRow(headers),
    el("tbody", {}, rows.map((r) => el("tr", { "data-id": r.id || null, class: r.total ? "total" : null },
      el("th", { scope: "row" }, r.name),
      extra.map(([key]) => el("td", { class: "num" }, r[key] === undefined ? "" : String(r[key]))),
      ROLLUP_COUNTS.map(([key]) => el("td", { class: "num" }, rollupValue(r, key))),
      ROLLUP_RATES.map(([key]) => el("td", { class: "num" }, pct(r[key]))))))));
}

function streetRollup(data) {
  const rows = [...data.items.map((r) => ({ ...r, id: r.community.id, name: nameOf(r.community) })), { ...data.total, name: "合计", total: true }];
  return el("section", { class: "bulletin-unit", id: "rollup-street", "data-unit": "street", "aria-labelledby": "rollup-street-title" },
    el("div", { class: "unit-head" }, el("h2", { id: "rollup-street-title" }, `${nameOf(data.street)} · 各社区汇总`)),
    el("p", { class: "unit-note" }, "志愿者为此刻的注册人数，其余为统计区间内的数"),
    rollupTable("rollup-street-communities", "社区", rows));
}

function districtRollup(data) {
  const rows = [...data.items.map((r) => ({ ...r, id: r.street.id, name: nameOf(r.street) })),
    { ...data.total, name: "合计", total: true, communities: data.items.reduce((n, r) => n + r.communities, 0) }];
  return el("section", { class: "bulletin-unit", id: "rollup-district", "data-unit": "district", "aria-labelledby": "rollup-district-title" },
    el("div", { class: "unit-head" }, el("h2", { id: "rollup-district-title" }, `${nameOf(data.district)} · 各街道汇总`)),
    el("p", { class: "unit-note" }, "每个街道为其各社区之和，三率由合计的计数算出；志愿者为此刻的注册人数"),
    rollupTable("rollup-district-streets", "街道", rows, [["communities", "社区数"]]));
}
