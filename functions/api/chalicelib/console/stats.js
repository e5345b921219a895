// 统计: the community's numbers as charts (inline SVG, built with DOM calls: the CSP allows nothing else), each with a
// table for screen readers and its CSV. An admin: GET /v1/admin/stats and /v1/admin/requests/stats (per grid);
// street staff: their street's communities side by side (GET /v1/street/stats) and its requests statistics.
import { el, api, guarded, has, state, mainArea, grids, gridName, downloadCsv, notice, enc } from "./lib.js";

const NS = "http://www.w3.org/2000/svg";
const PERIODS = [["3m", "近 3 个月", 3], ["6m", "近 6 个月", 6], ["12m", "近 12 个月", 12], ["year", "本年", 0]];
const SOURCES = { wish: "心愿积分", volunteer: "志愿服务积分", award: "奖励积分" };
const SPENT = 3;  // the points chart's rows from here on are points going out (兑换、撤销)
const RATES = [["response_rate", "响应率"], ["resolution_rate", "解决率"], ["satisfaction_rate", "满意率"]];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== null && value !== undefined) node.setAttribute(key, value);
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== "") node.append(child instanceof Node ? child : String(child));
  return node;
}

// ---- the window: whole Shanghai days, at most a year (the API's rule), sent as ISO times with +08:00 -----------------
function shanghaiToday() {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric",
    month: "2-digit", day: "2-digit" }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  return [Number(parts.year), Number(parts.month), Number(parts.day)];
}
const day = (date) => date.toISOString().slice(0, 10);
function periodOf(key) {
  const [y, m, d] = shanghaiToday();
  const months = (PERIODS.find((p) => p[0] === key) || PERIODS[0])[2];
  // 近 N 个月: from the day after the same day N months ago (so the window is never longer than the API allows)
  const from = months ? new Date(Date.UTC(y, m - 1 - months, d + 1)) : new Date(Date.UTC(y, 0, 1));
  const to = new Date(Date.UTC(y, m - 1, d));
  return { from: `${day(from)}T00:00:00+08:00`, to: `${day(to)}T23:59:59+08:00` };
}
const dayLabel = (iso) => { const [y, m, d] = iso.slice(0, 10).split("-"); return `${y}年${+m}月${+d}日`; };
function monthsBetween(fromIso, toIso) {
  const out = [];
  let [y, m] = fromIso.slice(0, 7).split("-").map(Number);
  const end = toIso.slice(0, 7);
  for (let i = 0; i < 14; i += 1) {
    const key = `${y}-${String(m).padStart(2, "0")}`;
    out.push(key);
    if (key >= end) break;
    m += 1; if (m > 12) { m = 1; y += 1; }
  }
  return out;
}
const monthName = (key) => `${key.slice(0, 4)}年${+key.slice(5)}月`;

