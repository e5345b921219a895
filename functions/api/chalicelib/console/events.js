// 活动 and the 签到大屏 (the projector's check-in screen).
import { ROSTER_LABELS, EVENT_LABELS, state, el, when, later, showError, api, guarded, table, mainArea, rosterAll } from "./lib.js";

export function eventsPage() {
  const main = mainArea("活动");
  const params = new URLSearchParams(location.search);
  const rosterBox = el("div", { id: "roster" });
  guarded(async () => {
    const page = await api("GET", "/v1/events");
    main.append(table(["活动", "开始时间", "地点", "报名#", "状态", "操作"], page.items.map((e) => el("tr", {},
      el("td", {}, e.title), el("td", {}, when(e.starts_at)), el("td", {}, e.location?.address || "—"),
      el("td", { class: "num" }, `${e.signed_count}/${e.capacity}${e.waitlist_count ? `（候补 ${e.waitlist_count}）` : ""}`),
      el("td", {}, e.status_label || EVENT_LABELS[e.status] || e.status),
      el("td", {}, e.can_manage ? [
        el("a", { href: `/console/events?id=${encodeURIComponent(e.id)}`, "data-nav": true, "aria-label": `${e.title} 的名单` }, "名单"), " · ",
        el("a", { href: `/console/events/${encodeURIComponent(e.id)}/screen`, "data-nav": true, "aria-label": `${e.title} 的签到大屏` }, "签到大屏"),
      ] : "—"))), "近期没有活动。"), rosterBox);
    const id = params.get("id");
    if (id) {
      const event = page.items.find((e) => e.id === id) || await api("GET", `/v1/events/${encodeURIComponent(id)}`);
      const items = await rosterAll(id);
      rosterBox.replaceChildren(el("h2", { id: "roster-title", tabindex: "-1" }, `名单：${event.title}（${items.length} 人）`),
        table(["姓名", "状态", "报名时间", "签到", "签退", "时长（分钟）#"], items.map((r) => el("tr", {},
          el("td", {}, r.user.nickname), el("td", {}, ROSTER_LABELS[r.status] || r.status), el("td", {}, when(r.signed_at)),
          el("td", {}, when(r.checked_in_at)), el("td", {}, when(r.checked_out_at)), el("td", { class: "num" }, r.minutes ?? "—"))),
        "还没有人报名。"));
      document.getElementById("roster-title").focus();
    }
  });
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
