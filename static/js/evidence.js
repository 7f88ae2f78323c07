// The evidence part of the case room: the files of each channel (shown with the channel's chat tab), the
// upload form (drop zone or picker, several files, a progress bar per file), the evidence checklist and the
// structured requests. Everything comes from the JSON API, on load and again whenever the room reports a
// change (a case_event, or a reconnect); the page never guesses what the server decided. Labels the API
// renders (checklist items, request titles, errors) come in the viewer's own language, as the page does.

import { room } from "./room.js";

const { t, labels, el, fmt, state, me } = room;
const page = JSON.parse(document.getElementById("bootstrap").textContent);
const boot = page.evidence; // upload_channels, may_request, max_bytes, request_days
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const base = `/api/v1/cases/${room.caseId}`;
const $ = (id) => document.getElementById(id);
const els = {
  channel: $("evidence-channel"), lists: $("evidence-lists"), loading: $("evidence-loading"),
  older: $("evidence-older"), upload: $("upload"), dropzone: $("dropzone"), input: $("upload-files"),
  queue: $("upload-queue"), channelField: $("upload-channel-field"), channelNote: $("upload-channel-note"),
  itemField: $("upload-item-field"), request: $("upload-request"), requestText: $("upload-request-text"),
  requestClear: $("upload-request-clear"), uploadStatus: $("upload-status"),
  checklist: $("checklist"), checklistStatus: $("checklist-status"),
  requests: $("requests"), requestsStatus: $("requests-status"), ask: $("ask"), askTextNeed: $("ask-text-need"),
  askPrivate: $("ask-private-field"),
};
const form = els.upload.elements;

const isParty = ["buyer", "seller"].includes(me.role);
const undecided = () => ["open", "negotiation", "mediation"].includes(state.case.state);
const roleName = (role) => labels.roles[role] || role;

// ---- helpers ------------------------------------------------------------------------------------

// Resolves (never rejects) to {ok, status, answer}, like room.api, for any path, in the viewer's language.
async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, answer: { message: t.error } };
  }
  let answer = {};
  try { answer = await response.json(); } catch { answer = { message: t.error }; }
  return { ok: response.ok, status: response.status, answer };
}

// After an answer that carries the case: show it and let the room ask for the rest.
const refreshRoom = (answer) => { if (answer && answer.case) room.refresh(answer); };

// Every message in an error value however nested.
const texts = (value) => {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(texts);
  return value && typeof value === "object" ? Object.values(value).flatMap(texts) : [];
};
const unique = (list) => [...new Set(list.filter(Boolean))];

// The API's field errors next to their fields (marked invalid), the rest in the form's alert; null clears.
function showErrors(target, answer, { general = true } = {}) {
  const alert = target.querySelector('[data-error-for="_form"]');
  target.querySelectorAll("[data-error-for]").forEach((slot) => { slot.textContent = ""; });
  target.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  if (!answer) return;
  const unplaced = [];
  let first = null;
  for (const [field, value] of Object.entries(answer.errors || {})) {
    const slot = target.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    const control = target.elements[field];
    if (!slot || slot === alert) { unplaced.push(...texts(value)); continue; }
    slot.textContent = texts(value).join(" ");
    if (control instanceof Element) { control.setAttribute("aria-invalid", "true"); first ??= control; }
  }
  if (general && alert) alert.textContent = unique([answer.message || t.error, ...unplaced]).join(" ");
  first?.focus();
}

const sizeText = (bytes) => {
  const [value, unit] = bytes >= 1048576 ? [bytes / 1048576, "megabyte"]
    : bytes >= 1024 ? [bytes / 1024, "kilobyte"] : [bytes, "byte"];
  return new Intl.NumberFormat(labels.locale, { style: "unit", unit, unitDisplay: "short",
                                                maximumFractionDigits: 1 }).format(value);
};