// ---- numbers ---------------------------------------------------------------------------------------------------
const pct = (r) => (r === null || r === undefined ? "—" : `${(r * 100).toFixed(1).replace(/\.0$/, "")}%`);
const hours = (minutes) => (minutes / 60).toFixed(1);
function niceMax(value) {
  if (value <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((f) => f * step).find((n) => n >= value);
}
const fmtAxis = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

// ---- charts ----------------------------------------------------------------------------------------------------
// Columns by month: groups of bars (one per series) with the y-axis's values and the month under each group.
function columns(labels, series, format = String) {
  const W = 600, H = 290, L = 52, R = 10, T = 26, B = 50;
  const values = series.flatMap((s) => s.values);
  let top = niceMax(Math.max(...values));
  if (values.every(Number.isInteger) && !Number.isInteger(top / 2)) top = Math.ceil(top / 2) * 2;  // counts: whole ticks
  const plotW = W - L - R, plotH = H - T - B;
  const groupW = plotW / labels.length;
  const barW = Math.min(56, (groupW * 0.72) / series.length);
  const y = (v) => T + plotH - (v / top) * plotH;
  const nodes = [];
  for (const tick of [0, top / 2, top]) {
    nodes.push(svg("line", { x1: L, x2: W - R, y1: y(tick), y2: y(tick), class: tick ? "grid" : "axis" }),
      svg("text", { x: L - 8, y: y(tick) + 5, "text-anchor": "end", class: "tick" }, fmtAxis(tick)));
  }
  labels.forEach((key, i) => {
    const x0 = L + groupW * i + (groupW - barW * series.length) / 2;
    series.forEach((s, j) => {
      const v = s.values[i];
      const x = x0 + barW * j;
      nodes.push(svg("rect", { x, y: y(v), width: Math.max(barW - 2, 1), height: Math.max(T + plotH - y(v), v ? 1 : 0), class: `bar c${j}` }));
      if (v && barW >= 15 + String(format(v)).length * 3) {
        nodes.push(svg("text", { x: x + (barW - 2) / 2, y: y(v) - 6, "text-anchor": "middle", class: "value" }, format(v)));
      }
    });
    const cx = L + groupW * (i + 0.5);
    const yearToo = i === 0 || key.endsWith("-01");
    nodes.push(svg("text", { x: cx, y: H - B + 22, "text-anchor": "middle", class: labels.length > 9 ? "label dense" : "label" }, `${+key.slice(5)}月`));
    if (yearToo) nodes.push(svg("text", { x: cx, y: H - B + 42, "text-anchor": "middle", class: "tick" }, key.slice(0, 4)));
  });
  return { width: W, height: H, nodes };
}

// Horizontal bars by category: the name at the left, the bars, the value at each bar's end.
function hbars(labels, series, format = String) {
  const W = 600, R = 74, rowH = 22 * series.length + 14, T = 6;
  const L = Math.min(220, Math.max(90, ...labels.map((label) => String(label).length * 17 + 18)));  // the longest name
  const H = T + rowH * labels.length + 4;
  const top = Math.max(...series.flatMap((s) => s.values), 1);
  const plotW = W - L - R;
  const nodes = [svg("line", { x1: L, x2: L, y1: T, y2: H - 4, class: "axis" })];
  labels.forEach((label, i) => {
    const y0 = T + rowH * i + 7;
    nodes.push(svg("text", { x: L - 10, y: y0 + (22 * series.length) / 2 + 5, "text-anchor": "end", class: "label" }, label));
    series.forEach((s, j) => {
      const v = s.values[i];
      const w = (v / top) * plotW;
      nodes.push(svg("rect", { x: L, y: y0 + 22 * j, width: Math.max(w, v ? 2 : 0), height: 18, class: `bar ${s.classOf ? s.classOf(i) : `c${j}`}` }),
        svg("text", { x: L + w + 6, y: y0 + 22 * j + 14, class: "value" }, format(v)));
    });
  });
  return { width: W, height: H, nodes };
}

// A chart's card: title, 导出 CSV, the drawing (or 暂无数据), a legend, the numbers as a table for screen readers.
function chartCard({ id, title, file, headers, rows, draw, series = [], summary }) {
  const empty = !rows || !rows.length || rows.every((r) => r.slice(1).every((v) => !Number(String(v).replace("%", ""))));
  const heading = el("h3", { id: `${id}-title` }, title);
  const button = !empty && el("button", { type: "button", class: "secondary csv", "aria-label": `导出 CSV：${title}`,
    onclick: () => downloadCsv(`${file}.csv`, headers, rows) }, "导出 CSV");
  const card = el("figure", { class: "card chart", id, "aria-labelledby": `${id}-title` }, el("div", { class: "chart-head" }, heading, button || ""));
  if (empty) { card.append(el("p", { class: "muted empty" }, "暂无数据")); return card; }
  const { width, height, nodes } = draw();
  const text = summary || `${title}：${rows.map((r) => `${r[0]} ${r.slice(1).join(" / ")}`).join("，")}`;
  card.append(series.length > 1 ? el("p", { class: "legend", "aria-hidden": "true" },
    series.map((s, j) => el("span", {}, el("i", { class: `swatch c${j}` }), s.name))) : "",
  svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": text, class: "plot", focusable: "false" },
    svg("desc", {}, text), nodes),
  el("table", { class: "sr-only" }, el("caption", {}, title),
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, el("th", { scope: "row" }, r[0]), r.slice(1).map((v) => el("td", {}, v)))))));
  return card;
}

