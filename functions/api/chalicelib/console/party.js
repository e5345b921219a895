// 双报到 (admins): five tabs over the community's 双报到 routes.
//   报到审核 — the registrations of a status (GET /v1/admin/party-registrations?status=), 通过 / 驳回 with a reason for a
//             pending one (POST …/{id}/approve, …/reject {reason});
//   岗位     — the posts (GET /v1/posts?status=) with headcount and claimed, 发布岗位 (POST /v1/admin/posts), a post's
//             claimants (GET /v1/posts/{id}), 关闭 (POST /v1/admin/posts/{id}/close);
//   考核     — a quarter (this one and the 7 before) of GET /v1/admin/party-members: services, minutes, meets_rules;
//             导出 CSV is a link to the same route with format=csv (the server's file);
//   共建单位 — the street's units with this community's agreement (GET /v1/admin/units), 签订/续签协议
//             (POST /v1/admin/units/{id}/agreement);
//   共建项目 — the co-building projects and their 群众评单 (coprojects.js).
// Every refusal is the API's Chinese message beside what was tried.
import { el, api, guarded, mainArea, notice, when, enc, field, tabStrip, headRow, moreRows, shanghaiToday, isoDay, dayName } from "./lib.js";
import { coProjectsTab } from "./coprojects.js";

const TABS = [["review", "报到审核"], ["posts", "岗位"], ["assess", "考核"], ["units", "共建单位"], ["coprojects", "共建项目"]];
const REG_STATUS = [["pending", "待审核"], ["approved", "已通过"], ["rejected", "未通过"], ["ended", "已结束"]];
const POST_STATUS = [["", "全部"], ["open", "可认领"], ["full", "已满员"], ["closed", "已关闭"]];
const POST_LABELS = { open: "可认领", full: "已满员", closed: "已关闭" };
const CLAIMANT_ROLES = { party_member: "党员", unit_liaison: "单位联络员" };
const MISSING = { services: "服务次数不足", hours: "服务时长不足" };

// ---- quarters and days, in Shanghai time ----------------------------------------------------------------------------
// This quarter and the 7 before it (the API refuses a quarter to come): ["2026Q4", "2026Q3", …].
export function quarters() {
  const [y, m] = shanghaiToday();
  const now = y * 4 + Math.floor((m - 1) / 3);
  return Array.from({ length: 8 }, (_, i) => `${Math.floor((now - i) / 4)}Q${((now - i) % 4) + 1}`);
}
const quarterName = (key) => `${key.slice(0, 4)}年第${"一二三四"[Number(key.slice(5)) - 1]}季度`;
function shanghaiDay(offset) { const [y, m, d] = shanghaiToday(); return isoDay(new Date(Date.UTC(y, m - 1, d + offset))); }
const beijing = (value) => (value ? `${value}:00+08:00` : null);  // a datetime-local value, read as Beijing time

// ---- the page ------------------------------------------------------------------------------------------------------
export function partyPage() {
  const main = mainArea("双报到");
  const params = new URLSearchParams(location.search);
  let tab = TABS.some(([key]) => key === params.get("tab")) ? params.get("tab") : "review";
  const panel = el("div", { id: "party-body", role: "tabpanel" });
  const tabs = tabStrip(TABS, { label: "双报到", controls: "party-body", current: tab, onPick: (key) => pick(key) });
  main.append(tabs, panel);

  // The street's units, read once for the page: their names for a registration's and a member's unit_id.
  let unitsRead = null;
  const unitNames = () => {
    unitsRead = unitsRead || api("GET", "/v1/admin/units?limit=100").then((page) => page.items, () => []);
    return unitsRead.then((items) => Object.fromEntries(items.map((u) => [u.id, u.name])));
  };

  // A tab chosen: its own filters start from the address (the first time) or afresh (a tab clicked).
  function pick(key, first = false) {
    tab = key;
    tabs.select(key);
    if (!first) history.replaceState(null, "", `/console/party?tab=${key}`);
    panel.setAttribute("aria-labelledby", `tab-${key}`);
    const render = { review: reviewTab, posts: postsTab, assess: assessTab, units: unitsTab, coprojects: coProjectsTab }[key];
    render(panel, first ? params : new URLSearchParams(), { unitNames, resetUnits: () => { unitsRead = null; } });
  }
  pick(tab, true);
}

