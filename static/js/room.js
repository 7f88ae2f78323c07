// The case room: live chat over Socket.IO (namespace /cases), proposals and actions over the JSON API.
// Messages are shown as "sending" until the server acknowledges them after its commit; a message
// that was not acknowledged keeps its client_id, so retrying it can never store it twice.

const boot = JSON.parse(document.getElementById("bootstrap").textContent);
const labels = JSON.parse(document.getElementById("labels").textContent);
const t = labels.strings;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const caseId = boot.case.id;
const me = boot.me;

const $ = (id) => document.getElementById(id);
const els = {
  messages: $("messages"), older: $("older"), composer: $("composer"), body: $("body"),
  typing: $("typing"), presence: $("presence"), connection: $("connection"), proposals: $("proposals"),
  propose: $("propose"), proposeTitle: $("propose-title"), proposeError: $("propose-error"),
  proposeReset: $("propose-reset"), withdrawBox: $("withdraw-box"), withdraw: $("withdraw"),
  state: $("state"), deadline: $("deadline"), outcome: $("outcome"),
};

let state = { case: boot.case, proposals: boot.proposals, actions: boot.allowed_actions };
const shown = new Map(); // message id -> element
let lastId = 0;
let oldestId = null;

const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
const timeFormat = new Intl.DateTimeFormat(labels.locale, {
  dateStyle: "medium", timeStyle: "short", timeZoneName: "short",
});
const shortTime = new Intl.DateTimeFormat(labels.locale, { hour: "2-digit", minute: "2-digit" });
const money = (m) => new Intl.NumberFormat(labels.locale, { style: "currency", currency: m.currency })
  .format(Number(m.value));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// ---- messages -------------------------------------------------------------------------------

function messageNode(message, pending = false) {
  const mine = message.author_role === me.role;
  const who = mine ? t.you : `${message.author_name || ""} (${labels.roles[message.author_role] || message.author_role})`;
  const stamp = message.created_at ? shortTime.format(new Date(message.created_at)) : t.sending;
  return el("li", { class: `message ${mine ? "mine" : "theirs"}${pending ? " pending" : ""}`,
                    "data-id": message.id ?? "", "data-client-id": message.client_id },
    el("span", { class: "who" }, who),
    el("p", { class: "text" }, message.body),
    el("time", { class: "when", datetime: message.created_at || "" }, stamp));
}

function addMessage(message, { prepend = false } = {}) {
  if (shown.has(message.id)) return;
  const pending = els.messages.querySelector(`li.pending[data-client-id="${CSS.escape(message.client_id)}"]`);
  const node = messageNode(message);
  if (pending && message.author_role === me.role) pending.replaceWith(node);
  else if (prepend) els.messages.prepend(node);
  else els.messages.append(node);
  shown.set(message.id, node);
  lastId = Math.max(lastId, message.id);
  oldestId = oldestId === null ? message.id : Math.min(oldestId, message.id);
  if (!prepend) node.scrollIntoView({ block: "end" });
}

function renderInitial(messages, hasOlder) {
  messages.forEach((m) => addMessage(m));
  els.older.hidden = !hasOlder;
}

async function loadOlder() {
  const response = await api("GET", `messages?channel=joint&before=${oldestId}`);
  if (!response.ok) return;
  const page = await response.json();
  [...page.items].reverse().forEach((m) => addMessage(m, { prepend: true }));
  els.older.hidden = !page.has_older;
}

// ---- socket ---------------------------------------------------------------------------------

const socket = io("/cases", { transports: ["websocket"] });

socket.on("connect", () => {
  els.connection.textContent = t.connected;
  socket.emit("join", { case_id: caseId, since: lastId || null }, (ack) => {
    if (!ack || !ack.ok) { els.connection.textContent = ack?.error?.message || t.error; return; }
    ack.messages.forEach((m) => addMessage(m));
    if (!lastId && ack.has_older) els.older.hidden = false;
    applyCase(ack.case, ack.allowed_actions);
    state.proposals = ack.proposals;
    renderProposals();
    showPresence(ack.online);
    resendPending();
  });
});
socket.on("disconnect", () => { els.connection.textContent = t.reconnecting; });
socket.on("connect_error", () => { els.connection.textContent = t.reconnecting; });
socket.on("message", (message) => { if (message.case_id === caseId) addMessage(message); });
socket.on("case_event", onCaseEvent);
socket.on("presence", (p) => { if (p.case_id === caseId) showPresence(p.roles); });
let typingTimer = null;
socket.on("typing", (p) => {
  if (p.case_id !== caseId) return;
  els.typing.textContent = fmt(t.typing, { name: p.name || labels.roles[p.role] });
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => { els.typing.textContent = ""; }, 3000);
});