// The three rates: big figures with a small bar each.
function rateBar(r) {
  return svg("svg", { viewBox: "0 0 100 8", class: "ratebar", "aria-hidden": "true", preserveAspectRatio: "none" },
    svg("rect", { x: 0, y: 0, width: 100, height: 8, class: "track" }),
    r === null || r === undefined ? "" : svg("rect", { x: 0, y: 0, width: Math.max(0, Math.min(1, r)) * 100, height: 8, class: "fill" }));
}
function bigRates(s) {
  return el("div", { class: "rates" }, RATES.map(([key, label]) => el("div", { class: "rate card" },
    el("span", { class: "rate-name" }, label), el("b", { class: "rate-value", "data-rate": key }, pct(s[key])), rateBar(s[key]))));
}
function ratesTable(id, title, unitLabel, file, rows) {
  const headers = [unitLabel, "收到", "办结", "响应率", "解决率", "满意率"];
  const csv = rows.map((r) => [r.name, r.received, r.resolved, ...RATES.map(([k]) => (r[k] === null || r[k] === undefined ? "" : pct(r[k])))]);
  return el("figure", { class: "card chart wide", id, "aria-labelledby": `${id}-title` },
    el("div", { class: "chart-head" }, el("h3", { id: `${id}-title` }, title), rows.length ? el("button", { type: "button",
      class: "secondary csv", "aria-label": `导出 CSV：${title}`, onclick: () => downloadCsv(`${file}.csv`, headers, csv) }, "导出 CSV") : ""),
    rows.length ? el("table", { class: "rates-table" }, el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { scope: "col", class: i && i < 3 ? "num" : null }, h)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, el("th", { scope: "row" }, r.name), el("td", { class: "num" }, r.received),
        el("td", { class: "num" }, r.resolved), RATES.map(([k]) => el("td", {}, el("span", { class: "rate-cell" }, rateBar(r[k]), pct(r[k])))))))) : el("p", { class: "muted empty" }, "暂无数据"));
}

function figures(items) {
  return el("dl", { class: "figures" }, items.map(([label, value]) => el("div", {}, el("dt", {}, label), el("dd", {}, value))));
}

// ---- the page --------------------------------------------------------------------------------------------------
export function statsPage() {
  const main = mainArea("统计");
  const params = new URLSearchParams(location.search);
  const admin = has("admin");
  const streets = state.me.street_ids || [];
  const period = el("select", { id: "stats-period", name: "period" },
    PERIODS.map(([value, label]) => el("option", { value, selected: (params.get("period") || "3m") === value }, label)));
  const street = !admin && streets.length > 1 && el("select", { id: "stats-street", name: "street_id" },
    streets.map((s) => el("option", { value: s, selected: params.get("street_id") === s }, s)));
  const range = el("p", { class: "muted range", role: "status", "aria-live": "polite" });
  const body = el("div", { id: "stats-body" });
  const form = el("form", { class: "card inline", "aria-label": "统计区间", onsubmit: (event) => { event.preventDefault(); load(); } },
    el("div", { class: "field" }, el("label", { for: "stats-period" }, "统计区间"), period),
    street ? el("div", { class: "field" }, el("label", { for: "stats-street" }, "街道"), street) : "",
    el("button", { type: "submit", class: "secondary" }, "刷新"), range);
  period.addEventListener("change", () => load());
  if (street) street.addEventListener("change", () => load());
  main.append(form, body);

  let loads = 0;
  async function load() {
    const mine = ++loads;
    const next = new URLSearchParams({ period: period.value });
    if (street) next.set("street_id", street.value);
    history.replaceState(null, "", `/console/stats?${next}`);
    const { from, to } = periodOf(period.value);
    range.textContent = `${dayLabel(from)} 至 ${dayLabel(to)}，按上海时间`;
    body.replaceChildren(el("p", { class: "muted" }, "正在统计…"));
    await guarded(async () => {
      const query = `from=${enc(from)}&to=${enc(to)}${street ? `&street_id=${enc(street.value)}` : ""}`;
      const settle = (p) => p.then((data) => ({ data }), (error) => ({ error }));
      const [community, requests, all, rollup] = await Promise.all([admin ? settle(api("GET", `/v1/admin/stats?${query}`)) : null,
        settle(api("GET", `/v1/admin/requests/stats?${query}`)), admin ? grids() : [],
        !admin ? settle(api("GET", `/v1/street/stats?${query}`)) : null]);
      if (mine !== loads) return;
      const span = (s) => monthsBetween(s.from || from, s.to || to);
      const tag = (s) => { const m = span(s); return `${m[0]}至${m[m.length - 1]}`; };
      const sections = [];
      if (community) sections.push(...(community.error ? [failed("心愿、活动与积分", community.error)] : communitySections(community.data, span, tag)));
      if (rollup) sections.push(rollup.error ? failed("各社区概况", rollup.error) : rollupSection(rollup.data, tag));
      sections.push(...(requests.error ? [failed("诉求（接诉即办）", requests.error)] : requestSections(requests.data, all, span, tag)));
      body.replaceChildren(...sections);
    });
  }
  load();
}

