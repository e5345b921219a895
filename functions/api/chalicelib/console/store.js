// 积分超市: the counter (核销 a pickup code typed or scanned, the queue of redemptions waiting) and the shelf (goods,
// 补货, 上架/下架; admins add goods).
import { state, el, when, later, api, guarded, table, has, mainArea, pagesOf, notice, enc } from "./lib.js";

const QUEUE_PAGE = 20;
// now as the API's times are shown (Asia/Shanghai), whatever the desk computer's zone
const clock = () => new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false });
// what was typed (the code as the API compares it: case and blanks ignored), or that a scanned link was read
const shownCode = (text) => (text.length <= 16 ? `取货码 ${text.toUpperCase().replace(/\s+/g, "")}` : "扫描的取货二维码");
const TABS = [["pending_pickup", "待领取"], ["picked_up", "已核销"]];

// PATCH /v1/goods/{id}; the API also takes POST with X-HTTP-Method-Override (the mini-program's form), not needed here.
const patchGoods = (id, body) => api("PATCH", `/v1/goods/${enc(id)}`, body);

export function storePage() {
  const main = mainArea("积分超市");
  const params = new URLSearchParams(location.search);
  const storeSelect = el("select", { id: "st-store", name: "store" });
  const counter = el("section", { class: "card st-counter", "aria-labelledby": "st-verify-title" });
  const queue = el("section", { class: "card", id: "st-queue", "aria-labelledby": "st-queue-title" });
  const shelf = el("section", { id: "st-goods", "aria-labelledby": "st-goods-title" });
  const storeForm = el("form", { class: "inline st-pick", onsubmit: (event) => event.preventDefault() },
    el("div", { class: "field" }, el("label", { for: "st-store" }, "门店"), storeSelect));
  main.append(storeForm, el("div", { class: "two st-top" }, counter, queue), shelf);

  let stores = [];
  let storeId = null;
  let tab = "pending_pickup";
  let queueItems = [];
  let queueCursor = null;
  let queueLoads = 0;

  // ---- 核销 ------------------------------------------------------------------------------------------------------
  const code = el("input", { id: "st-code", name: "pickup_code", maxlength: 256, autocomplete: "off", spellcheck: "false",
    autocapitalize: "characters", required: true, class: "code-box", "aria-describedby": "st-code-hint", placeholder: "取货码" });
  const verifyButton = el("button", { type: "submit", class: "big" }, "核销");
  const result = el("div", { id: "st-result", class: "verify-result", role: "status", "aria-live": "assertive", "aria-atomic": "true" });
  counter.append(el("h2", { id: "st-verify-title" }, "核销取货码"),
    el("form", { class: "st-verify", onsubmit: (event) => { event.preventDefault(); verify(); } },
      el("label", { for: "st-code", class: "st-sr" }, "取货码"), code, verifyButton),
    el("p", { id: "st-code-hint", class: "muted" }, "输入居民出示的 6 位取货码后按回车，或用扫码枪扫描其取货二维码。"), result);

  let verifying = false;
  async function verify() {
    const text = code.value.trim();
    if (!text || verifying) { code.focus(); return; }
    verifying = true;
    verifyButton.disabled = true;
    try {
      const r = await api("POST", "/v1/redemptions/verify", { pickup_code: text });
      result.className = "verify-result ok";
      result.replaceChildren(el("p", { class: "verdict" }, "✔ 核销成功"),
        el("p", { class: "what" }, `${r.goods.name} × ${r.quantity}`),
        el("dl", { class: "facts" },
          r.user?.nickname ? [el("dt", {}, "兑换人"), el("dd", {}, r.user.nickname)] : "",
          el("dt", {}, "积分"), el("dd", {}, `${r.points} 分`),
          el("dt", {}, "兑换于"), el("dd", {}, when(r.created_at)),
          el("dt", {}, "状态"), el("dd", {}, `已核销（${when(r.picked_up_at)}）`)),
        el("p", { class: "muted" }, `${shownCode(text)}：请将商品交给兑换人。`));
      if (r.store_id && r.store_id !== storeId && stores.some((s) => s.id === r.store_id)) { storeSelect.value = r.store_id; await chooseStore(r.store_id); }
      else loadQueue();
    } catch (error) {
      if (error.status === 401) return;
      result.className = "verify-result bad";
      result.replaceChildren(el("p", { class: "verdict" }, "✘ 未核销"), el("p", { class: "what" }, error.message),
        el("p", { class: "muted" }, `${shownCode(text)}`));
    } finally {
      verifying = false;
      verifyButton.disabled = false;
      code.value = "";  // ready for the next person
      code.focus();
    }
  }

  // ---- 队列 ------------------------------------------------------------------------------------------------------
  async function loadQueue(more = false) {
    if (!storeId) return;
    const mine = ++queueLoads;
    const query = new URLSearchParams({ status: tab, limit: String(QUEUE_PAGE) });
    if (more && queueCursor) query.set("cursor", queueCursor);
    try {
      const page = await api("GET", `/v1/stores/${enc(storeId)}/redemptions?${query}`);
      if (mine !== queueLoads) return;
      queueItems = more ? [...queueItems, ...page.items] : page.items;
      queueCursor = page.next_cursor;
      renderQueue();
    } catch (error) {
      if (mine !== queueLoads || error.status === 401) return;
      renderQueue(error.message);
    }
  }

  function renderQueue(problem) {
    const pending = tab === "pending_pickup";
    const count = `（${queueItems.length}${queueCursor ? "+" : ""}）`;
    const tabs = el("div", { class: "st-tabs", role: "group", "aria-label": "兑换状态" }, TABS.map(([value, label]) =>
      el("button", { type: "button", class: value === tab ? "" : "secondary", "aria-pressed": String(value === tab), "data-tab": value,
        onclick: () => { tab = value; queueCursor = null; loadQueue(); } }, value === tab && !problem ? `${label}${count}` : label)));
    const focused = queue.contains(document.activeElement) ? document.activeElement.dataset.tab || document.activeElement.textContent : null;
    queue.replaceChildren(el("h2", { id: "st-queue-title" }, "取货队列"),
      tabs,
      problem ? el("p", { class: "notice error" }, problem) : "",
      table(["商品", "数量#", "积分#", pending ? "兑换时间" : "核销时间", pending ? "有效期至" : "兑换时间"],
        queueItems.map((r) => el("tr", { "data-redemption": r.id }, el("td", {}, r.goods.name, r.user?.nickname ? el("span", { class: "muted" }, ` · ${r.user.nickname}`) : ""),
          el("td", { class: "num" }, r.quantity), el("td", { class: "num" }, r.points),
          el("td", { class: "nowrap" }, when(pending ? r.created_at : r.picked_up_at)),
          el("td", { class: "nowrap" }, when(pending ? r.expires_at : r.created_at)))),
        pending ? "没有待领取的兑换。" : "还没有核销记录。", "st-queue-table"),
      el("p", { class: "actions" }, queueCursor ? el("button", { type: "button", class: "secondary", onclick: () => loadQueue(true) }, "更多") : "",
        el("span", { class: "muted" }, `每 30 秒自动刷新 · ${clock()} 更新`)));
    if (focused) [...queue.querySelectorAll("button")].find((b) => (b.dataset.tab || b.textContent) === focused)?.focus();
  }

  // ---- 商品 ------------------------------------------------------------------------------------------------------
  async function loadGoods(message) {
    if (!storeId) return;
    const { items, more } = await pagesOf(`/v1/stores/${enc(storeId)}/goods`);
    const status = el("div", { role: "status", "aria-live": "polite" });
    if (message) notice(status, message.text, message.error);
    const rows = items.map((g) => {
      const amount = el("input", { type: "number", step: 1, min: -100000, max: 100000, class: "restock", name: "restock",
        "aria-label": `${g.name} 补货数量（负数为报损）`, placeholder: "+N", required: true });
      const restock = el("form", { class: "st-restock", onsubmit: async (event) => {
        event.preventDefault();
        const n = Number(amount.value);
        if (!Number.isInteger(n) || n === 0) { notice(status, "补货数量请填写不为 0 的整数（负数为报损）", true); amount.focus(); return; }
        await change(g, { restock: n }, (after) => `${after.name} ${n > 0 ? `补货 +${n}` : `报损 ${n}`}，现库存 ${after.stock}。`, status);
      } }, amount, el("button", { type: "submit", class: "secondary", "aria-label": `${g.name} 补货` }, "补货"));
      return el("tr", { "data-goods": g.id, class: g.on_shelf ? null : "off" },
        el("td", {}, el("b", {}, g.name), g.description ? el("div", { class: "muted small" }, g.description) : ""),
        el("td", { class: "num" }, g.price_points), el("td", { class: "num stock" }, g.stock),
        el("td", { class: "num" }, g.per_user_limit ?? "不限"),
        el("td", {}, el("span", { class: g.on_shelf ? "tag on" : "tag" }, g.on_shelf ? "在售" : "已下架")),
        el("td", {}, restock),
        el("td", {}, el("button", { type: "button", class: "secondary", "aria-label": `${g.on_shelf ? "下架" : "上架"} ${g.name}`,
          onclick: () => change(g, { on_shelf: !g.on_shelf }, (after) => `${after.name} 已${after.on_shelf ? "上架" : "下架"}。`, status) },
        g.on_shelf ? "下架" : "上架")));
    });
    shelf.replaceChildren(el("h2", { id: "st-goods-title" }, `商品（${items.length}${more ? "+" : ""}）`), status,
      table(["商品", "兑换积分#", "库存#", "每人限兑#", "状态", "补货", "上架/下架"], rows, "这个门店还没有商品。", "st-goods-table"),
      has("admin") ? addGoodsForm() : "");
  }

  async function change(g, body, said, status) {
    try {
      const after = await patchGoods(g.id, body);
      await loadGoods({ text: said(after) });
      shelf.querySelector(`tr[data-goods="${CSS.escape(g.id)}"] input`)?.focus();
    } catch (error) {
      if (error.status !== 401) notice(status, error.message, true);
    }
  }

  function addGoodsForm() {
    const status = el("div", { role: "status", "aria-live": "polite" });
    const field = (id, label, input) => el("div", { class: "field" }, el("label", { for: id }, label), input);
    const form = el("form", { class: "card inline st-add", onsubmit: async (event) => {
      event.preventDefault();
      const f = event.target.elements;
      const body = { name: f.name.value.trim(), price_points: Number(f.price_points.value), stock: Number(f.stock.value),
        on_shelf: f.on_shelf.checked };
      if (f.per_user_limit.value) body.per_user_limit = Number(f.per_user_limit.value);
      if (f.description.value.trim()) body.description = f.description.value.trim();
      try {
        const g = await api("POST", `/v1/stores/${enc(storeId)}/goods`, body);
        await loadGoods({ text: `已新增商品「${g.name}」。` });
      } catch (error) {
        if (error.status !== 401) notice(status, error.message, true);
      }
    } }, el("h3", {}, "新增商品（管理员）"),
    field("g-name", "名称", el("input", { id: "g-name", name: "name", maxlength: 40, required: true })),
    field("g-price", "兑换积分", el("input", { id: "g-price", name: "price_points", type: "number", min: 1, max: 100000, step: 1, required: true, class: "short" })),
    field("g-stock", "库存", el("input", { id: "g-stock", name: "stock", type: "number", min: 0, max: 100000, step: 1, required: true, class: "short" })),
    field("g-limit", "每人限兑（可空）", el("input", { id: "g-limit", name: "per_user_limit", type: "number", min: 1, max: 100, step: 1, class: "short" })),
    field("g-desc", "说明（可空）", el("input", { id: "g-desc", name: "description", maxlength: 500 })),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "on_shelf", checked: true }), "立即上架"),
    el("button", { type: "submit" }, "新增商品"), status);
    return form;
  }

  async function chooseStore(id) {
    storeId = id;
    history.replaceState(null, "", `/console/store?store=${enc(id)}`);
    queueItems = []; queueCursor = null;
    await Promise.all([loadQueue(), guarded(() => loadGoods())]);
  }

  storeSelect.addEventListener("change", () => chooseStore(storeSelect.value));
  guarded(async () => {
    const all = (await api("GET", "/v1/stores")).items;
    stores = has("admin") ? all : all.filter((s) => (state.me.store_ids || []).includes(s.id));
    if (!stores.length) {
      counter.remove(); queue.remove();
      shelf.replaceChildren(el("p", { class: "muted" }, has("admin") ? "社区还没有积分超市门店。" : "您还没有负责的门店，请联系社区管理员。"));
      return;
    }
    storeSelect.append(...stores.map((s) => el("option", { value: s.id }, s.address ? `${s.name}（${s.address}）` : s.name)));
    const wanted = stores.find((s) => s.id === params.get("store")) || stores[0];
    storeSelect.value = wanted.id;
    if (stores.length === 1) {
      storeForm.replaceChildren(el("p", { class: "st-name" }, "门店：", el("b", {}, wanted.name), wanted.address ? `（${wanted.address}）` : ""));
    }
    code.focus();
    await chooseStore(wanted.id);
    later(() => loadQueue(), 30000);
  });
}
