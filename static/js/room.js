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
  state: $("state"), deadline: $("deadline"), outcome: $("outcome"), activity: $("activity"),
  proposeHint: $("propose-hint"),
};

let state = { case: boot.case, proposals: boot.proposals, actions: boot.allowed_actions };
const shown = new Map(); // message id -> element
let lastId = 0;
let oldestId = null;

const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
// dateStyle/timeStyle cannot be combined with timeZoneName (a RangeError), so spell the fields out.
const timeFormat = new Intl.DateTimeFormat(labels.locale, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
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

// Only the joint conversation has a view in this page; private (caucus) channels are not shown here.
const isJoint = (message) => (message.channel ?? "joint") === "joint";

function nearBottom() {
  const list = els.messages;
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

// Scroll the conversation itself, never the page: someone filling in a proposal keeps their place.
function scrollToEnd() { els.messages.scrollTop = els.messages.scrollHeight; }

function addMessage(message, { prepend = false } = {}) {
  if (shown.has(message.id)) return;
  if (message.id > lastId) lastId = message.id; // catch-up after a reconnect starts after it
  if (!isJoint(message)) return;
  const follow = !prepend && (message.author_role === me.role || nearBottom());
  const pending = message.client_id
    && els.messages.querySelector(`li.pending[data-client-id="${CSS.escape(message.client_id)}"]`);
  const node = messageNode(message);
  if (pending && message.author_role === me.role) pending.replaceWith(node);
  else if (prepend) els.messages.prepend(node);
  else els.messages.append(node);
  shown.set(message.id, node);
  oldestId = oldestId === null ? message.id : Math.min(oldestId, message.id);
  if (follow) scrollToEnd();
}

function renderInitial(messages, hasOlder) {
  messages.forEach((m) => addMessage(m));
  els.older.hidden = !hasOlder;
}

async function loadOlder() {
  const { ok, answer } = await api("GET", `messages?channel=joint&before=${oldestId}`);
  if (!ok) return;
  [...answer.items].reverse().forEach((m) => addMessage(m, { prepend: true }));
  els.older.hidden = !answer.has_older;
}

// ---- socket ---------------------------------------------------------------------------------

const socket = io("/cases", { transports: ["websocket"] });

socket.on("connect", () => {
  socket.emit("join", { case_id: caseId, since: lastId || null }, (ack) => {
    if (!ack || !ack.ok) { els.connection.textContent = ack?.error?.message || t.error; return; }
    els.connection.textContent = t.connected; // "live" once in the room, not merely connected
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
socket.on("message", (message) => {
  if (message.case_id !== caseId) return;
  addMessage(message);
  if (isJoint(message) && message.author_role === typingRole) stopTyping(); // they finished typing
});
socket.on("case_event", onCaseEvent);
socket.on("presence", (p) => { if (p.case_id === caseId) showPresence(p.roles); });
let typingTimer = null;
let typingRole = null;
function stopTyping() {
  clearTimeout(typingTimer);
  typingRole = null;
  els.typing.textContent = "";
}
socket.on("typing", (p) => {
  if (p.case_id !== caseId || (p.channel ?? "joint") !== "joint") return;
  typingRole = p.role;
  els.typing.textContent = fmt(t.typing, { name: p.name || labels.roles[p.role] });
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, 3000);
});

const listFormat = new Intl.ListFormat(labels.locale, { style: "long", type: "conjunction" });
function showPresence(roles) {
  const names = (roles || []).map((r) => labels.roles[r] || r);
  els.presence.textContent = names.length ? `${t.online} ${listFormat.format(names)}` : "";
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
        node.tabIndex = 0; // the retry works from the keyboard too
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
  const retry = () => {
    if (!node.classList.contains("failed")) return;
    node.classList.remove("failed");
    node.removeAttribute("tabindex");
    node.querySelector(".when").textContent = t.sending;
    send(body, clientId);
  };
  node.addEventListener("click", retry);
  node.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); retry(); }
  });
  els.messages.append(node);
  scrollToEnd();
  els.body.value = "";
  send(body, clientId);
});

