// 工作台: what needs me today — by role: wishes to review and overdue, requests by their clocks, check-ins to settle,
// pickups waiting at my stores, messages that did not arrive. Each block links to the page that does the work.
import { ROSTER_LABELS, TASK_LABELS, state, el, when, api, guarded, table, has, mainArea, enc, requestClock } from "./lib.js";

const REQUEST_TASKS = { answer_request: "待响应诉求", solve_request: "待办结诉求" };

// A count (of one page at most: `more` when the list goes on) that links to where the work is done.
function tile(count, label, href, cls = "", more = false) {
  return el("a", { class: `tile ${count ? cls : ""}`, href, "data-nav": true },
    el("b", {}, `${count}${more ? "+" : ""}`), el("span", {}, label));
}

function requestRows(tasks) {
  return tasks.map(({ task, request }) => {
    const due = requestClock(request);
    return el("tr", {},
      el("td", {}, REQUEST_TASKS[task] || request.status_label, request.urgent ? el("span", { class: "tag urgent" }, "紧急") : ""),
      el("td", {}, el("a", { href: `/console/requests?id=${enc(request.id)}`, "data-nav": true }, request.category)),
      el("td", { class: "clip" }, request.content),
      el("td", {}, request.level_label),
      el("td", {}, due ? el("span", { class: `clock ${due.cls}` }, el("b", {}, due.text), el("span", {}, `${due.kind}时限`)) : "—"));
  });
}

const countLate = (tasks) => tasks.filter(({ request }) => requestClock(request)?.cls === "late").length;

export function workPage() {
  const main = mainArea("工作台");
  const tiles = el("div", { class: "tiles", "aria-label": "今日待办" });
  main.append(tiles);
  guarded(async () => {
    if (has("grid_worker")) {
      const tasks = (await api("GET", "/v1/grid/tasks?limit=100")).items;
      const requests = tasks.filter((t) => t.request);
      const wishes = tasks.filter((t) => t.task === "review" || t.task === "overdue");
      const settle = tasks.filter((t) => t.task === "settle_checkin");
      tiles.append(
        tile(requests.length, "我的网格诉求", "/console/requests", "warn"),
        tile(countLate(requests), "其中已超时", "/console/requests", "late"),
        tile(wishes.filter((t) => t.task === "review").length, "待审核心愿", "/console/wishes?status=pending_review", "warn"),
        tile(wishes.filter((t) => t.task === "overdue").length, "超时未认领心愿", "/console/wishes?status=open", "late"),
        tile(settle.length, "未签退待补录", "/console/events", "warn"));
      main.append(el("h2", {}, `我的网格待办（${tasks.length}）`));
      if (requests.length) {
        main.append(table(["事项", "类别", "内容", "层级", "时限"], requestRows(requests), ""));
      }
      const others = [...wishes, ...settle];
      if (others.length || !requests.length) {
        main.append(table(["事项", "内容", "状态", "时间"], others.map((task) => el("tr", {},
          el("td", {}, TASK_LABELS[task.task] || task.task),
          el("td", {}, task.task === "settle_checkin"
            ? `${task.event?.title || ""} · ${task.attendance?.user?.nickname || ""}`
            : el("a", { href: `/console/wishes?id=${enc(task.id)}`, "data-nav": true }, task.title)),
          el("td", {}, task.status_label || ROSTER_LABELS[task.attendance?.status] || task.status || ""),
          el("td", {}, when(task.created_at || task.attendance?.checked_in_at)))), "没有待处理的事项。"));
      }
    }
    if (has("admin")) {
      const [queue, review, failed] = await Promise.all([
        api("GET", "/v1/admin/requests?view=queue&limit=100"),
        api("GET", "/v1/wishes?status=pending_review&limit=100"),
        api("GET", "/v1/admin/messages?status=failed&limit=100")]);
      const more = (page) => (page.next_cursor ? "+" : "");
      tiles.append(
        tile(queue.items.length, "社区待办诉求", "/console/requests", "warn", queue.next_cursor),
        tile(countLate(queue.items), "其中已超时", "/console/requests", "late"),
        tile(review.items.length, "待审核心愿", "/console/wishes?status=pending_review", "warn", review.next_cursor),
        tile(failed.items.length, "发送失败的消息", "/console/work#failed", "late", failed.next_cursor));
      main.append(el("h2", {}, "最急的诉求"), table(["事项", "类别", "内容", "层级", "时限"],
        requestRows(queue.items.slice(0, 5)), "没有待社区处理的诉求。"));
      main.append(el("h2", { id: "failed" }, `发送失败的订阅消息（${failed.items.length}${more(failed)}）`),
        table(["消息", "接收人", "原因", "时间"], failed.items.map((m) => el("tr", {},
          el("td", {}, m.kind_label || m.kind), el("td", {}, m.user?.nickname || m.user_id || ""),
          el("td", {}, m.reason_label || m.reason || ""), el("td", {}, when(m.created_at)))),
        "没有发送失败的消息。"));
    }
    if (has("street_staff")) {
      const tasks = await api("GET", "/v1/street/tasks?limit=100");
      tiles.append(tile(tasks.items.length, "上报到街道的诉求", "/console/requests", "warn", tasks.next_cursor),
        tile(countLate(tasks.items), "其中已超时", "/console/requests", "late"));
      main.append(el("h2", {}, "上报到街道的诉求"), table(["事项", "类别", "内容", "层级", "时限"],
        requestRows(tasks.items.slice(0, 10)), "没有上报到街道的诉求。"));
    }
    if (has("store_keeper")) {
      const stores = (await api("GET", "/v1/stores")).items.filter((s) => state.me.store_ids.includes(s.id));
      const queues = await Promise.all(stores.map((store) =>
        api("GET", `/v1/stores/${enc(store.id)}/redemptions?status=pending_pickup&limit=100`)));
      stores.forEach((store, i) => tiles.append(tile(queues[i].items.length, `${store.name} 待取货`,
        `/console/store?store=${enc(store.id)}`, "warn", queues[i].next_cursor)));
    }
    if (!tiles.childElementCount) tiles.remove();
    main.append(el("h2", {}, "常用"), el("p", { class: "actions" },
      (has("admin") || has("grid_worker")) && el("a", { href: "/console/members", "data-nav": true, class: "button secondary" }, "查找居民"),
      (has("admin") || has("grid_worker")) && el("a", { href: "/console/events", "data-nav": true, class: "button secondary" }, "活动与签到大屏"),
      has("admin") && el("a", { href: "/console/settings", "data-nav": true, class: "button secondary" }, "社区设置")));
  });
}