// ---- 报到审核 ---------------------------------------------------------------------------------------------------------
function reviewTab(panel, params, { unitNames }) {
  const status = el("select", { id: "reg-status", name: "status" },
    REG_STATUS.map(([value, label]) => el("option", { value, selected: (params.get("status") || "pending") === value }, label)));
  const message = el("div", { id: "reg-notice", role: "status", "aria-live": "polite" });
  const list = el("div", { id: "reg-list", class: "queue" });
  const form = el("form", { class: "card inline", "aria-label": "报到筛选", onsubmit: (event) => { event.preventDefault(); load(); } },
    field("reg-status", "状态", status), el("button", { type: "submit", class: "secondary" }, "刷新"));
  status.addEventListener("change", () => { notice(message, ""); load(); });
  panel.replaceChildren(form, message, list);

  let loads = 0;
  async function load() {
    const ticket = ++loads;
    history.replaceState(null, "", `/console/party?tab=review&status=${enc(status.value)}`);
    list.replaceChildren(el("p", { class: "muted" }, "正在加载…"));
    await guarded(async () => {
      const [page, names] = await Promise.all([api("GET", `/v1/admin/party-registrations?status=${enc(status.value)}&limit=50`), unitNames()]);
      if (ticket !== loads) return;
      const pending = status.value === "pending";
      const rows = (items) => items.map((r) => row(r, names, pending));
      const body = el("tbody", {}, rows(page.items));
      if (!page.items.length) { list.replaceChildren(el("p", { class: "muted" }, pending ? "没有待审核的报到。" : "没有这一状态的报到。")); return; }
      const headers = ["姓名", "昵称", "工作单位", "所在党组织", "共建单位", "提交时间", ...(pending ? ["操作"] : ["处理时间", "理由"])];
      list.replaceChildren(el("table", { id: "reg-table", class: "party-table" }, headRow(headers), body));
      moreRows(list, body, `/v1/admin/party-registrations?status=${enc(status.value)}&limit=50`, page.next_cursor,
        (r) => row(r, names, pending));
    });
  }

  function row(r, names, pending) {
    const unit = r.unit_id ? names[r.unit_id] || r.unit_id : "—";
    const tr = el("tr", { "data-id": r.id },
      el("th", { scope: "row" }, r.real_name || "—"), el("td", {}, r.user.nickname), el("td", {}, r.work_unit || "—"),
      el("td", {}, r.party_branch || "—"), el("td", {}, unit), el("td", { class: "nowrap" }, when(r.submitted_at)),
      pending ? el("td", { class: "nowrap" },
        el("button", { type: "button", class: "approve", "aria-label": `通过 ${r.real_name} 的报到`, onclick: () => approve(r) }, "通过"), " ",
        el("button", { type: "button", class: "secondary reject", "aria-label": `驳回 ${r.real_name} 的报到`, onclick: () => rejectForm(r, tr) }, "驳回"))
        : [el("td", { class: "nowrap" }, when(r.decided_at || r.ended_at)), el("td", {}, r.reason || "—")]);
    return tr;
  }

  async function approve(r) {
    try {
      await api("POST", `/v1/admin/party-registrations/${enc(r.id)}/approve`);
      notice(message, `已通过 ${r.real_name} 的报到，已获得党员身份。`);
    } catch (error) {
      notice(message, `${r.real_name}：${error.message}`, true);
    }
    load();
  }

  function rejectForm(r, tr) {
    const open = tr.nextElementSibling?.classList.contains("adjust-row") ? tr.nextElementSibling : null;
    if (open) { open.remove(); return; }
    const reason = el("textarea", { id: `reason-${r.id}`, name: "reason", rows: 2, maxlength: 200, required: true,
      placeholder: "例如：工作单位信息不完整，请补充后重新报到" });
    const box = el("div");
    const form = el("form", { onsubmit: async (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      if (!text) { notice(box, "请填写驳回理由", true); reason.focus(); return; }
      try {
        await api("POST", `/v1/admin/party-registrations/${enc(r.id)}/reject`, { reason: text });
        notice(message, `已驳回 ${r.real_name} 的报到，理由已告知本人。`);
        load();
      } catch (error) {
        // decided (409) or gone (404) meanwhile: said above the list, which is read again; anything else beside the form
        if (error.status === 409 || error.status === 404) { notice(message, `${r.real_name}：${error.message}`, true); load(); }
        else notice(box, error.message, true);
      }
    } }, el("label", { class: "grow", for: `reason-${r.id}` }, `驳回理由（告知${r.real_name}，最多 200 字）`, reason),
    el("button", { type: "submit" }, "确认驳回"), box);
    const formRow = el("tr", { class: "adjust-row" }, el("td", { colspan: 7 }, form));
    tr.after(formRow);
    reason.focus();
  }
  load();
}

