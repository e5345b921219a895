// 居民: the member directory, a member's roles and grids, and invites with their printable poster.
import { ROLE_LABELS, state, el, when, api, guarded, table, has, mainArea, grids, gridName, roleTags, enc } from "./lib.js";

// The roles an admin gives in a community (street, district and department staff are named by the operator).
const COMMUNITY_ROLES = Object.entries(ROLE_LABELS).filter(([role]) => !["street_staff", "district_staff", "department_staff"].includes(role));

export function membersPage() {
  const main = mainArea("居民");
  const params = new URLSearchParams(location.search);
  const q = el("input", { id: "q", name: "q", type: "search", value: params.get("q") || "", maxlength: 20,
    placeholder: "昵称、姓名或手机号后四位" });
  const role = el("select", { id: "role", name: "role" }, el("option", { value: "" }, "全部角色"),
    COMMUNITY_ROLES.map(([value, label]) => el("option", { value, selected: params.get("role") === value }, label)));
  const grid = el("select", { id: "grid", name: "grid_id" }, el("option", { value: "" }, "全部网格"));
  const results = el("div", { id: "results" });
  const detail = el("div", { id: "detail" });
  const form = el("form", { class: "card inline", role: "search", onsubmit: (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (q.value.trim()) next.set("q", q.value.trim());
    if (role.value) next.set("role", role.value);
    if (grid.value) next.set("grid_id", grid.value);
    history.replaceState(null, "", `/console/members?${next}`);
    search();
  } }, el("div", { class: "field" }, el("label", { for: "q" }, "搜索"), q),
  el("div", { class: "field" }, el("label", { for: "role" }, "角色"), role),
  el("div", { class: "field" }, el("label", { for: "grid" }, "网格"), grid),
  el("button", { type: "submit" }, "搜索"));
  main.append(form, el("div", { class: "two" }, results, detail));

  let searches = 0;
  async function search() {
    const mine = ++searches;  // an earlier search answering late must not overwrite this one
    results.replaceChildren(el("p", { class: "muted", role: "status" }, "正在搜索…"));
    await guarded(async () => {
      const all = await grids();
      const query = new URLSearchParams();
      if (q.value.trim()) query.set("q", q.value.trim());
      if (role.value) query.set("role", role.value);
      if (grid.value) query.set("grid_id", grid.value);
      const page = await api("GET", `/v1/admin/members?${query}`);
      if (mine !== searches) return;
      results.replaceChildren(el("p", { class: "muted", role: "status" }, `共 ${page.items.length} 人${page.next_cursor ? "（仅显示前一页，请缩小搜索范围）" : ""}`),
        table(["昵称", "姓名", "角色", "网格", "时长（分）#", "操作"], page.items.map((m) => el("tr", {},
          el("td", {}, m.nickname), el("td", {}, m.real_name || "—"), el("td", {}, roleTags(m.roles)),
          el("td", {}, gridName(m.grid_id, all)), el("td", { class: "num" }, m.volunteer_minutes),
          el("td", {}, el("button", { type: "button", class: "secondary", "aria-label": `查看 ${m.nickname}`,
            onclick: () => showMember(m.id) }, "查看")))), "没有找到符合条件的居民。", "nowrap"));
    });
  }

  async function showMember(id, notice) {
    await guarded(async () => {
      const [m, all] = await Promise.all([api("GET", `/v1/admin/members/${encodeURIComponent(id)}`), grids()]);
      // 党员 comes only from an approved 党员报到 (the API refuses to add it): shown to keep or take away when held.
      const roleBoxes = COMMUNITY_ROLES.filter(([value]) => value !== "party_member" || m.roles.includes(value))
        .map(([value, label]) => el("label", {},
          el("input", { type: "checkbox", name: "roles", value, checked: m.roles.includes(value) }), label));
      if (!m.roles.includes("party_member")) roleBoxes.push(el("span", { class: "muted" }, "党员身份经“党员报到”审核后获得"));
      const gridBoxes = all.map((g) => el("label", {},
        el("input", { type: "checkbox", name: "grid_ids", value: g.id, checked: m.grid_ids.includes(g.id) }), g.name));
      const message = el("div", { role: "status", "aria-live": "polite" }, notice ? el("p", { class: "notice" }, notice) : "");
      const form = el("form", { onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        try {
          await api("PUT", `/v1/admin/members/${encodeURIComponent(id)}/roles`,
            { roles: data.getAll("roles"), grid_ids: data.getAll("grid_ids"), store_ids: m.store_ids });
          await showMember(id, "角色已保存，立即生效。");
          search();
        } catch (error) {
          message.replaceChildren(el("p", { class: "notice error" }, error.message));
        }
      } }, el("fieldset", {}, el("legend", {}, "角色"), el("div", { class: "checks" }, roleBoxes)),
      has("admin") && all.length ? el("fieldset", {}, el("legend", {}, "负责的网格（网格员）"), el("div", { class: "checks" }, gridBoxes)) : "",
      el("div", { class: "actions" }, el("button", { type: "submit", disabled: !has("admin") }, "保存角色"),
        has("admin") ? "" : el("span", { class: "muted" }, "仅管理员可以修改角色")), message);
      detail.replaceChildren(el("section", { class: "card", "aria-labelledby": "member-name" },
        el("h2", { id: "member-name" }, m.nickname),
        el("dl", { class: "facts" }, el("dt", {}, "姓名"), el("dd", {}, m.real_name || "—"),
          el("dt", {}, "手机号"), el("dd", {}, m.phone || "未绑定"), el("dt", {}, "所在网格"), el("dd", {}, gridName(m.grid_id, all)),
          el("dt", {}, "志愿时长"), el("dd", {}, `${m.volunteer_minutes} 分钟`), el("dt", {}, "积分"), el("dd", {}, m.points_balance),
          el("dt", {}, "加入时间"), el("dd", {}, when(m.joined_at))), form));
      detail.querySelector("h2").setAttribute("tabindex", "-1");
      if (notice) detail.querySelector("button[type=submit]").focus(); else detail.querySelector("h2").focus();
    });
  }

  guarded(async () => {
    const all = await grids();
    grid.append(...all.map((g) => el("option", { value: g.id, selected: params.get("grid_id") === g.id }, g.name)));
    if (has("admin") && all.length) main.append(invitePanel(all));
    await search();
  });
}