// 街道: one row per community (GET /v1/street/stats) — wishes, volunteers, hours, events, points, requests and rates.
const ROLLUP_COLUMNS = [["wishes", "心愿"], ["volunteers", "志愿者"], ["volunteer_minutes", "志愿时长（小时）"], ["events", "活动"],
  ["points_issued", "发放积分"], ["points_redeemed", "兑换积分"], ["requests", "诉求"]];
function rollupSection(data, tag) {
  const rows = [...data.items.map((r) => ({ ...r, name: r.community.name || r.community.id })), { ...data.total, name: "合计" }];
  const value = (r, key) => (key === "volunteer_minutes" ? (r[key] / 60).toFixed(1) : r[key]);
  const headers = ["社区", ...ROLLUP_COLUMNS.map(([, label]) => label), ...RATES.map(([, label]) => label)];
  const csv = rows.map((r) => [r.name, ...ROLLUP_COLUMNS.map(([key]) => value(r, key)), ...RATES.map(([key]) => (r[key] === null ? "" : pct(r[key])))]);
  const file = `街道各社区概况-${data.street.name || data.street.id}-${tag(data)}`;
  return el("section", { "aria-labelledby": "sec-rollup" }, el("h2", { id: "sec-rollup" }, `各社区概况 · ${data.street.name || data.street.id}`),
    el("figure", { class: "card chart wide", id: "chart-rollup" }, el("div", { class: "chart-head" }, el("h3", {}, "按社区"),
      el("button", { type: "button", class: "secondary csv", "aria-label": "导出 CSV：各社区概况",
        onclick: () => downloadCsv(`${file}.csv`, headers, csv) }, "导出 CSV")),
    el("table", { class: "rates-table" }, el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { scope: "col", class: i && i <= ROLLUP_COLUMNS.length ? "num" : null }, h)))),
      el("tbody", {}, rows.map((r) => el("tr", { class: r === rows[rows.length - 1] ? "total" : null }, el("th", { scope: "row" }, r.name),
        ROLLUP_COLUMNS.map(([key]) => el("td", { class: "num" }, value(r, key))),
        RATES.map(([key]) => el("td", {}, el("span", { class: "rate-cell" }, rateBar(r[key]), pct(r[key]))))))))));
}

function failed(title, error) {
  const box = el("div");
  notice(box, error.message, true);
  return el("section", {}, el("h2", {}, title), box);
}