function showPresence(roles) {
  const names = (roles || []).map((r) => labels.roles[r] || r);
  els.presence.textContent = names.length ? `${t.online} ${names.join(", ")}` : "";
}

function send(body, clientId) {
  socket.timeout(10000).emit("send", { case_id: caseId, channel: "joint", body, client_id: clientId },
    (err, ack) => {
      const node = els.messages.querySelector(`li.pending[data-client-id="${CSS.escape(clientId)}"]`);
      if (!err && ack && ack.ok) {
        if (node && !shown.has(ack.id)) {
          addMessage({ id: ack.id, created_at: ack.created_at, client_id: clientId, body,
                       author_role: me.role, author_name: me.name, case_id: caseId, channel: "joint" });
        } else if (node) node.remove();
        return;
      }
      if (node) {
        node.classList.add("failed");
        node.querySelector(".when").textContent = ack?.error?.message || t.not_sent;
      }
    });
}

function resendPending() {
  els.messages.querySelectorAll("li.pending").forEach((node) => {
    send(node.querySelector(".text").textContent, node.dataset.clientId);
  });
}

els.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = els.body.value.trim();
  if (!body) return;
  const clientId = crypto.randomUUID();
  const node = messageNode({ body, client_id: clientId, author_role: me.role }, true);
  node.addEventListener("click", () => {
    if (node.classList.contains("failed")) { node.classList.remove("failed"); send(body, clientId); }
  });
  els.messages.append(node);
  node.scrollIntoView({ block: "end" });
  els.body.value = "";
  send(body, clientId);
});

els.body.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); els.composer.requestSubmit(); }
});
let lastTyping = 0;
els.body.addEventListener("input", () => {
  if (Date.now() - lastTyping > 2000 && socket.connected) {
    lastTyping = Date.now();
    socket.emit("typing", { case_id: caseId, channel: "joint" });
  }
});
els.older.addEventListener("click", loadOlder);

// ---- case state and proposals ---------------------------------------------------------------

function applyCase(kase, actions) {
  state.case = kase;
  if (actions) state.actions = actions;
  els.state.textContent = labels.states[kase.state] || kase.state;
  els.state.className = `state state-${kase.state}`;
  renderDeadline();
  const can = (name) => state.actions.includes(name);
  els.composer.hidden = !can("send_message");
  els.propose.hidden = !can("propose");
  els.withdrawBox.hidden = !can("withdraw_case");
  if (kase.outcome) {
    els.outcome.hidden = false;
    els.outcome.textContent = fmt(t.outcome, {
      refund: money(kase.outcome.buyer_refund), release: money(kase.outcome.seller_release) });
  }
}

function renderDeadline() {
  const at = state.case.deadline_at;
  if (!at) { els.deadline.textContent = "—"; return; }
  const when = new Date(at);
  const hours = Math.round((when - Date.now()) / 36e5);
  const left = hours <= 0 ? t.passed
    : fmt(t.left, { time: hours >= 48 ? `${Math.round(hours / 24)} d` : `${hours} h` });
  els.deadline.replaceChildren(el("time", { datetime: at }, `${timeFormat.format(when)} (${left})`));
}

