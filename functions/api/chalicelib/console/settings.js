// 设置: the community's settings, each with its range.
import { el, api, guarded, mainArea } from "./lib.js";

export function settingsPage() {
  const main = mainArea("社区设置");
  guarded(async () => {
    const community = await api("GET", "/v1/admin/community");
    render(community);
    function render(c, notice) {
      const rows = c.fields.map((f) => {
        const id = `set-${f.name}`;
        const value = c.settings[f.name];
        const input = f.kind === "boolean"
          ? el("input", { id, name: f.name, type: "checkbox", checked: !!value })
          : el("input", { id, name: f.name, type: "number", value, min: f.min, max: f.max, step: 1, required: true });
        const hint = f.kind === "boolean" ? `默认：${f.default ? "是" : "否"}` : `默认 ${f.default}，范围 ${f.min}–${f.max}`;
        return el("div", { class: "row" }, el("label", { for: id }, f.label, el("span", { class: "hint" }, hint)), input);
      });
      const message = el("div", { role: "status", "aria-live": "polite" }, notice ? el("p", { class: "notice" }, notice) : "");
      const form = el("form", { class: "card settings", novalidate: true, onsubmit: async (event) => {
        event.preventDefault();
        const changes = {};
        for (const f of c.fields) {
          const input = event.target.elements[f.name];
          const next = f.kind === "boolean" ? input.checked : (input.value === "" ? null : Number(input.value));
          if (next !== c.settings[f.name]) changes[f.name] = next;
        }
        if (!Object.keys(changes).length) { message.replaceChildren(el("p", { class: "notice" }, "没有修改。")); return; }
        try {
          const saved = await api("PATCH", "/v1/admin/community", changes);
          render(saved, `已保存 ${Object.keys(changes).length} 项设置。`);
        } catch (error) {
          // the API names the field by its key: say it by its label, as the page does
          const named = c.fields.find((f) => f.name === error.details.field);
          message.replaceChildren(el("p", { class: "notice error" },
            named ? error.message.replace(named.name, named.label) : error.message));
          const field = error.details.field && event.target.elements[error.details.field];
          if (field) field.focus();
        }
      } }, rows, el("div", { class: "actions" }, el("button", { type: "submit" }, "保存设置"), message));
      main.replaceChildren(el("h1", {}, "社区设置"), el("p", { class: "muted" }, `${c.name}：修改后立即对全社区生效。`), form);
      if (notice) form.querySelector("button[type=submit]").focus();  // the keyboard stays where it was
    }
  });
}