function communitySections(s, span, tag) {
  const months = span(s);
  const w = s.wishes || {};
  const wishMonths = w.by_month && months.map((m) => [m, w.by_month[m] || 0]);
  const cats = Object.entries(w.by_category || {}).sort((a, b) => b[1] - a[1]);
  const vh = s.volunteer_hours || {};
  const hourRows = vh.by_month && months.map((m) => [m, hours(vh.by_month[m] || 0)]);
  const p = s.points;
  const pointRows = p && [...Object.entries(SOURCES).map(([k, label]) => [`发放${label}`, p.issued_by_source?.[k] || 0]),
    ["兑换支出", p.redeemed || 0], ["兑换退回", p.refunded || 0], ["奖励撤销", p.reversed || 0]];
  return [
    el("section", { "aria-labelledby": "sec-wishes" }, el("h2", { id: "sec-wishes" }, "微心愿"),
      figures([["新发布", w.total ?? "—"], ["已公开", w.published ?? "—"], ["已完成", w.fulfilled ?? "—"], ["完成率", pct(w.fulfilment_rate)],
        ["认领用时中位数", w.median_hours_to_claim === null || w.median_hours_to_claim === undefined ? "—" : `${w.median_hours_to_claim.toFixed(1)} 小时`]]),
      el("div", { class: "charts" },
        chartCard({ id: "chart-wishes-month", title: "心愿按月", file: `心愿-按月-${tag(s)}`, headers: ["月份", "心愿数"], rows: wishMonths,
          draw: () => columns(months, [{ values: wishMonths.map((r) => r[1]) }]),
          summary: wishMonths && `心愿按月：${wishMonths.map(([m, n]) => `${monthName(m)} ${n} 件`).join("，")}` }),
        chartCard({ id: "chart-wishes-category", title: "心愿按类别", file: `心愿-按类别-${tag(s)}`, headers: ["类别", "心愿数"], rows: cats,
          draw: () => hbars(cats.map((r) => r[0]), [{ values: cats.map((r) => r[1]) }]) }))),
    el("section", { "aria-labelledby": "sec-hours" }, el("h2", { id: "sec-hours" }, "志愿服务与积分"),
      el("div", { class: "charts" },
        chartCard({ id: "chart-hours-month", title: "志愿时长按月（小时）", file: `志愿时长-按月-${tag(s)}`, headers: ["月份", "时长（小时）"],
          rows: hourRows, draw: () => columns(months, [{ values: hourRows.map((r) => Number(r[1])) }], (v) => v.toFixed(1)),
          summary: hourRows && `志愿时长按月：${hourRows.map(([m, h]) => `${monthName(m)} ${h} 小时`).join("，")}，合计 ${hours(vh.total_minutes || 0)} 小时` }),
        chartCard({ id: "chart-points", title: "积分发放与兑换", file: `积分-发放与兑换-${tag(s)}`, headers: ["项目", "积分"], rows: pointRows,
          series: [{ name: "发放" }, { name: "支出、退回与撤销" }],
          draw: () => hbars(pointRows.map((r) => r[0]), [{ values: pointRows.map((r) => r[1]), classOf: (i) => (i < SPENT ? "c0" : "c1") }]) }))),
  ];
}

function requestSections(s, all, span, tag) {
  const months = span(s);
  const street = s.scope === "street";
  const monthRows = s.by_month && months.map((m) => { const v = s.by_month[m] || {}; return [m, v.received || 0, v.resolved || 0, ...RATES.map(([k]) => (v[k] === null || v[k] === undefined ? "" : pct(v[k])))]; });
  const cats = Object.entries(s.by_category || {}).sort((a, b) => b[1].received - a[1].received);
  const catRows = cats.map(([c, v]) => [c, v.received || 0, v.resolved || 0]);
  const units = street ? (s.by_community || []).map((c) => ({ ...c, name: c.name || c.community_id }))
    : Object.entries(s.by_grid || {}).map(([g, v]) => ({ ...v, name: gridName(g, all) }));
  const unitLabel = street ? "社区" : "网格";
  const series = [{ name: "收到" }, { name: "办结" }];
  return [el("section", { "aria-labelledby": "sec-requests" }, el("h2", { id: "sec-requests" }, `诉求（接诉即办）${street ? " · 全街道" : ""}`),
    figures([["收到", s.received], ["已响应", s.answered], ["办结", s.resolved], ["吹哨升级", s.escalated], ["超期", s.overdue],
      ["响应用时中位数", s.median_minutes_to_answer === null ? "—" : `${Math.round(s.median_minutes_to_answer)} 分钟`],
      ["办结用时中位数", s.median_hours_to_resolve === null ? "—" : `${s.median_hours_to_resolve.toFixed(1)} 小时`]]),
    bigRates(s),
    el("div", { class: "charts" },
      chartCard({ id: "chart-requests-month", title: "诉求按月：收到与办结", file: `诉求-按月-${tag(s)}`, series,
        headers: ["月份", "收到", "办结", "响应率", "解决率", "满意率"], rows: monthRows,
        draw: () => columns(months, [{ values: monthRows.map((r) => r[1]) }, { values: monthRows.map((r) => r[2]) }]),
        summary: monthRows && `诉求按月：${monthRows.map((r) => `${monthName(r[0])} 收到 ${r[1]} 件、办结 ${r[2]} 件`).join("，")}` }),
      chartCard({ id: "chart-requests-category", title: "诉求按类别：收到与办结", file: `诉求-按类别-${tag(s)}`, series,
        headers: ["类别", "收到", "办结"], rows: catRows,
        draw: () => hbars(catRows.map((r) => r[0]), [{ values: catRows.map((r) => r[1]) }, { values: catRows.map((r) => r[2]) }]) }),
      ratesTable(`chart-rates-${street ? "community" : "grid"}`, `三率按${unitLabel}`, unitLabel, `诉求-三率按${unitLabel}-${tag(s)}`, units)))];
}