function proposalNode(p) {
  const mine = p.author_role === me.role;
  const addressedToMe = p.author_role !== me.role && ["buyer", "seller"].includes(me.role);
  const actions = el("div", { class: "actions" });
  if (p.state === "open" && state.case && ["open", "negotiation", "mediation"].includes(state.case.state)) {
    if (addressedToMe) {
      actions.append(
        el("button", { onclick: () => confirm(t.confirm_accept) && act(p.id, "accept") }, t.accept),
        el("button", { class: "secondary", onclick: () => act(p.id, "reject") }, t.reject),
        el("button", { class: "link", onclick: () => startCounter(p) }, t.counter));
    } else if (mine) {
      actions.append(el("button", { class: "secondary", onclick: () => act(p.id, "withdraw") }, t.withdraw));
    }
  }
  return el("li", { class: `proposal proposal-${p.state}`, "data-id": p.id },
    el("p", { class: "who" }, `#${p.id} · ${t.by} ${mine ? t.you : labels.roles[p.author_role]} · `,
      el("span", { class: "pstate" }, labels.proposal_states[p.state] || p.state)),
    el("p", {}, `${t.refund}: ${money(p.buyer_refund)} · ${t.release}: ${money(p.seller_release)}`),
    el("p", { class: "muted" }, p.return_required ? t.return_required : t.no_return),
    p.terms ? el("p", { class: "terms" }, p.terms) : "",
    p.state === "open" ? el("p", { class: "muted" }, `${t.valid_until} ${timeFormat.format(new Date(p.expires_at))}`) : "",
    actions);
}

function renderProposals() {
  els.proposals.replaceChildren(...(state.proposals.length
    ? state.proposals.map(proposalNode) : [el("li", { class: "muted" }, t.no_proposals)]));
}

async function refreshProposals() {
  const response = await api("GET", "proposals");
  if (response.ok) { state.proposals = await response.json(); renderProposals(); }
}

function onCaseEvent(event) {
  if (event.case_id !== caseId) return;
  applyCase(event.case, recomputeActions(event.case));
  if (event.type.startsWith("proposal.") || event.type === "case.settled" || event.type === "case.withdrawn") {
    refreshProposals();
  }
}

function recomputeActions(kase) {
  // The server's list is authoritative on join; between joins, a case that left the active states
  // loses its negotiating actions.
  const active = ["open", "negotiation", "mediation"].includes(kase.state);
  return state.actions.filter((a) => active || a === "send_message").filter((a) => kase.state !== "closed");
}

function startCounter(p) {
  els.propose.counter_to.value = p.id;
  els.proposeTitle.textContent = fmt(t.counter_title, { id: p.id });
  els.proposeReset.hidden = false;
  els.propose.buyer_refund.focus();
}

els.proposeReset.addEventListener("click", () => {
  els.propose.counter_to.value = "";
  els.proposeTitle.textContent = t.propose_title;
  els.proposeReset.hidden = true;
});

async function api(method, path, body) {
  return fetch(`/api/v1/cases/${caseId}/${path}`, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function act(proposalId, verb) {
  const response = await api("POST", `proposals/${proposalId}/${verb}`, {});
  const answer = await response.json();
  if (!response.ok) { alert(answer.message || t.error); if (answer.case) applyCase(answer.case); }
  await refreshProposals();
}

els.propose.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = els.propose;
  const currency = state.case.amount.currency;
  const payload = {
    buyer_refund: { value: form.buyer_refund.value.trim(), currency },
    seller_release: { value: form.seller_release.value.trim(), currency },
    return_required: form.return_required.checked,
    terms: form.terms.value,
  };
  if (form.counter_to.value) payload.counter_to = Number(form.counter_to.value);
  const response = await api("POST", "proposals", payload);
  const answer = await response.json();
  if (!response.ok) {
    const fieldErrors = Object.values(answer.errors || {}).flat();
    els.proposeError.textContent = fieldErrors[0] || answer.message || t.error;
    return;
  }
  els.proposeError.textContent = "";
  form.reset();
  els.proposeReset.click();
  applyCase(answer.case);
  await refreshProposals();
});

els.withdraw.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!confirm(t.confirm_withdraw)) return;
  const response = await api("POST", "withdraw", { reason: els.withdraw.reason.value });
  const answer = await response.json();
  if (!response.ok) { alert(answer.message || t.error); return; }
  applyCase(answer.case, recomputeActions(answer.case));
});

// ---- time zone ------------------------------------------------------------------------------

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (zone && !sessionStorage.getItem("tz-sent")) {
  fetch("/preferences/timezone", { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify({ timezone: zone }) })
    .then(() => sessionStorage.setItem("tz-sent", "1"));
}

renderInitial(boot.messages, boot.has_older);
applyCase(state.case, state.actions);
renderProposals();
setInterval(renderDeadline, 60000);
