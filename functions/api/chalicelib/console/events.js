// 活动: publish an event, the list, a roster (settle an attendance, CSV), the month's hours export; and the 签到大屏
// (the projector's check-in screen). An admin names the event's 承办单位 (a unit with an agreement in force, from
// GET /v1/admin/units: one of its pledged activities) when publishing, and changes or clears it above the roster
// (PATCH /v1/events/{id} {unit_id | null}).
import { ROSTER_LABELS, EVENT_LABELS, state, el, when, later, showError, api, guarded, table, has, go, mainArea, grids, rosterAll,
  downloadCsv, notice, enc } from "./lib.js";

const KIND_LABELS = { activity: "社区活动", volunteer_service: "志愿服务（招募令）" };
const ADJUSTABLE = ["checked_out", "unsettled", "no_show"];

// A datetime-local value ("2026-12-06T14:00", read as Beijing time) as the API's ISO time with its offset.
const beijing = (value) => (value ? `${value}:00+08:00` : null);
const thisMonth = () => new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 7);

export function eventsPage() {
  const main = mainArea("活动");
  const params = new URLSearchParams(location.search);
  const rosterBox = el("div", { id: "roster" });
  const createBox = el("div", { id: "create" });
  const opener = el("button", { type: "button", id: "new-event", "aria-expanded": "false",
    onclick: () => (createBox.childElementCount ? closeCreate() : openCreate()) }, "发布活动");
  const month = el("input", { id: "export-month", type: "month", value: thisMonth(), "aria-label": "导出月份" });
  const exportLink = el("a", { class: "button secondary", id: "export-hours", download: true }, "导出志愿时长（CSV）");
  const syncExport = () => exportLink.setAttribute("href", `/v1/admin/exports/volunteer-hours?month=${enc(month.value)}`);
  month.addEventListener("change", syncExport);
  syncExport();
  // which events: those to come (the API's default), or those that started in the last week or month (to settle)
  const range = el("select", { id: "event-range", "aria-label": "活动范围", onchange: () => go(`/console/events?range=${range.value}`) },
    [["", "未开始的活动"], ["7", "过去 7 天开始的"], ["30", "过去 30 天开始的"]].map(([value, label]) =>
      el("option", { value, selected: (params.get("range") || "") === value }, label)));
  main.append(el("div", { class: "actions toolbar" }, el("span", { class: "inline-export" }, opener, range),
    has("admin") && el("span", { class: "inline-export" }, month, exportLink)), createBox);

  function closeCreate() { createBox.replaceChildren(); opener.setAttribute("aria-expanded", "false"); opener.focus(); }

  // The units an admin may name as an event's 承办单位 (an agreement in force), read once per page visit; none for a
  // grid worker (the units' list is the admins').
  let unitsRead = null;
  const agreedUnits = () => {
    if (!has("admin")) return Promise.resolve([]);
    unitsRead = unitsRead || api("GET", "/v1/admin/units?limit=100").then((page) => page.items.filter((u) => u.agreement?.valid), () => []);
    return unitsRead;
  };

  async function openCreate() {
    opener.setAttribute("aria-expanded", "true");
    const mine = (await grids()).filter((g) => has("admin") || state.me.grid_ids.includes(g.id));
    const cap = has("admin") ? (await api("GET", "/v1/admin/community")).settings.points_per_hour_cap : null;
    const units = await agreedUnits();
    const field = (id, label, input, hint, cls = "field") => el("div", { class: cls }, el("label", { for: id }, label,
      hint ? el("span", { class: "hint" }, hint) : ""), input);
    const message = el("div", { role: "status", "aria-live": "polite" });
    const form = el("form", { class: "card event-form", novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      const f = event.target.elements;
      const body = { title: f.title.value.trim(), kind: f.kind.value, starts_at: beijing(f.starts_at.value),
        ends_at: beijing(f.ends_at.value), capacity: Number(f.capacity.value), points_per_hour: Number(f.points_per_hour.value || 0),
        allow_walk_ins: f.allow_walk_ins.checked };
      if (f.description.value.trim()) body.description = f.description.value.trim();
      if (f.grid_id.value) body.grid_id = f.grid_id.value;
      if (f.unit_id?.value) body.unit_id = f.unit_id.value;
      if (f.address.value.trim() || f.lat.value || f.lng.value) {
        body.location = { address: f.address.value.trim(), lat: Number(f.lat.value), lng: Number(f.lng.value) };
      }
      try {
        const created = await api("POST", "/v1/events", body);
        createBox.replaceChildren();
        opener.setAttribute("aria-expanded", "false");
        go(`/console/events?id=${enc(created.id)}`);
      } catch (error) {
        notice(message, error.message, true);
        const named = error.details.field && f[error.details.field.split(".")[0]];
        if (named && named.focus) named.focus();
      }
    } },
    el("h2", {}, "发布活动"),
    el("div", { class: "grid-form" },
      field("ev-title", "名称", el("input", { id: "ev-title", name: "title", maxlength: 40, required: true })),
      field("ev-kind", "类型", el("select", { id: "ev-kind", name: "kind" },
        Object.entries(KIND_LABELS).map(([value, label]) => el("option", { value }, label)))),
      field("ev-start", "开始", el("input", { id: "ev-start", name: "starts_at", type: "datetime-local", required: true }), "北京时间"),
      field("ev-end", "结束", el("input", { id: "ev-end", name: "ends_at", type: "datetime-local", required: true }), "不超过 24 小时"),
      field("ev-capacity", "名额", el("input", { id: "ev-capacity", name: "capacity", type: "number", min: 1, value: 20 })),
      field("ev-points", "每小时积分", el("input", { id: "ev-points", name: "points_per_hour", type: "number", min: 0, value: 0 }),
        cap === null ? "以社区上限为准" : `上限 ${cap}`),
      field("ev-grid", "所属网格", el("select", { id: "ev-grid", name: "grid_id" },
        has("admin") ? el("option", { value: "" }, "全社区") : "", mine.map((g) => el("option", { value: g.id }, g.name)))),
      has("admin") ? field("ev-unit", "承办单位", el("select", { id: "ev-unit", name: "unit_id" }, el("option", { value: "" }, "无（社区自办）"),
        units.map((u) => el("option", { value: u.id }, u.name))), "共建单位，可选") : "",
      field("ev-walkin", "现场扫码报名", el("input", { id: "ev-walkin", name: "allow_walk_ins", type: "checkbox" })),
      field("ev-address", "地点（海报签到需要定位）", el("input", { id: "ev-address", name: "address", maxlength: 100 })),
      field("ev-lat", "纬度", el("input", { id: "ev-lat", name: "lat", type: "number", step: "any" })),
      field("ev-lng", "经度", el("input", { id: "ev-lng", name: "lng", type: "number", step: "any" }))),
    field("ev-desc", "说明", el("textarea", { id: "ev-desc", name: "description", rows: 3, maxlength: 1000 }), null, "field wide"),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "发布"),
      el("button", { type: "button", class: "secondary", onclick: closeCreate }, "取消"), message));
    createBox.replaceChildren(form);
    form.elements.title.focus();
  }

  guarded(async () => {
    const days = Number(params.get("range")) || 0;
    const since = days && new Date(Date.now() - days * 86400000).toISOString().replace(/\.\d+Z$/, "Z");
    const page = await api("GET", days ? `/v1/events?from=${enc(since)}&to=${enc(new Date().toISOString().replace(/\.\d+Z$/, "Z"))}` : "/v1/events");
    main.append(table(["活动", "开始时间", "地点", "报名#", "状态", "操作"], page.items.map((e) => el("tr", {},
      el("td", {}, e.title), el("td", {}, when(e.starts_at)), el("td", {}, e.location?.address || "—"),
      el("td", { class: "num" }, `${e.signed_count}/${e.capacity}${e.waitlist_count ? `（候补 ${e.waitlist_count}）` : ""}`),
      el("td", {}, e.status_label || EVENT_LABELS[e.status] || e.status),
      el("td", {}, e.can_manage ? [
        el("a", { href: `/console/events?id=${enc(e.id)}`, "data-nav": true, "aria-label": `${e.title} 的名单` }, "名单"), " · ",
        el("a", { href: `/console/events/${enc(e.id)}/screen`, "data-nav": true, "aria-label": `${e.title} 的签到大屏` }, "签到大屏"),
      ] : "—"))), "近期没有活动。"), rosterBox);
    const id = params.get("id");
    if (id) await showRoster(page.items.find((e) => e.id === id) || await api("GET", `/v1/events/${enc(id)}`));
  });

  // The roster of one event: who signed, came and left; the organiser settles an attendance within the bounds.
  async function showRoster(event, notice_ = null) {
    const items = await rosterAll(event.id);
    const message = el("div", { role: "status", "aria-live": "polite" }, notice_ ? el("p", { class: "notice" }, notice_) : "");
    const csv = el("button", { type: "button", class: "secondary", onclick: () => downloadCsv(`名单-${event.title}.csv`,
      ["姓名", "状态", "报名时间", "签到", "签退", "时长（分钟）", "积分"],
      items.map((r) => [r.user.nickname, ROSTER_LABELS[r.status] || r.status, when(r.signed_at), when(r.checked_in_at),
        when(r.checked_out_at), r.minutes ?? "", r.points ?? ""])) }, "导出名单（CSV）");
    rosterBox.replaceChildren(el("div", { class: "queue-head" },
      el("h2", { id: "roster-title", tabindex: "-1" }, `名单：${event.title}（${items.length} 人）`), csv), message,
    await unitLine(event, message),
    table(["姓名", "状态", "报名时间", "签到", "签退", "时长（分钟）#", "操作"], items.map((r) => {
      const row = el("tr", {},
        el("td", {}, r.user.nickname), el("td", {}, ROSTER_LABELS[r.status] || r.status), el("td", {}, when(r.signed_at)),
        el("td", {}, when(r.checked_in_at)), el("td", {}, when(r.checked_out_at)), el("td", { class: "num" }, r.minutes ?? "—"),
        el("td", {}, ADJUSTABLE.includes(r.status) && r.user.id !== state.me.id
          ? el("button", { type: "button", class: "secondary", "aria-label": `补录 ${r.user.nickname} 的时长`,
            onclick: () => adjustRow(row, r) }, "补录") : ""));
      return row;
    }), "还没有人报名。"));
    document.getElementById("roster-title").focus();

    // 承办单位: shown to whoever manages the event; an admin changes or clears it (the API refuses an ended event)
    async function unitLine(shownEvent, out) {
      const named = shownEvent.unit ? shownEvent.unit.name : "无（社区自办）";
      if (!has("admin") || !shownEvent.can_manage || ["ended", "cancelled"].includes(shownEvent.status)) return el("p", { class: "muted", id: "event-unit" }, `承办单位：${named}`);
      const units = await agreedUnits();
      const current = shownEvent.unit?.id || "";
      const select = el("select", { id: "event-unit-select", name: "unit_id", "aria-label": "承办单位" }, el("option", { value: "" }, "无（社区自办）"),
        shownEvent.unit && !units.some((u) => u.id === current) ? el("option", { value: current }, shownEvent.unit.name) : "",
        units.map((u) => el("option", { value: u.id, selected: u.id === current }, u.name)));
      select.value = current;
      return el("form", { class: "inline unit-line", id: "event-unit", onsubmit: async (submitted) => {
        submitted.preventDefault();
        if (select.value === current) return;
        try {
          const changed = await api("PATCH", `/v1/events/${enc(shownEvent.id)}`, { unit_id: select.value || null });
          await showRoster(changed, changed.unit ? `承办单位已改为${changed.unit.name}。` : "已取消承办单位。");
        } catch (error) {
          notice(out, error.message, true);
          select.value = current;
        }
      } }, el("label", { for: "event-unit-select" }, "承办单位"), select, el("button", { type: "submit", class: "secondary" }, "保存"));
    }

    function adjustRow(row, r) {
      if (row.nextElementSibling?.classList.contains("adjust-row")) { row.nextElementSibling.querySelector("input").focus(); return; }
      const out = el("span", { role: "status" });
      const form = el("form", { class: "inline", onsubmit: async (submitted) => {
        submitted.preventDefault();
        const f = submitted.target.elements;
        try {
          await api("POST", `/v1/events/${enc(event.id)}/attendance/${enc(r.user.id)}/adjust`,
            { minutes: Number(f.minutes.value), reason: f.reason.value.trim() });
          await showRoster(event, `已补录 ${r.user.nickname} 的时长为 ${f.minutes.value} 分钟（已留痕）。`);
        } catch (error) {
          notice(out, error.message, true);
          f.minutes.focus();
        }
      } }, el("label", {}, "时长（分钟）", el("input", { name: "minutes", type: "number", min: 0, required: true, value: r.minutes ?? "" })),
      el("label", { class: "grow" }, "理由（留痕）", el("input", { name: "reason", maxlength: 200, required: true })),
      el("button", { type: "submit" }, "保存"), el("button", { type: "button", class: "secondary", onclick: () => tr.remove() }, "取消"), out);
      const tr = el("tr", { class: "adjust-row" }, el("td", { colspan: 7 }, form));
      row.after(tr);
      form.elements.minutes.focus();
    }
  }
}

