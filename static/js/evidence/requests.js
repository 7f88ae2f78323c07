// The structured evidence requests of the case room: the list (open ones first, by due date, with who asked
// whom, the answer or the time left), the forms to answer in words or with a file and to cancel, and the
// form to ask (a kind from the API, a due date, in private in a caucus tab for the mediator).

import { room } from "../room.js";
import { t, el, fmt, state, me, boot, base, els, isParty, undecided, roleName, call, refreshRoom, showErrors,
         reconcile, coalesced, setOptions, shared } from "./common.js";
import { files, renderFiles } from "./files.js";
import { uploadChannels, focusUpload, linkRequest } from "./uploads.js";
import { loadChecklist } from "./checklist.js";

let requestsLoaded = false;
let kinds = [];

export const loadRequests = coalesced(async () => {
  const { ok, answer } = await call("GET", `${base}/requests`);
  if (!ok) return;
  shared.requests = answer;
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

export function renderRequests() {
  if (!requestsLoaded) return;
  const order = (r) => (r.state === "open" ? 0 : 1);
  const sorted = [...shared.requests].sort((a, b) => order(a) - order(b)
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
export async function loadKinds() {
  const { ok, answer } = await call("GET", "/api/v1/request-kinds");
  if (!ok) return;
  kinds = answer;
  const select = els.ask.elements.kind;
  setOptions(select, [["", select.options[0].text], ...kinds.map((kind) => [kind.key, kind.label])]);
}

export function renderAskForm() {
  els.ask.hidden = !boot.may_request || !undecided();
  if (els.askPrivate) els.askPrivate.hidden = state.case.state !== "mediation";
}

export function textRequired() {
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
