// 共建单位 (street staff): the street's units (GET /v1/street/units, oldest first, more pages), 登记单位
// (POST /v1/street/units) and a unit's one-time liaison invite (POST /v1/street/units/{id}/invites). The invite's link
// (<QR_LINK_BASE>/u/<code>) is shown large with its code and a copy button, on a card that prints alone: there is no
// server route drawing a unit invite's QR yet, so the page prints the link and the code (the liaison types the code
// in the mini-program, or opens the link).
import { el, api, guarded, mainArea, notice, when, state, enc, field, idPicker, headRow, moreRows } from "./lib.js";

const KINDS = ["机关", "企业", "事业单位", "学校", "医院", "社会组织"];

export function unitsPage() {
  const main = mainArea("共建单位");
  const params = new URLSearchParams(location.search);
  const street = idPicker("unit-street", "street_id", state.me.street_ids || [], params.get("street_id"));
  const streetQuery = () => (street ? `&street_id=${enc(street.value)}` : "");
  const message = el("div", { id: "unit-notice", role: "status", "aria-live": "polite" });
  const list = el("div", { id: "unit-list", class: "queue" });
  const invite = el("section", { id: "unit-invite", class: "invites", "aria-live": "polite" });

  const box = el("div", { role: "status", "aria-live": "polite" });
  const form = el("form", { class: "card event-form no-print", id: "unit-form", "aria-labelledby": "unit-form-title", onsubmit: async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    const body = { name: f.name.value.trim(), kind: f.kind.value, contact_name: f.contact_name.value.trim(),
      contact_phone: f.contact_phone.value.trim().replace(/\s+/g, "") };
    if (street) body.street_id = street.value;
    try {
      const unit = await api("POST", "/v1/street/units", body);
      event.target.reset();
      notice(box, "");
      notice(message, `已登记${unit.name}（${unit.kind}）。可以为它生成联络员邀请。`);
      await load();
    } catch (error) {
      notice(box, error.message, true);
      const named = error.details.field && f[error.details.field.split(".")[0]];
      if (named && named.focus) named.focus();
    }
  } },
  el("h2", { id: "unit-form-title" }, "登记共建单位"),
  el("div", { class: "grid-form" },
    field("unit-name", "单位名称", el("input", { id: "unit-name", name: "name", minlength: 2, maxlength: 40, required: true, placeholder: "如：同心区人民医院" }), "2–40 字"),
    field("unit-kind", "类型", el("select", { id: "unit-kind", name: "kind" }, KINDS.map((k) => el("option", { value: k }, k)))),
    field("unit-contact", "联系人", el("input", { id: "unit-contact", name: "contact_name", maxlength: 20, required: true })),
    field("unit-phone", "联系电话", el("input", { id: "unit-phone", name: "contact_phone", type: "tel", maxlength: 13, required: true,
      placeholder: "手机或座机，如 028-88886666" }))),
  el("div", { class: "actions" }, el("button", { type: "submit" }, "登记"), street ? field("unit-street", "街道", street) : "", box));
  if (street) street.addEventListener("change", () => { invite.replaceChildren(); load(); });
  main.append(form, message, list, invite);

  let loads = 0;
  async function load() {
    const ticket = ++loads;
    list.replaceChildren(el("p", { class: "muted" }, "正在加载…"));
    await guarded(async () => {
      const query = `/v1/street/units?limit=50${streetQuery()}`;
      const page = await api("GET", query);
      if (ticket !== loads) return;
      if (!page.items.length) { list.replaceChildren(el("p", { class: "muted" }, "街道还没有登记共建单位。")); return; }
      const body = el("tbody", {}, page.items.map(row));
      list.replaceChildren(el("h2", { class: "no-print" }, "街道的共建单位"), el("table", { id: "street-unit-table", class: "party-table no-print" },
        headRow(["单位", "类型", "联系人", "联系电话", ["联络员", "num"], ["共建社区", "num"], ["资源清单", "num"], "登记时间", "操作"]), body));
      moreRows(list, body, query, page.next_cursor, row, "actions no-print");
    });
  }

  function row(u) {
    return el("tr", { "data-id": u.id },
      el("th", { scope: "row" }, u.name), el("td", {}, u.kind), el("td", {}, u.contact_name), el("td", { class: "nowrap" }, u.contact_phone),
      el("td", { class: "num" }, String(u.liaison_count)), el("td", { class: "num" }, String(u.agreement_count)),
      el("td", { class: "num" }, String(u.resource_count)), el("td", { class: "nowrap" }, when(u.created_at)),
      el("td", { class: "nowrap" }, el("button", { type: "button", class: "secondary invite", "aria-label": `生成联络员邀请：${u.name}`,
        onclick: () => makeInvite(u) }, "生成联络员邀请")));
  }

  async function makeInvite(u) {
    try {
      const made = await api("POST", `/v1/street/units/${enc(u.id)}/invites`);
      const link = el("p", { class: "invite-link", id: "invite-link" }, made.url);
      const copied = el("span", { class: "muted", role: "status", "aria-live": "polite" });
      invite.replaceChildren(el("div", { class: "poster unit-poster", "aria-label": "联络员邀请" },
        el("h2", {}, `${u.name} · 联络员邀请`),
        el("p", { class: "poster-lead" }, "在“同心”小程序中打开此链接，或输入邀请码"),
        link,
        el("p", { class: "invite-code" }, "邀请码 ", el("b", { id: "invite-code" }, made.code)),
        el("p", {}, `${when(made.expires_at)} 前有效，仅可使用一次`),
        el("p", { class: "muted" }, "成为联络员后，可以发布单位的资源清单、认领共建社区的岗位。")),
      el("div", { class: "actions no-print" },
        el("button", { type: "button", id: "invite-copy", onclick: async () => {
          try { await navigator.clipboard.writeText(made.url); copied.textContent = "链接已复制"; }
          catch { window.getSelection().selectAllChildren(link); copied.textContent = "请按 Ctrl+C 复制已选中的链接"; }
        } }, "复制链接"),
        el("button", { type: "button", class: "secondary", onclick: () => window.print() }, "打印"), copied),
      el("p", { class: "muted no-print" }, "暂不提供联络员邀请的二维码图片：请打印或发送链接和邀请码。"));
      invite.querySelector("#invite-copy").focus();
    } catch (error) {
      invite.replaceChildren(el("p", { class: "notice error" }, `${u.name}：${error.message}`));
    }
  }
  load();
}