// Keep `list`'s children in the order of `items`, reusing a child whose key and signature are unchanged (so
// a form someone is typing into stays as it is) and building the others.
function reconcile(list, items, key, signature, build) {
  const old = new Map([...list.children].map((node) => [node.dataset.key, node]));
  const nodes = items.map((item) => {
    const k = String(key(item));
    const sig = signature(item);
    const kept = old.get(k);
    if (kept && kept.dataset.sig === sig) return kept;
    const node = build(item);
    Object.assign(node.dataset, { key: k, sig });
    return node;
  });
  nodes.forEach((node, i) => { if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null); });
  while (list.children.length > nodes.length) list.lastElementChild.remove();
}

// One load at a time; a request for another while one runs makes exactly one more run after it, so the
// last answer shown is never older than the last change reported.
function coalesced(load) {
  let running = null;
  let again = false;
  return async function run() {
    if (running) { again = true; return running; }
    running = (async () => { do { again = false; await load(); } while (again); })();
    try { await running; } finally { running = null; }
  };
}

// ---- files ------------------------------------------------------------------------------------------
// One list per channel the viewer reads; the one of the tab shown is visible.

const files = new Map(); // channel -> { items: Map(id -> evidence), hasOlder, pagedBack, list, load }

function filesOf(channel) {
  if (!files.has(channel)) {
    const list = el("ul", { class: "evidence-list", id: `evidence-${channel.replace(":", "-")}`,
                            "aria-labelledby": "evidence-title", hidden: "" },
      el("li", { class: "muted empty", "data-key": "none", "data-sig": "false" }, t.ev_loading));
    els.lists.append(list);
    const view = { items: new Map(), hasOlder: false, pagedBack: false, loaded: false, list };
    view.load = coalesced(() => loadFiles(channel));
    files.set(channel, view);
  }
  return files.get(channel);
}

async function loadFiles(channel) {
  const view = filesOf(channel);
  const { ok, answer } = await call("GET", `${base}/evidence?channel=${encodeURIComponent(channel)}`);
  if (!ok) return;
  answer.items.forEach((item) => view.items.set(item.id, item));
  if (!view.pagedBack) view.hasOlder = answer.has_older;
  view.loaded = true;
  renderFiles(channel);
  renderRequests(); // a request answered with a file names it once this page has the file
}

async function loadOlderFiles() {
  const view = filesOf(room.active());
  if (!view.items.size) return;
  const before = Math.min(...view.items.keys());
  const channel = encodeURIComponent(room.active());
  const { ok, answer } = await call("GET", `${base}/evidence?channel=${channel}&before=${before}`);
  if (!ok) return;
  answer.items.forEach((item) => view.items.set(item.id, item));
  Object.assign(view, { hasOlder: answer.has_older, pagedBack: true });
  renderFiles(room.active());
}

const isMine = (item) => item.uploader_role === me.role && (isParty || item.uploader_name === me.name);
const canWithdraw = (item) => !item.withdrawn && state.case.state !== "closed"
  && (room.isCaseMediator() || (isParty && item.uploader_role === me.role));

const FILE_KINDS = { "application/pdf": ["PDF", "kind_pdf"], "video/mp4": ["MP4", "kind_video"],
                     "text/plain": ["TXT", "kind_text"] };

function fileVisual(item) {
  if (item.has_preview && item.thumbnail_url) {
    return el("a", { class: "thumb", href: item.preview_url, target: "_blank", rel: "noopener" },
      el("img", { src: item.thumbnail_url, loading: "lazy", alt: fmt(t.ev_open_preview, {
        name: item.caption || item.filename }) }));
  }
  const [code, key] = FILE_KINDS[item.media_type] || ["FILE", "kind_file"];
  return el("span", { class: `file-kind file-${code.toLowerCase()}`, role: "img", "aria-label": t[`ev_${key}`] }, code);
}

function fileMeta(item) {
  const who = isMine(item) ? t.you : `${item.uploader_name} (${roleName(item.uploader_role)})`;
  return el("p", { class: "evidence-meta muted" }, `${who} · `,
    el("time", { datetime: item.created_at }, room.timeFormat.format(new Date(item.created_at))),
    ` · ${sizeText(item.size)}`);
}