// ---- 岗位 -------------------------------------------------------------------------------------------------------------
function postsTab(panel, params, { unitNames }) {
  const status = el("select", { id: "post-status", name: "status" },
    POST_STATUS.map(([value, label]) => el("option", { value, selected: (params.get("status") || "") === value }, label)));
  const message = el("div", { id: "post-notice", role: "status", "aria-live": "polite" });
  const createBox = el("div", { id: "post-create" });
  const list = el("div", { id: "post-list", class: "queue" });
  const detail = el("div", { id: "post-detail" });
  const opener = el("button", { type: "button", id: "post-new", "aria-expanded": "false", onclick: () => openCreate() }, "发布岗位");
  const form = el("form", { class: "card inline", "aria-label": "岗位筛选", onsubmit: (event) => { event.preventDefault(); load(); } },
    field("post-status", "状态", status), el("button", { type: "submit", class: "secondary" }, "刷新"), opener);
  status.addEventListener("change", () => load());
  panel.replaceChildren(form, createBox, message, list, detail);

  function openCreate() {
    if (createBox.firstChild) { closeCreate(); return; }
    opener.setAttribute("aria-expanded", "true");
    const box = el("div", { role: "status", "aria-live": "polite" });
    const f = el("form", { class: "card event-form", id: "post-form", onsubmit: async (event) => {
      event.preventDefault();
      const skills = f.elements.skills.value.split(/[,，、\s]+/).map((s) => s.trim()).filter(Boolean);
      const body = { title: f.elements.title.value.trim(), description: f.elements.description.value.trim(), skills,
        headcount: Number(f.elements.headcount.value), due: beijing(f.elements.due.value) };
      try {
        const post = await api("POST", "/v1/admin/posts", body);
        closeCreate();
        notice(message, `已发布岗位“${post.title}”，名额 ${post.headcount} 人。`);
        status.value = "";
        await load();
        showPost(post.id);
      } catch (error) {
        notice(box, error.message, true);
        const named = error.details.field && f.elements[error.details.field.split(".")[0]];
        if (named && named.focus) named.focus();
      }
    } },
    el("h2", {}, "发布岗位"),
    el("div", { class: "grid-form" },
      field("post-title", "岗位名称", el("input", { id: "post-title", name: "title", maxlength: 30, required: true, placeholder: "如：楼栋长" })),
      field("post-skills", "所需技能", el("input", { id: "post-skills", name: "skills", placeholder: "沟通、组织" }), "用顿号或逗号分隔，最多 10 项"),
      field("post-headcount", "名额", el("input", { id: "post-headcount", name: "headcount", type: "number", min: 1, max: 100, value: 1, required: true }), "1–100 人"),
      field("post-due", "认领截止", el("input", { id: "post-due", name: "due", type: "datetime-local" }), "北京时间；不填为长期岗位")),
    el("div", { class: "field wide" }, el("label", { for: "post-desc" }, "岗位职责与要求"),
      el("textarea", { id: "post-desc", name: "description", rows: 3, maxlength: 500, required: true })),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "发布"),
      el("button", { type: "button", class: "secondary", onclick: closeCreate }, "取消"), box));
    createBox.replaceChildren(f);
    f.elements.title.focus();
  }
  function closeCreate() { createBox.replaceChildren(); opener.setAttribute("aria-expanded", "false"); }

  let loads = 0;
  async function load() {
    const ticket = ++loads;
    history.replaceState(null, "", `/console/party?tab=posts${status.value ? `&status=${enc(status.value)}` : ""}`);
    list.replaceChildren(el("p", { class: "muted" }, "正在加载…"));
    await guarded(async () => {
      const query = `/v1/posts?limit=50${status.value ? `&status=${enc(status.value)}` : ""}`;
      const page = await api("GET", query);
      if (ticket !== loads) return;
      if (!page.items.length) { list.replaceChildren(el("p", { class: "muted" }, "还没有岗位。点“发布岗位”发布楼栋长、文明劝导员等岗位。")); return; }
      const body = el("tbody", {}, page.items.map(row));
      list.replaceChildren(el("table", { id: "post-table", class: "party-table" },
        headRow(["岗位", "所需技能", ["名额", "num"], ["已认领", "num"], "状态", "认领截止", "操作"]), body));
      moreRows(list, body, query, page.next_cursor, row);
    });
  }

  function row(p) {
    return el("tr", { "data-id": p.id },
      el("th", { scope: "row" }, p.title), el("td", {}, p.skills.length ? p.skills.join("、") : "—"),
      el("td", { class: "num" }, String(p.headcount)), el("td", { class: "num" }, String(p.claimed_count)),
      el("td", {}, el("span", { class: `tag post-${p.status}` }, POST_LABELS[p.status] || p.status), p.past_due ? el("span", { class: "tag" }, "已过截止") : ""),
      el("td", { class: "nowrap" }, p.due ? when(p.due) : "长期"),
      el("td", { class: "nowrap" },
        el("button", { type: "button", class: "secondary claimants", "aria-label": `${p.title} 的认领人`, onclick: () => showPost(p.id) }, "认领人"), " ",
        p.status !== "closed" ? el("button", { type: "button", class: "secondary close", "aria-label": `关闭岗位 ${p.title}`,
          onclick: () => closePost(p) }, "关闭") : ""));
  }

  async function closePost(p) {
    if (!window.confirm(`关闭岗位“${p.title}”？关闭后不能再认领，已认领的保留。`)) return;
    try {
      await api("POST", `/v1/admin/posts/${enc(p.id)}/close`);
      notice(message, `岗位“${p.title}”已关闭。`);
    } catch (error) {
      notice(message, `${p.title}：${error.message}`, true);
    }
    await load();
    if (detail.dataset.id === p.id) showPost(p.id);
  }

  async function showPost(id) {
    await guarded(async () => {
      const [p, names] = await Promise.all([api("GET", `/v1/posts/${enc(id)}`), unitNames()]);
      detail.dataset.id = id;
      const listed = list.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
      if (listed) listed.replaceWith(row(p));  // the list's row as the post is now (claims since the list was read)
      detail.replaceChildren(el("section", { class: "card", "aria-labelledby": "post-name" },
        el("h2", { id: "post-name", tabindex: "-1" }, `${p.title} · 认领人`),
        el("p", {}, p.description),
        el("p", { class: "muted" }, `名额 ${p.headcount} 人，已认领 ${p.claimed_count} 人，剩余 ${p.places_left} 个名额 · ${POST_LABELS[p.status] || p.status}`),
        p.claimants.length ? el("table", { id: "claimant-table" },
          headRow(["昵称", "身份", "共建单位", "认领时间"]),
          el("tbody", {}, p.claimants.map((c) => el("tr", {}, el("td", {}, c.user.nickname),
            el("td", {}, CLAIMANT_ROLES[c.role] || c.role), el("td", {}, c.unit_id ? names[c.unit_id] || c.unit_id : "—"), el("td", {}, when(c.claimed_at))))))
          : el("p", { class: "muted" }, "还没有人认领。")));
      detail.querySelector("h2").focus();
    });
  }
  load();
}