els.body.addEventListener("keydown", (event) => {
  // Enter while an input method (pinyin, …) is composing picks a candidate; it must not send.
  if (event.isComposing || event.keyCode === 229) return;
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
  // An HTTP answer can arrive after a newer socket event: never step back to an older snapshot.
  if (state.case && kase.version < state.case.version) return;
  state.case = kase;
  if (actions) state.actions = actions;
  els.state.textContent = labels.states[kase.state] || kase.state;
  els.state.className = `state state-${kase.state}`;
  renderDeadline();
  const can = (name) => state.actions.includes(name);
  els.composer.hidden = !can("send_message");
  els.propose.hidden = !can("propose");
  els.withdrawBox.hidden = !can("withdraw_case");
  els.outcome.hidden = !kase.outcome;
  if (kase.outcome) {
    els.outcome.textContent = fmt(t.outcome, {
      refund: money(kase.outcome.buyer_refund), release: money(kase.outcome.seller_release) });
  }
}

// "7 days" / "7天": the unit in the viewer's language, not a bare "d".
const duration = (count, unit) => new Intl.NumberFormat(labels.locale, { style: "unit", unit, unitDisplay: "long" })
  .format(count);

function renderDeadline() {
  const at = state.case.deadline_at;
  if (!at) { els.deadline.textContent = "—"; return; }
  const when = new Date(at);
  const hours = Math.round((when - Date.now()) / 36e5);
  const left = hours <= 0 ? t.passed
    : fmt(t.left, { time: hours >= 48 ? duration(Math.round(hours / 24), "day") : duration(hours, "hour") });
  els.deadline.replaceChildren(el("time", { datetime: at }, `${timeFormat.format(when)} (${left})`));
}

function proposalNode(p) {
  const mine = p.author_role === me.role;
  const addressedToMe = p.author_role !== me.role && ["buyer", "seller"].includes(me.role);
  const actions = el("div", { class: "actions" });
  if (p.state === "open" && state.case && ["open", "negotiation", "mediation"].includes(state.case.state)) {
    if (addressedToMe) {
      actions.append(
        el("button", { type: "button",
                       onclick: (e) => confirm(t.confirm_accept) && act(p.id, "accept", e.currentTarget) }, t.accept),
        el("button", { type: "button", class: "secondary", onclick: (e) => act(p.id, "reject", e.currentTarget) },
          t.reject),
        el("button", { type: "button", class: "link", onclick: () => startCounter(p) }, t.counter));
    } else if (mine) {
      actions.append(el("button", { type: "button", class: "secondary",
                                    onclick: (e) => act(p.id, "withdraw", e.currentTarget) }, t.withdraw));
    }
  }
  return el("li", { class: `proposal proposal-${p.state}`, "data-id": p.id },
    el("p", { class: "who" }, `#${p.id} · ${t.by} ${mine ? t.you : labels.roles[p.author_role]} · `,
      el("span", { class: "pstate" }, labels.proposal_states[p.state] || p.state)),
    el("p", { class: "amount" }, `${t.refund}: `, el("strong", {}, money(p.buyer_refund))),
    el("p", { class: "amount" }, `${t.release}: `, el("strong", {}, money(p.seller_release))),
    el("p", { class: "muted" }, p.return_required ? t.return_required : t.no_return),
    p.terms ? el("p", { class: "terms" }, p.terms) : "",
    p.state === "open" ? el("p", { class: "muted" }, `${t.valid_until} ${timeFormat.format(new Date(p.expires_at))}`) : "",
    actions);
}

function renderProposals() {
  els.proposals.replaceChildren(...(state.proposals.length
    ? state.proposals.map(proposalNode) : [el("li", { class: "muted" }, t.no_proposals)]));
}

let proposalsAsked = 0;
async function refreshProposals() {
  const asked = ++proposalsAsked;
  const { ok, answer } = await api("GET", "proposals");
  // Several events can ask at once; only the latest question's answer is shown.
  if (ok && asked === proposalsAsked) { state.proposals = answer; renderProposals(); }
}

function announce(text) {
  if (text && els.activity) els.activity.textContent = text;
}

function onCaseEvent(event) {
  if (event.case_id !== caseId) return;
  applyCase(event.case, recomputeActions(event.case));
  announce(labels.events[event.type]);
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

// Resolves (never rejects) to {ok, status, answer}: a lost connection or a page that is not JSON
// becomes an error answer, so no caller leaves an unhandled rejection behind.
async function api(method, path, body) {
  let response;
  try {
    response = await fetch(`/api/v1/cases/${caseId}/${path}`, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, answer: { message: t.error } };
  }
  let answer = {};
  try { answer = await response.json(); } catch { answer = { message: t.error }; }
  return { ok: response.ok, status: response.status, answer };
}

async function act(proposalId, verb, button) {
  if (button) button.disabled = true;
  const { ok, answer } = await api("POST", `proposals/${proposalId}/${verb}`, {});
  if (answer.case) applyCase(answer.case, recomputeActions(answer.case));
  if (!ok) alert(answer.message || t.error);
  await refreshProposals();
}

// "12.5" in a currency with `places` decimals, as integer minor units (BigInt); null if not money.
function minorUnits(value, places) {
  const match = /^(\d+)(?:\.(\d*))?$/.exec(value);
  if (!match || (match[2] || "").length > places) return null;
  return BigInt(match[1] + (match[2] || "").padEnd(places, "0"));
}

// Where the marketplace holds the funds, refund + release must add up to them exactly.
function sumMismatch(refund, release) {
  const held = state.case.held_amount;
  if (!held) return false;
  const places = (held.value.split(".")[1] || "").length;
  const [a, b, total] = [refund, release, held.value].map((v) => minorUnits(v, places));
  return a !== null && b !== null && total !== null && a + b !== total;
}

function showProposeError(message) {
  els.proposeError.textContent = message;
  for (const input of [els.propose.buyer_refund, els.propose.seller_release]) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

els.propose.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = els.propose;
  const currency = state.case.amount.currency;
  const refund = form.buyer_refund.value.trim();
  const release = form.seller_release.value.trim();
  if (sumMismatch(refund, release)) {
    showProposeError(els.proposeHint ? els.proposeHint.textContent : t.error);
    form.buyer_refund.focus();
    return;
  }
  const payload = {
    buyer_refund: { value: refund, currency },
    seller_release: { value: release, currency },
    return_required: form.return_required.checked,
    terms: form.terms.value,
  };
  if (form.counter_to.value) payload.counter_to = Number(form.counter_to.value);
  const submit = form.querySelector('button[type="submit"]');
  submit.disabled = true;
  const { ok, answer } = await api("POST", "proposals", payload);
  submit.disabled = false;
  if (answer.case) applyCase(answer.case, recomputeActions(answer.case));
  if (!ok) {
    const fieldErrors = Object.values(answer.errors || {}).flat();
    showProposeError(fieldErrors[0] || answer.message || t.error);
    return;
  }
  showProposeError("");
  form.reset();
  els.proposeReset.click();
  await refreshProposals();
});

els.withdraw.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!confirm(t.confirm_withdraw)) return;
  const { ok, answer } = await api("POST", "withdraw", { reason: els.withdraw.reason.value });
  if (answer.case) applyCase(answer.case, recomputeActions(answer.case));
  if (!ok) alert(answer.message || t.error);
});

// ---- time zone ------------------------------------------------------------------------------

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (zone && !sessionStorage.getItem("tz-sent")) {
  fetch("/preferences/timezone", { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify({ timezone: zone }) })
    .then((response) => { if (response.ok) sessionStorage.setItem("tz-sent", "1"); })
    .catch(() => {}); // the zone is a nicety; times still show, in UTC
}

renderInitial(boot.messages, boot.has_older);
applyCase(state.case, state.actions);
renderProposals();
setInterval(renderDeadline, 60000);