// What the file is linked to: a checklist item the viewer knows, a request.
function fileLinks(item) {
  const label = item.checklist_item && checklistLabels().get(item.checklist_item);
  const asked = item.request_id && requests.find((r) => r.id === item.request_id);
  return [label ? el("p", { class: "evidence-link" }, fmt(t.ev_shows, { item: label })) : "",
          asked ? el("p", { class: "evidence-link" }, fmt(t.ev_answers, { request: asked.title })) : ""];
}

function fileNode(item) {
  if (item.withdrawn) {
    return el("li", { class: "evidence-item withdrawn", id: `evidence-item-${item.id}` },
      el("span", { class: "file-kind", "aria-hidden": "true" }, "—"),
      el("div", { class: "evidence-body" },
        el("p", { class: "evidence-name" }, item.filename),
        el("p", { class: "withdrawn-note" }, fmt(t.ev_withdrawn, { reason: item.withdrawal?.reason || "" })),
        fileMeta(item)));
  }
  const actions = el("div", { class: "actions" },
    el("a", { href: item.url, download: item.filename }, t.ev_download,
      el("span", { class: "sr-only" }, ` ${item.filename}`)));
  const body = el("div", { class: "evidence-body" },
    item.caption ? el("p", { class: "evidence-caption" }, item.caption) : "",
    el("p", { class: "evidence-name" }, item.filename), fileMeta(item), ...fileLinks(item), actions);
  if (canWithdraw(item)) withdrawControl(item, actions, body);
  return el("li", { class: "evidence-item", id: `evidence-item-${item.id}` }, fileVisual(item), body);
}

// "Withdraw" opens a small form asking why (required); the file then shows as withdrawn, for everyone.
function withdrawControl(item, actions, body) {
  const id = `withdraw-file-${item.id}`;
  const reason = el("input", { name: "reason", id: `${id}-reason`, required: "", maxlength: "2000",
                               autocomplete: "off", "aria-describedby": `${id}-error` });
  const error = el("p", { class: "error", id: `${id}-error`, "data-error-for": "reason" });
  const alert = el("p", { class: "error", role: "alert", "data-error-for": "_form" });
  const open = el("button", { type: "button", class: "link", "aria-expanded": "false", "aria-controls": id },
    t.ev_withdraw, el("span", { class: "sr-only" }, ` ${item.filename}`));
  const cancel = el("button", { type: "button", class: "link" }, t.cancel);
  const panel = el("form", { id, class: "withdraw-file", hidden: "" },
    el("label", { for: reason.id }, t.ev_withdraw_reason), reason, error, alert,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "danger" }, t.ev_withdraw_confirm), cancel));
  const toggle = (show) => {
    panel.hidden = !show;
    open.setAttribute("aria-expanded", String(show));
    (show ? reason : open).focus();
  };
  open.addEventListener("click", () => toggle(panel.hidden));
  cancel.addEventListener("click", () => toggle(false));
  panel.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = panel.querySelector('button[type="submit"]');
    submit.disabled = true;
    const { ok, answer } = await call("POST", `${base}/evidence/${item.id}/withdraw`, { reason: reason.value.trim() });
    submit.disabled = false;
    refreshRoom(answer);
    showErrors(panel, ok ? null : answer);
    if (!ok) return;
    filesOf(answer.evidence.channel).items.set(answer.evidence.id, answer.evidence);
    renderFiles(answer.evidence.channel);
    loadChecklist();
  });
  actions.append(open);
  body.append(panel);
}

function fileSignature(item) {
  return JSON.stringify([item.withdrawn, canWithdraw(item), checklistLabels().get(item.checklist_item) || null,
                         requests.find((r) => r.id === item.request_id)?.title || null]);
}

