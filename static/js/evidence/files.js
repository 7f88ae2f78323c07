// The evidence files of the case room: one list per channel the viewer reads, shown with that channel's
// chat tab, loaded from the API (and older pages on demand), each file with its preview or kind, who added
// it, what it shows or answers, and the form to withdraw it. The files are read by the checklist and the
// requests too (`files`); what the files ask of those parts in turn (show the requests again once a file
// is here, load the checklist after a withdrawal) evidence.js hands in with connectFiles, since they import
// this module.

import { room } from "../room.js";
import { t, el, fmt, state, me, base, els, isParty, roleName, call, refreshRoom, showErrors, sizeText, reconcile,
         coalesced, shared, checklistLabels } from "./common.js";

// Set by connectFiles: requests.js's renderRequests, checklist.js's loadChecklist.
let renderRequests;
let loadChecklist;
export function connectFiles(parts) { ({ renderRequests, loadChecklist } = parts); }

// One list per channel the viewer reads; the one of the tab shown is visible.

export const files = new Map(); // channel -> { items: Map(id -> evidence), hasOlder, pagedBack, list, load }

export function filesOf(channel) {
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
  const asked = item.request_id && shared.requests.find((r) => r.id === item.request_id);
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
                         shared.requests.find((r) => r.id === item.request_id)?.title || null]);
}

export function renderFiles(channel) {
  const view = filesOf(channel);
  const items = [...view.items.values()].sort((a, b) => b.id - a.id);
  reconcile(view.list, items.length ? items : [{ id: "none" }], (item) => item.id,
    (item) => (item.id === "none" ? String(view.loaded) : fileSignature(item)),
    (item) => (item.id === "none" ? el("li", { class: "muted empty" }, view.loaded ? t.ev_none : t.ev_loading)
      : fileNode(item)));
  if (channel === room.active()) showChannel();
}

export function showChannel() {
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