// 邀请居民: an invite code of a grid and its printable poster — the QR carries <QR_LINK_BASE>/i/<code>, which WeChat's
// own scanner opens in the mini-program's join page (普通链接二维码).
function invitePanel(all) {
  const gridSelect = el("select", { id: "invite-grid" }, all.map((g) => el("option", { value: g.id }, g.name)));
  const days = el("input", { id: "invite-days", type: "number", min: 1, max: 365, value: 30 });
  const out = el("div", { id: "invite", role: "status", "aria-live": "polite" });
  const form = el("form", { class: "card inline", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const invite = await api("POST", "/v1/admin/invites", { grid_id: gridSelect.value, valid_days: Number(days.value) });
      const gridLabel = gridName(invite.grid_id, all);
      const poster = el("section", { class: "poster", "aria-label": "邀请海报" },
        el("h2", {}, `${state.me.community_name || ""} · ${gridLabel}`),
        el("p", { class: "poster-lead" }, "微信扫一扫，加入社区"),
        el("img", { src: `/v1/admin/invites/${enc(invite.code)}/qrcode?format=png`, alt: `${gridLabel}的邀请二维码`,
          width: 320, height: 320 }),
        el("p", {}, `邀请码 ${invite.code} · ${when(invite.expires_at)} 前有效`),
        el("p", { class: "muted" }, "扫码后在“同心”小程序中确认加入，即可发布微心愿、报名活动、反映诉求。"));
      out.replaceChildren(poster, el("div", { class: "actions no-print" },
        el("button", { type: "button", onclick: () => window.print() }, "打印海报"),
        el("a", { href: invite.url, class: "muted" }, invite.url)));
      out.querySelector("button").focus();
    } catch (error) {
      out.replaceChildren(el("p", { class: "notice error" }, error.message));
    }
  } }, el("div", { class: "field" }, el("label", { for: "invite-grid" }, "邀请居民加入网格"), gridSelect),
  el("div", { class: "field" }, el("label", { for: "invite-days" }, "有效天数"), days),
  el("button", { type: "submit", class: "secondary" }, "生成邀请海报"));
  return el("section", { class: "invites no-print-frame" }, el("h2", {}, "邀请居民"), form, out);
}