function renderFiles(channel) {
  const view = filesOf(channel);
  const items = [...view.items.values()].sort((a, b) => b.id - a.id);
  reconcile(view.list, items.length ? items : [{ id: "none" }], (item) => item.id,
    (item) => (item.id === "none" ? String(view.loaded) : fileSignature(item)),
    (item) => (item.id === "none" ? el("li", { class: "muted empty" }, view.loaded ? t.ev_none : t.ev_loading)
      : fileNode(item)));
  if (channel === room.active()) showChannel();
}

function showChannel() {
  const active = room.active();
  for (const [channel, view] of files) view.list.hidden = channel !== active;
  filesOf(active); // a channel that appeared later (a caucus) gets its list
  els.loading?.remove();
  const view = files.get(active);
  view.list.hidden = false;
  els.older.hidden = !view.hasOlder;
  els.channel.textContent = room.visibleChannels().length > 1 ? fmt(t.ev_in_channel, { channel: room.tabLabel(active) })
    : "";
}

els.older.addEventListener("click", loadOlderFiles);

// ---- upload -----------------------------------------------------------------------------------------

const queue = []; // { file, node, progress, status, error, state: ready | uploading | done | failed }
const tooLarge = () => fmt(t.ev_too_large, { size: sizeText(boot.max_bytes) });
let uploading = false;

// The channels the viewer may add files to now: allowed to them, open in this state, with a tab shown.
function uploadChannels() {
  if (!isParty && !room.isCaseMediator()) return [];
  const shown = room.visibleChannels();
  return boot.upload_channels.filter((channel) => room.channelOpen(channel) && shown.includes(channel));
}

// The channel select follows the tab shown (`follow`), and otherwise keeps what was chosen while it is allowed.
function renderUploadForm({ follow = false } = {}) {
  const channels = uploadChannels();
  els.upload.hidden = !channels.length;
  const select = form.channel;
  const current = follow || !select.value ? room.active() : select.value;
  setOptions(select, channels.map((channel) => [channel, room.tabLabel(channel)]));
  select.value = channels.includes(current) ? current : channels[0] || "";
  els.channelField.hidden = channels.length < 2;
  els.channelNote.hidden = channels.length > 1;
  renderItemSelect();
}

// "This shows…": the items of the viewer's own checklist that a file answers.
function renderItemSelect() {
  const select = form.checklist_item;
  const items = isParty ? (checklist?.checklists?.[me.role] || []).filter((item) => item.answer_by === "file") : [];
  const current = select.value;
  setOptions(select, [["", select.options[0].text], ...items.map((item) => [item.key, item.label])]);
  select.value = items.some((item) => item.key === current) ? current : "";
  els.itemField.hidden = !items.length;
}

// A select's options as [value, label] pairs; left alone when they are already those (an open select stays open).
function setOptions(select, pairs) {
  const same = select.options.length === pairs.length
    && pairs.every(([value, label], i) => select.options[i].value === value && select.options[i].text === label);
  if (!same) select.replaceChildren(...pairs.map(([value, label]) => el("option", { value }, label)));
}

let queued = 0;
function queueItem(file) {
  const n = ++queued;
  const progress = el("progress", { max: String(Math.max(file.size, 1)), value: "0", hidden: "",
                                    "aria-label": fmt(t.ev_progress, { name: file.name }) });
  const status = el("span", { class: "upload-state" }, t.ev_ready);
  const error = el("p", { class: "error", id: `upload-error-${n}` });
  const remove = el("button", { type: "button", class: "link" }, t.ev_remove,
    el("span", { class: "sr-only" }, ` ${file.name}`));
  const node = el("li", { class: "upload-item", "data-state": "ready" },
    el("span", { class: "upload-name" }, file.name), el("span", { class: "muted" }, sizeText(file.size)),
    status, progress, error, remove);
  const item = { file, node, progress, status, error, remove, state: "ready" };
  remove.addEventListener("click", () => {
    queue.splice(queue.indexOf(item), 1);
    node.remove();
    els.queue.hidden = !queue.length;
    els.input.focus();
  });
  return item;
}

