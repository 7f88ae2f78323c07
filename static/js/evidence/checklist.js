// The evidence checklist of the case room: the viewer's own (a party), or both parties' (mediators,
// admins), each item ticked once a file shows it, a request answered it or the party answered it in a few
// words (the small form here); "add a file" brings the upload form forward with the item chosen.

import { t, el, fmt, me, base, els, form, isParty, undecided, call, refreshRoom, showErrors, reconcile, coalesced,
         shared } from "./common.js";
import { files, renderFiles } from "./files.js";
import { uploadChannels, renderItemSelect, focusUpload } from "./uploads.js";

export const loadChecklist = coalesced(async () => {
  const { ok, answer } = await call("GET", `${base}/checklist`);
  if (!ok) return;
  shared.checklist = answer;
  renderChecklist();
  renderItemSelect();
  files.forEach((_view, channel) => renderFiles(channel)); // "shows: …" labels
});

function checkAnswerForm(item) {
  const id = `checklist-${item.role}-${item.key}`;
  const input = el("input", { name: "value", id: `${id}-value`, required: "", maxlength: "500", autocomplete: "off",
                              "aria-describedby": `${id}-error` });
  const panel = el("form", { class: "inline-answer" },
    el("label", { for: input.id }, t.cl_answer_label, el("span", { class: "sr-only" }, ` (${item.label})`)),
    el("div", { class: "inline-row" }, input, el("button", { type: "submit" }, t.cl_save)),
    el("p", { class: "error", id: `${id}-error`, "data-error-for": "value" }),
    el("p", { class: "error", role: "alert", "data-error-for": "_form" }));
  panel.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = panel.querySelector("button");
    submit.disabled = true;
    const path = `${base}/checklist/${encodeURIComponent(item.key)}`;
    const { ok, answer } = await call("POST", path, { value: input.value.trim() });
    submit.disabled = false;
    refreshRoom(answer);
    showErrors(panel, ok ? null : answer);
    if (!ok) return;
    els.checklistStatus.textContent = fmt(t.cl_saved, { item: item.label });
    loadChecklist();
  });
  return panel;
}

function checkNode(item) {
  const own = isParty && item.role === me.role;
  const fileCount = item.evidence_ids.length;
  const addFile = el("button", { type: "button", class: "secondary small" }, t.cl_add_file,
    el("span", { class: "sr-only" }, ` (${item.label})`));
  addFile.addEventListener("click", () => {
    renderItemSelect();
    form.checklist_item.value = item.key;
    focusUpload();
  });
  return el("li", { class: `check-item${item.done ? " done" : ""}` },
    el("span", { class: "tick", "aria-hidden": "true" }, item.done ? "✓" : ""),
    el("div", { class: "check-body" },
      el("p", { class: "check-label" }, el("strong", {}, item.label),
        el("span", { class: "sr-only" }, ` (${item.done ? t.cl_done : t.cl_todo})`)),
      el("p", { class: "muted check-hint" }, item.hint),
      item.answer ? el("p", { class: "check-answer" }, fmt(t.cl_answer, { answer: item.answer })) : "",
      fileCount ? el("p", { class: "muted" }, fmt(t.cl_files, { count: fileCount })) : "",
      item.request_ids.length && !item.answer && !fileCount ? el("p", { class: "muted" }, t.cl_by_request) : "",
      own && item.can_answer && !item.done && undecided() ? checkAnswerForm(item) : "",
      own && item.answer_by === "file" && uploadChannels().length ? addFile : ""));
}

export function renderChecklist() {
  if (!shared.checklist) return;
  const roles = ["buyer", "seller"].filter((role) => shared.checklist.checklists[role]);
  if (els.checklist.dataset.roles !== roles.join()) { // built once: one list per party shown
    els.checklist.dataset.roles = roles.join();
    els.checklist.replaceChildren(...roles.flatMap((role) => [
      isParty ? "" : el("h3", {}, t[`cl_of_${role}`]),
      el("ul", { class: "checklist", "data-role": role, "aria-label": isParty ? t.cl_yours : t[`cl_of_${role}`] })]));
  }
  for (const role of roles) {
    const items = shared.checklist.checklists[role];
    const list = els.checklist.querySelector(`ul[data-role="${role}"]`);
    reconcile(list, items.length ? items : [{ key: "none" }], (item) => item.key,
      (item) => JSON.stringify([item.done, item.answer, item.evidence_ids, item.request_ids, item.label,
                                item.can_answer && undecided(), uploadChannels().length > 0]),
      (item) => (item.key === "none" ? el("li", { class: "muted" }, t.cl_none) : checkNode(item)));
  }
}