// ---- 考核 -------------------------------------------------------------------------------------------------------------
function assessTab(panel, params, { unitNames }) {
  const all = quarters();
  const quarter = el("select", { id: "assess-quarter", name: "quarter" },
    all.map((key) => el("option", { value: key, selected: (params.get("quarter") || all[0]) === key }, quarterName(key))));
  const csv = el("a", { class: "button secondary csv", id: "assess-csv" }, "导出 CSV");
  const rules = el("p", { class: "muted range", id: "assess-rules" });
  const list = el("div", { id: "assess-list", class: "queue" });
  const form = el("form", { class: "card inline", "aria-label": "考核季度", onsubmit: (event) => { event.preventDefault(); load(); } },
    field("assess-quarter", "季度", quarter), el("button", { type: "submit", class: "secondary" }, "刷新"), csv, rules);
  quarter.addEventListener("change", () => load());
  panel.replaceChildren(form, list);

  let loads = 0;
  async function load() {
    const ticket = ++loads;
    const q = quarter.value;
    history.replaceState(null, "", `/console/party?tab=assess&quarter=${enc(q)}`);
    csv.href = `/v1/admin/party-members?quarter=${enc(q)}&format=csv`;
    csv.setAttribute("download", `党员考核-${q}.csv`);
    csv.setAttribute("aria-label", `导出 CSV：${quarterName(q)}党员考核`);
    list.replaceChildren(el("p", { class: "muted" }, "正在加载…"));
    await guarded(async () => {
      const [page, names] = await Promise.all([api("GET", `/v1/admin/party-members?quarter=${enc(q)}&limit=20`), unitNames()]);
      if (ticket !== loads) return;
      rules.textContent = `考核标准：每季度至少服务 ${page.rules.services_per_quarter_min} 次，每年至少服务 ${page.rules.hours_per_year_min} 小时（时长按本年截至本季度末计）`;
      if (!page.items.length) { list.replaceChildren(el("p", { class: "muted" }, "社区还没有党员。")); return; }
      const row = (m) => el("tr", { "data-id": m.user.id, class: m.meets_rules ? "meets" : "short" },
        el("th", { scope: "row", class: "nowrap" }, m.user.real_name || "—"), el("td", { class: "nowrap" }, m.user.nickname),
        el("td", {}, m.unit_id ? names[m.unit_id] || m.unit_id : "—"),
        ["services", "events", "wishes", "posts", "requests", "minutes"].map((k) => el("td", { class: "num" }, String(m.quarter[k]))),
        el("td", { class: "num" }, String(m.year_minutes)),
        el("td", { class: "verdict" }, m.meets_rules ? el("span", { class: "tag ok" }, "达标")
          : [el("span", { class: "tag short" }, "未达标"), el("span", { class: "below" }, m.missing.map((k) => MISSING[k] || k).join("、"))]));
      const body = el("tbody", {}, page.items.map(row));
      list.replaceChildren(el("div", { class: "table-wrap" }, el("table", { id: "assess-table", class: "party-table assess-table" },
        el("thead", {},
          el("tr", {}, ["姓名", "昵称", "共建单位"].map((h) => el("th", { scope: "col", rowspan: 2 }, h)),
            el("th", { scope: "colgroup", colspan: 6, class: "group" }, `${quarterName(q)}服务`),
            el("th", { scope: "col", rowspan: 2, class: "num" }, "本年服务", el("br"), "（分钟）"),
            el("th", { scope: "col", rowspan: 2 }, "是否达标")),
          el("tr", {}, ["服务次数", "活动", "心愿", "领岗", "诉求", "分钟"].map((h) => el("th", { scope: "col", class: "num" }, h)))),
        body)));
      moreRows(list, body, `/v1/admin/party-members?quarter=${enc(q)}&limit=20`, page.next_cursor, row);
    });
  }
  load();
}

