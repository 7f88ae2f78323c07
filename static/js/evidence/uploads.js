// The upload form of the case room's evidence: which channel the files go to (following the tab shown),
// the checklist item they show or the request they answer, and the queue of files picked or dropped, each
// sent on its own with a progress bar and its own error, the page asking before it is left mid-upload.
// The checklist and the requests open this form (focusUpload, linkRequest); what it asks of them once files
// are added (load the checklist and the requests again) evidence.js hands in with connectUploads, since
// they import this module.

import { room } from "../room.js";
import { t, el, fmt, me, boot, csrf, base, els, form, isParty, refreshRoom, texts, unique, showErrors, sizeText,
         setOptions, shared } from "./common.js";
import { filesOf, renderFiles } from "./files.js";

// Set by connectUploads: checklist.js's loadChecklist, requests.js's loadRequests.
let loadChecklist;
let loadRequests;
export function connectUploads(parts) { ({ loadChecklist, loadRequests } = parts); }

const queue = []; // { file, node, progress, status, error, state: ready | uploading | done | failed }
const tooLarge = () => fmt(t.ev_too_large, { size: sizeText(boot.max_bytes) });
let uploading = false;

// The channels the viewer may add files to now: allowed to them, open in this state, with a tab shown.
export function uploadChannels() {
  if (!isParty && !room.isCaseMediator()) return [];
  const shown = room.visibleChannels();
  return boot.upload_channels.filter((channel) => room.channelOpen(channel) && shown.includes(channel));
}

// The channel select follows the tab shown (`follow`), and otherwise keeps what was chosen while it is allowed.
export function renderUploadForm({ follow = false } = {}) {
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
export function renderItemSelect() {
  const select = form.checklist_item;
  const items = isParty ? (shared.checklist?.checklists?.[me.role] || []).filter((item) => item.answer_by === "file") : [];
  const current = select.value;
  setOptions(select, [["", select.options[0].text], ...items.map((item) => [item.key, item.label])]);
  select.value = items.some((item) => item.key === current) ? current : "";
  els.itemField.hidden = !items.length;
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
export function focusUpload() {
  els.upload.scrollIntoView({ block: "nearest", behavior: "smooth" });
  els.input.focus();
}

// The files answer this request (null: none): they go into its channel, or the joint one.
export function linkRequest(request) {
  form.request_id.value = request ? request.id : "";
  els.request.hidden = !request;
  els.requestText.textContent = request ? fmt(t.ev_answers, { request: request.title }) : "";
  if (request && [...form.channel.options].some((option) => option.value === request.channel)) {
    form.channel.value = request.channel;
  }
}
els.requestClear.addEventListener("click", () => { linkRequest(null); els.input.focus(); });
