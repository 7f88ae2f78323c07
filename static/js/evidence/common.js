// What the parts of the case room's evidence UI share: the room's words, state and helpers (the API call,
// field errors next to their fields, as the rest of the room shows them), the page's bootstrap (where the
// viewer may add files, whether they may ask, the size limit), the elements they render into and helpers of
// their own (sizes in the viewer's locale, keeping a list's children in step with the data, one load at a
// time). It also holds the checklist and the requests as last loaded, which the files and the upload form
// read too: one object whose fields checklist.js and requests.js replace, since a module can't assign
// another module's variable.

import { room } from "../room.js";

export const { t, labels, el, fmt, state, me, csrf, call, texts, unique, showErrors } = room;
export const page = JSON.parse(document.getElementById("bootstrap").textContent);
export const boot = page.evidence; // upload_channels, may_request, max_bytes, request_days
export const base = `/api/v1/cases/${room.caseId}`;
const $ = (id) => document.getElementById(id);
export const els = {
  channel: $("evidence-channel"), lists: $("evidence-lists"), loading: $("evidence-loading"),
  older: $("evidence-older"), upload: $("upload"), dropzone: $("dropzone"), input: $("upload-files"),
  queue: $("upload-queue"), channelField: $("upload-channel-field"), channelNote: $("upload-channel-note"),
  itemField: $("upload-item-field"), request: $("upload-request"), requestText: $("upload-request-text"),
  requestClear: $("upload-request-clear"), uploadStatus: $("upload-status"),
  checklist: $("checklist"), checklistStatus: $("checklist-status"),
  requests: $("requests"), requestsStatus: $("requests-status"), ask: $("ask"), askTextNeed: $("ask-text-need"),
  askPrivate: $("ask-private-field"),
};
export const form = els.upload.elements;

export const isParty = ["buyer", "seller"].includes(me.role);
export const undecided = () => ["open", "negotiation", "mediation"].includes(state.case.state);
export const roleName = (role) => labels.roles[role] || role;

// ---- helpers ------------------------------------------------------------------------------------

// After an answer that carries the case: show it and let the room ask for the rest.
export const refreshRoom = (answer) => { if (answer && answer.case) room.refresh(answer); };

export const sizeText = (bytes) => {
  const [value, unit] = bytes >= 1048576 ? [bytes / 1048576, "megabyte"]
    : bytes >= 1024 ? [bytes / 1024, "kilobyte"] : [bytes, "byte"];
  return new Intl.NumberFormat(labels.locale, { style: "unit", unit, unitDisplay: "short",
                                                maximumFractionDigits: 1 }).format(value);
};

// Keep `list`'s children in the order of `items`, reusing a child whose key and signature are unchanged (so
// a form someone is typing into stays as it is) and building the others.
export function reconcile(list, items, key, signature, build) {
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
export function coalesced(load) {
  let running = null;
  let again = false;
  return async function run() {
    if (running) { again = true; return running; }
    running = (async () => { do { again = false; await load(); } while (again); })();
    try { await running; } finally { running = null; }
  };
}

// A select's options as [value, label] pairs; left alone when they are already those (an open select stays open).
export function setOptions(select, pairs) {
  const same = select.options.length === pairs.length
    && pairs.every(([value, label], i) => select.options[i].value === value && select.options[i].text === label);
  if (!same) select.replaceChildren(...pairs.map(([value, label]) => el("option", { value }, label)));
}

// ---- shared data ------------------------------------------------------------------------------------
// The checklist (checklist.js loads it) and the requests (requests.js loads them), read by the other parts:
// a file names the checklist item it shows and the request it answers, the upload form offers the items.

export const shared = {
  checklist: null, // {reason, checklists: {buyer?: [...], seller?: [...]}}
  requests: [],
};
export const checklistLabels = () => new Map(Object.values(shared.checklist?.checklists || {}).flat()
  .map((item) => [item.key, item.label]));