// ---- 共建单位 -----------------------------------------------------------------------------------------------------------
function unitsTab(panel, params, { resetUnits }) {
  const message = el("div", { id: "unit-notice", role: "status", "aria-live": "polite" });
  const list = el("div", { id: "unit-list", class: "queue" });
  const formBox = el("div", { id: "agreement-box" });
  panel.replaceChildren(el("p", { class: "muted" }, "街道登记的共建单位（驻区单位），以及本社区与它签订的共建协议。"), message, list, formBox);

  async function load() {
    list.replaceChildren(el("p", { class: "muted" }, "正在加载…"));
    await guarded(async () => {
      const page = await api("GET", "/v1/admin/units?limit=100");
      if (!page.items.length) { list.replaceChildren(el("p", { class: "muted" }, "街道还没有登记共建单位。")); return; }
      list.replaceChildren(el("table", { id: "unit-table", class: "party-table" },
        headRow(["单位", "类型", "联系人", "联系电话", "本社区协议", "承诺事项", "操作"]),
        el("tbody", {}, page.items.map((u) => {
          const a = u.agreement;
          return el("tr", { "data-id": u.id },
            el("th", { scope: "row" }, u.name), el("td", {}, u.kind), el("td", {}, u.contact_name), el("td", { class: "nowrap" }, u.contact_phone),
            el("td", { class: "nowrap" }, a ? [el("span", { class: a.valid ? "tag ok" : "tag short" }, a.valid ? "有效" : "已过期"),
              `至 ${dayName(a.valid_until)}`, el("br"), el("span", { class: "muted" }, `每季度至少 ${a.activities_per_quarter} 次活动`)]
              : el("span", { class: "muted" }, "未签订")),
            el("td", {}, a ? a.pledges.join("；") : "—"),
            el("td", { class: "nowrap" }, el("button", { type: "button", class: "secondary sign", "aria-label": `${a ? "续签" : "签订"}协议：${u.name}`,
              onclick: () => openForm(u) }, a ? "续签协议" : "签订协议")));
        }))));
      if (page.next_cursor) list.append(el("p", { class: "muted" }, "仅显示前 100 个单位。"));
    });
  }

  function openForm(u) {
    const a = u.agreement;
    const box = el("div", { role: "status", "aria-live": "polite" });
    const pledges = el("textarea", { id: "ag-pledges", name: "pledges", rows: 4, required: true,
      placeholder: "每行一条，如：每季度到社区义诊一次" });
    pledges.value = a ? a.pledges.join("\n") : "";
    const until = a && a.valid_until > shanghaiDay(0) ? a.valid_until : shanghaiDay(365);
    const f = el("form", { class: "card event-form", id: "agreement-form", onsubmit: async (event) => {
      event.preventDefault();
      const body = { pledges: pledges.value.split("\n").map((s) => s.trim()).filter(Boolean),
        activities_per_quarter: Number(f.elements.activities_per_quarter.value), valid_until: f.elements.valid_until.value };
      try {
        const signed = await api("POST", `/v1/admin/units/${enc(u.id)}/agreement`, body);
        formBox.replaceChildren();
        notice(message, `已与${u.name}${signed.renewed ? "续签" : "签订"}共建协议，有效期至 ${dayName(signed.valid_until)}。`);
        resetUnits();
        load();
      } catch (error) {
        notice(box, error.message, true);
        const named = error.details.field && f.elements[error.details.field.split(".")[0]];
        if (named && named.focus) named.focus();
      }
    } },
    el("h2", {}, `${a ? "续签" : "签订"}共建协议 · ${u.name}`),
    el("div", { class: "grid-form" },
      field("ag-activities", "每季度活动次数", el("input", { id: "ag-activities", name: "activities_per_quarter", type: "number", min: 1, max: 20,
        value: a ? a.activities_per_quarter : 1, required: true }), "1–20 次"),
      field("ag-until", "有效期至", el("input", { id: "ag-until", name: "valid_until", type: "date", min: shanghaiDay(1), value: until, required: true }),
        "北京时间，含当天；最长 5 年")),
    el("div", { class: "field wide" }, el("label", { for: "ag-pledges" }, "承诺事项", el("span", { class: "hint" }, "每行一条，1–10 条，每条不超过 100 字")), pledges),
    el("div", { class: "actions" }, el("button", { type: "submit" }, a ? "续签" : "签订"),
      el("button", { type: "button", class: "secondary", onclick: () => formBox.replaceChildren() }, "取消"), box));
    formBox.replaceChildren(f);
    pledges.focus();
  }
  load();
}