function addFiles(list) {
  if (!list || !list.length) return;
  for (const done of queue.filter((item) => item.state === "done")) { done.node.remove(); queue.splice(queue.indexOf(done), 1); }
  for (const file of list) {
    const item = queueItem(file);
    queue.push(item);
    els.queue.append(item.node);
    if (file.size > boot.max_bytes) fail(item, tooLarge()); // known before a byte is sent
  }
  els.queue.hidden = false;
  showErrors(els.upload, null);
}

function setState(item, name, text) {
  item.state = name;
  item.node.dataset.state = name;
  item.status.textContent = text;
  item.remove.hidden = name === "uploading";
}

function fail(item, message) {
  setState(item, "failed", t.ev_not_added);
  item.progress.hidden = true;
  item.error.textContent = message;
  els.uploadStatus.textContent = `${item.file.name}: ${message}`;
}

// What went wrong with one file, in the viewer's language (the API answers in it).
function uploadError(status, answer) {
  const detail = texts(answer.errors?.file);
  if (status === 413 && !detail.length) return tooLarge(); // refused before the app read it
  if (status === 0) return t.ev_network;
  return unique([answer.message, ...detail]).join(" ") || t.error;
}

// POST one file with the form's fields; resolves to true once it is on the record.
function send(item, fields) {
  if (item.file.size > boot.max_bytes) { fail(item, tooLarge()); return Promise.resolve(false); }
  setState(item, "uploading", t.ev_uploading);
  item.error.textContent = "";
  item.progress.hidden = false;
  item.progress.value = 0;
  const body = new FormData();
  body.append("file", item.file, item.file.name);
  for (const [name, value] of Object.entries(fields)) if (value) body.append(name, value);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${base}/evidence`);
    for (const [name, value] of Object.entries({ Accept: "application/json", "X-CSRFToken": csrf })) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      item.progress.max = event.total;
      item.progress.value = event.loaded;
    });
    xhr.addEventListener("load", () => {
      let answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch { answer = {}; }
      resolve(finish(item, xhr.status, answer));
    });
    for (const type of ["error", "abort", "timeout"]) {
      xhr.addEventListener(type, () => { fail(item, t.ev_network); resolve(false); });
    }
    xhr.send(body);
  });
}

function finish(item, status, answer) {
  refreshRoom(answer);
  if (status !== 201 || !answer.evidence) {
    fail(item, uploadError(status, answer));
    const others = { ...(answer.errors || {}) };
    delete others.file;
    if (Object.keys(others).length) showErrors(els.upload, { errors: others }, { general: false });
    return false;
  }
  item.progress.value = item.progress.max;
  setState(item, "done", t.ev_added);
  els.uploadStatus.textContent = fmt(t.ev_added_name, { name: item.file.name });
  const added = answer.evidence;
  filesOf(added.channel).items.set(added.id, added);
  renderFiles(added.channel);
  return true;
}

els.upload.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (uploading) return;
  const pending = queue.filter((item) => item.state === "ready" || item.state === "failed");
  showErrors(els.upload, null);
  if (!pending.length) {
    els.upload.querySelector('[data-error-for="_form"]').textContent = t.ev_choose;
    els.input.focus();
    return;
  }
  const fields = { caption: form.caption.value.trim(), channel: form.channel.value,
                   checklist_item: form.checklist_item.value, request_id: form.request_id.value };
  const submit = els.upload.querySelector('button[type="submit"]');
  uploading = submit.disabled = true;
  let failed = 0;
  for (const item of pending) if (!(await send(item, fields))) failed += 1;
  uploading = submit.disabled = false;
  if (fields.checklist_item || fields.request_id) { loadChecklist(); loadRequests(); }
  if (failed) return; // everything stays as it was: the files to try again, the caption, the choices
  form.caption.value = "";
  form.checklist_item.value = "";
  linkRequest(null);
  els.input.value = "";
});

els.input.addEventListener("change", () => { addFiles(els.input.files); els.input.value = ""; });
const dragsFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
for (const type of ["dragenter", "dragover"]) {
  els.dropzone.addEventListener(type, (event) => {
    if (!dragsFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    els.dropzone.classList.add("dragging");
  });
}
els.dropzone.addEventListener("dragleave", (event) => {
  if (!els.dropzone.contains(event.relatedTarget)) els.dropzone.classList.remove("dragging");
});
els.dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  els.dropzone.classList.remove("dragging");
  addFiles(event.dataTransfer.files);
});
// A file dropped beside the zone would make the browser leave the page (and lose what was typed).
for (const type of ["dragover", "drop"]) {
  window.addEventListener(type, (event) => { if (dragsFiles(event)) event.preventDefault(); });
}
window.addEventListener("beforeunload", (event) => {
  if (!uploading) return;
  event.preventDefault(); // "leave the page?" while a file is on its way
  event.returnValue = "";
});

// Bring the upload form forward, ready to pick files (from the checklist or a request's "answer with a file").
function focusUpload() {
  els.upload.scrollIntoView({ block: "nearest", behavior: "smooth" });
  els.input.focus();
}

// The files answer this request (null: none): they go into its channel, or the joint one.
function linkRequest(request) {
  form.request_id.value = request ? request.id : "";
  els.request.hidden = !request;
  els.requestText.textContent = request ? fmt(t.ev_answers, { request: request.title }) : "";
  if (request && [...form.channel.options].some((option) => option.value === request.channel)) {
    form.channel.value = request.channel;
  }
}
els.requestClear.addEventListener("click", () => { linkRequest(null); els.input.focus(); });

// ---- checklist --------------------------------------------------------------------------------------

let checklist = null; // {reason, checklists: {buyer?: [...], seller?: [...]}}
const checklistLabels = () => new Map(Object.values(checklist?.checklists || {}).flat()
  .map((item) => [item.key, item.label]));

const loadChecklist = coalesced(async () => {
  const { ok, answer } = await call("GET", `${base}/checklist`);
  if (!ok) return;
  checklist = answer;
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

function renderChecklist() {
  if (!checklist) return;
  const roles = ["buyer", "seller"].filter((role) => checklist.checklists[role]);
  if (els.checklist.dataset.roles !== roles.join()) { // built once: one list per party shown
    els.checklist.dataset.roles = roles.join();
    els.checklist.replaceChildren(...roles.flatMap((role) => [
      isParty ? "" : el("h3", {}, t[`cl_of_${role}`]),
      el("ul", { class: "checklist", "data-role": role, "aria-label": isParty ? t.cl_yours : t[`cl_of_${role}`] })]));
  }
  for (const role of roles) {
    const items = checklist.checklists[role];
    const list = els.checklist.querySelector(`ul[data-role="${role}"]`);
    reconcile(list, items.length ? items : [{ key: "none" }], (item) => item.key,
      (item) => JSON.stringify([item.done, item.answer, item.evidence_ids, item.request_ids, item.label,
                                item.can_answer && undecided(), uploadChannels().length > 0]),
      (item) => (item.key === "none" ? el("li", { class: "muted" }, t.cl_none) : checkNode(item)));
  }
}

// ---- requests -----------------------------------------------------------------------------------------

let requests = [];
let requestsLoaded = false;
let kinds = [];

const loadRequests = coalesced(async () => {
  const { ok, answer } = await call("GET", `${base}/requests`);
  if (!ok) return;
  requests = answer;
  requestsLoaded = true;
  renderRequests();
  files.forEach((_view, channel) => renderFiles(channel)); // "answers: …" labels
});

const overdue = (r) => r.state === "open" && new Date(r.due_at) <= Date.now();
const askedOfMe = (r) => isParty && r.addressee_role === me.role;
const askedByMe = (r) => r.requester_role === me.role && (isParty || room.isCaseMediator());

// "Asked of you by the buyer", "You asked the seller", "The mediator asked the buyer".
function whoAsked(r) {
  const from = askedByMe(r) ? "you" : r.requester_role;
  const to = askedOfMe(r) ? "you" : r.addressee_role;
  return t[`req_${from}_${to}`] || `${roleName(r.requester_role)} → ${roleName(r.addressee_role)}`;
}

// The file that answered a request, if this page has it.
const answeringFile = (r) => (r.state === "answered" && !r.answer_text
  ? [...files.values()].flatMap((view) => [...view.items.values()]).find((item) => item.request_id === r.id) : null);

function requestStatus(r) {
  if (r.state === "answered") {
    const file = answeringFile(r);
    const text = r.answer_text ? fmt(t.req_answered_words, { answer: r.answer_text })
      : file ? fmt(t.req_answered_file_name, { name: file.filename }) : t.req_answered_file;
    return el("p", { class: "request-answer" }, text);
  }
  if (r.state === "cancelled") return el("p", { class: "muted" }, t.req_cancelled);
  const due = el("p", { class: "request-due" }, `${t.req_due} `, el("time", { class: "due", datetime: r.due_at }));
  if (overdue(r)) due.prepend(el("strong", { class: "overdue-tag" }, t.req_overdue), " ");
  const waiting = askedOfMe(r) ? t.req_waiting_you : askedByMe(r) ? t.req_waiting : t.req_open;
  return [el("p", { class: "request-state" }, waiting), due];
}

function requestAnswerForm(r) {
  const id = `request-${r.id}`;
  const text = el("textarea", { name: "text", id: `${id}-text`, rows: "2", maxlength: "2000", required: "",
                                "aria-describedby": `${id}-error` });
  const withFile = el("button", { type: "button", class: "secondary" }, t.req_answer_file);
  withFile.addEventListener("click", () => { linkRequest(r); focusUpload(); });
  const panel = el("form", { class: "request-answer-form" },
    el("label", { for: text.id }, t.req_answer_label), text,
    el("p", { class: "error", id: `${id}-error`, "data-error-for": "text" }),
    el("p", { class: "error", role: "alert", "data-error-for": "_form" }),
    el("div", { class: "actions" }, el("button", { type: "submit" }, t.req_answer_send),
      uploadChannels().length ? withFile : ""));
  panel.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = panel.querySelector('button[type="submit"]');
    submit.disabled = true;
    const { ok, answer } = await call("POST", `${base}/requests/${r.id}/answer`, { text: text.value.trim() });
    submit.disabled = false;
    refreshRoom(answer);
    showErrors(panel, ok ? null : answer);
    if (!ok) return;
    els.requestsStatus.textContent = t.req_answer_sent;
    loadRequests();
    loadChecklist();
  });
  return panel;
}

function cancelButton(r) {
  const button = el("button", { type: "button", class: "secondary" }, t.req_cancel);
  button.addEventListener("click", async () => {
    button.disabled = true;
    const { ok, answer } = await call("POST", `${base}/requests/${r.id}/cancel`, {});
    button.disabled = false;
    refreshRoom(answer);
    els.requestsStatus.textContent = ok ? t.req_cancel_done : answer.message || t.error;
    loadRequests();
  });
  return button;
}

function requestNode(r) {
  const open = r.state === "open" && undecided();
  return el("li", { class: `request request-${r.state}${overdue(r) ? " overdue" : ""}`, id: `request-${r.id}` },
    el("p", { class: "who" }, whoAsked(r),
      r.channel !== "joint" ? el("span", { class: "private-tag" }, ` · ${t.req_private}`) : ""),
    el("p", { class: "request-title" }, el("strong", {}, r.title)),
    r.kind !== "free_text" && r.text ? el("p", { class: "request-note" }, r.text) : "",
    ...[requestStatus(r)].flat(),
    open && askedOfMe(r) ? requestAnswerForm(r) : "",
    open && askedByMe(r) ? el("div", { class: "actions" }, cancelButton(r)) : "");
}

function renderRequests() {
  if (!requestsLoaded) return;
  const order = (r) => (r.state === "open" ? 0 : 1);
  const sorted = [...requests].sort((a, b) => order(a) - order(b)
    || (order(a) === 0 ? new Date(a.due_at) - new Date(b.due_at) : b.id - a.id));
  reconcile(els.requests, sorted.length ? sorted : [{ id: "none" }], (r) => r.id,
    (r) => (r.id === "none" ? "" : JSON.stringify([r.state, overdue(r), r.answer_text, undecided(), r.title,
                                                   uploadChannels().length > 0, answeringFile(r)?.id])),
    (r) => (r.id === "none" ? el("li", { class: "muted" }, t.req_none) : requestNode(r)));
  els.requests.querySelectorAll("time.due").forEach((node) => {
    node.textContent = room.deadlineText(node.getAttribute("datetime"));
  });
}

// The form to ask: the kinds with the page's words, the details required for "something else" only.
async function loadKinds() {
  const { ok, answer } = await call("GET", "/api/v1/request-kinds");
  if (!ok) return;
  kinds = answer;
  const select = els.ask.elements.kind;
  setOptions(select, [["", select.options[0].text], ...kinds.map((kind) => [kind.key, kind.label])]);
}

function renderAskForm() {
  els.ask.hidden = !boot.may_request || !undecided();
  if (els.askPrivate) els.askPrivate.hidden = state.case.state !== "mediation";
}

function textRequired() {
  const needed = kinds.find((kind) => kind.key === els.ask.elements.kind.value)?.text_required || false;
  els.ask.elements.text.required = needed;
  els.askTextNeed.textContent = needed ? t.req_text_required : t.req_text_optional;
}
els.ask.elements.kind.addEventListener("change", textRequired);

els.ask.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = els.ask.elements;
  const addressee = fields.addressee.value;
  const inPrivate = fields.private && !els.askPrivate.hidden && fields.private.checked;
  const payload = { kind: fields.kind.value, addressee, text: fields.text.value.trim(),
                    due_in_days: Number(fields.due_in_days.value), channel: inPrivate ? `caucus:${addressee}` : "joint" };
  const submit = els.ask.querySelector('button[type="submit"]');
  submit.disabled = true;
  const { ok, answer } = await call("POST", `${base}/requests`, payload);
  submit.disabled = false;
  refreshRoom(answer);
  showErrors(els.ask, ok ? null : answer);
  if (!ok) return;
  els.ask.reset();
  askDefaults(room.active());
  textRequired();
  els.requestsStatus.textContent = t.req_sent;
  loadRequests();
});

// The mediator in a party's private tab asks that party, in private, by default; in the joint tab, openly.
function askDefaults(channel) {
  if (isParty || !els.ask.elements.private) return;
  const party = /^caucus:(buyer|seller)$/.exec(channel)?.[1];
  if (party) els.ask.elements.addressee.value = party;
  els.ask.elements.private.checked = Boolean(party);
}
room.on("channel", askDefaults);

// ---- live -------------------------------------------------------------------------------------------

const CHECKLIST_EVENTS = ["evidence.added", "evidence.withdrawn", "checklist.answered", "request.answered"];

room.on("event", (event) => {
  const channel = event.payload?.channel || "joint";
  if (event.type.startsWith("evidence.")) filesOf(channel).load();
  if (CHECKLIST_EVENTS.includes(event.type)) loadChecklist();
  if (event.type.startsWith("request.")) loadRequests();
});

function loadAll() {
  (page.channels.length ? page.channels : ["joint"]).forEach((channel) => filesOf(channel).load());
  loadChecklist();
  loadRequests();
}

room.on("entered", loadAll); // after a reconnect, what was missed meanwhile
room.on("channel", () => { renderUploadForm({ follow: true }); showChannel(); });
room.subscribe(() => {
  renderUploadForm();
  renderAskForm();
  renderChecklist();
  renderRequests();
  files.forEach((_view, channel) => renderFiles(channel));
});
loadKinds().then(textRequired);
loadAll();