// ---- 签到大屏 ------------------------------------------------------------------------------------------------------
export function screenPage(eventId) {
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
  // The rotating code changes every 30 s (and is taken until 60 s after it appeared): the screen asks when this one's
  // step ends (valid_until − 30 s, by the server's clock: the projector's may be off) and shows the next code a
  // second after — two small requests per 30 s, and a code on the wall is never more than ~31 s old.
  const timers = state.timers;  // this page's: left (stopTimers), a late answer schedules nothing
  async function refreshCode() {
    let delay = 10000;
    try {
      const resp = await fetch(`${path}/qrcode?kind=rotating&format=json`,
        { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
      const data = await resp.json().catch(() => null);
      if (state.timers !== timers) return;
      if (!resp.ok) {
        if (resp.status === 401) { state.signedOut("登录已过期，请重新登录"); return; }
        showError(data?.error?.message || `签到码加载失败（${resp.status}）`);
      } else {
        code.src = `${path}/qrcode?kind=rotating&format=png&t=${Date.now()}`;
        const serverNow = Date.parse(resp.headers.get("Date")) || Date.now();
        delay = Math.min(Math.max(Date.parse(data.valid_until) - 30000 - serverNow + 1000, 2000), 30000);
      }
    } catch {
      if (state.timers !== timers) return;
      showError("网络连接失败，签到码稍后自动重试");
    }
    timers.push(setTimeout(refreshCode, delay));
  }
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
  later(counts, 5000);
}
