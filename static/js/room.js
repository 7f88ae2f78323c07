// The case room: live chat over Socket.IO (namespace /cases), proposals and actions over the JSON API.
// Messages are shown as "sending" until the server acknowledges them after its commit; a message
// that was not acknowledged keeps its client_id, so retrying it can never store it twice.
// What the viewer may do is always the server's answer (workflow.allowed_actions): the page asks for it
// again, by joining the room again, whenever it sees the case change. `room` (exported at the end) shares
// the state and helpers with the neutral's part of the page, ruling.js, and with the evidence part, evidence.js.

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
  proposeHint: $("propose-hint"), tabs: $("tabs"), jointPanel: $("panel-joint"),
  escalateBox: $("escalate-box"), escalateOpen: $("escalate-open"), escalate: $("escalate"),
  escalateCancel: $("escalate-cancel"), escalateError: $("escalate-error"),
  mediatorFact: $("mediator-fact"), mediator: $("mediator"),
  appealMediatorFact: $("appeal-mediator-fact"), appealMediator: $("appeal-mediator"),
};

const state = { case: boot.case, proposals: boot.proposals, actions: boot.allowed_actions,
                rulings: boot.rulings || [], appeals: boot.appeals || [] };
const shown = new Map(); // message id -> element
let lastId = 0;
const isParty = ["buyer", "seller"].includes(me.role);
const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, key) => values[key] ?? "");
// Every time shows in the viewer's own zone (their row's, not necessarily the browser's), the zone named.
// dateStyle/timeStyle cannot be combined with timeZoneName (a RangeError), so spell the fields out.
const formats = {};
function useZone(timeZone) {
  formats.zone = timeZone;
  formats.time = new Intl.DateTimeFormat(labels.locale, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    timeZone,
  });
  formats.short = new Intl.DateTimeFormat(labels.locale, { hour: "2-digit", minute: "2-digit", timeZone });
}
useZone(labels.timezone || "UTC");
// Stable objects for ruling.js and evidence.js, which format through them when they render.
const timeFormat = { format: (date) => formats.time.format(date) };
const shortTime = { format: (date) => formats.short.format(date) };
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

// ---- channels -------------------------------------------------------------------------------
// One tab per channel the viewer may read (the server's list): "joint" for everyone, and the private
// (caucus) ones: a party's own with the mediator, or both for the mediator. Each keeps its own list,
// "load older", unread count, typing line and unsent draft; the composer writes to the active one.

const JOINT = "joint";
const channels = new Map(); // channel name -> its view
let active = JOINT;

// "caucus:buyer" -> "caucus_buyer"; a party's own caucus is simply "caucus" ("with the mediator").
const key = (name) => (name === `caucus:${me.role}` ? "caucus" : name.replace(":", "_"));
const slug = (name) => name.replace(":", "-");

function tabLabel(name) {
  return name === JOINT ? t.tab_joint : t[`tab_${key(name)}`] || name;
}

function placeholder(name) {
  if (name === JOINT) return isParty ? t.write_joint : t.write_joint_mediator;
  return t[`write_${key(name)}`] || "";
}

// As the server has it (workflow.channel_open): chat until the case closes, private ones in mediation.
const channelOpen = (name) => (name === JOINT ? state.case.state !== "closed" : state.case.state === "mediation");

function makeChannel(name) {
  let panel = els.jointPanel;
  let list = els.messages;
  let older = els.older;
  let note = null;
  if (name !== JOINT) {
    note = el("p", { class: "private-note" }, t[`private_${key(name)}`] || "");
    older = el("button", { type: "button", class: "link older", hidden: "" }, els.older.textContent);
    list = el("ol", { id: `messages-${slug(name)}`, class: "messages", "aria-live": "polite",
                      "aria-relevant": "additions", tabindex: "0", "aria-labelledby": `tab-${slug(name)}` });
    panel = el("div", { id: `panel-${slug(name)}`, class: "panel private", "data-channel": name, hidden: "" },
      note, older, list);
    [...channels.values()].at(-1).panel.after(panel);
  }
  panel.setAttribute("role", "tabpanel");
  panel.setAttribute("aria-labelledby", `tab-${slug(name)}`);
  const badge = el("span", { class: "badge", hidden: "" });
  const tab = el("button", { type: "button", role: "tab", class: "tab", id: `tab-${slug(name)}`,
                             "aria-controls": panel.id, "aria-selected": String(name === active),
                             tabindex: name === active ? "0" : "-1", "data-channel": name,
                             onclick: () => select(name) },
    el("span", {}, tabLabel(name)), badge);
  els.tabs.append(tab);
  const view = { name, panel, list, older, note, tab, badge, unread: 0, oldestId: null, hasMessages: false,
                 stale: false, draft: "", typingRole: null, typingText: "", typingTimer: null };
  older.addEventListener("click", () => loadOlder(view));
  channels.set(name, view);
  return view;
}

// A party's private tab appears once the case is in mediation, or when it already holds messages.
const tabVisible = (view) => view.name === JOINT || !isParty || state.case.state === "mediation" || view.hasMessages;

function renderTabs() {
  const views = [...channels.values()];
  for (const view of views) {
    view.tab.hidden = !tabVisible(view);
    if (view.note) {
      const closed = channelOpen(view.name) ? "" : ` ${t.caucus_closed}`;
      view.note.textContent = `${t[`private_${key(view.name)}`] || ""}${closed}`;
    }
  }
  els.tabs.hidden = views.filter(tabVisible).length < 2; // a lone "Everyone" tab says nothing
  if (!tabVisible(channels.get(active))) select(JOINT);
  renderComposer();
}

function select(name, { focus = false } = {}) {
  const previous = channels.get(active);
  const view = channels.get(name);
  if (!view) return;
  if (previous !== view) { previous.draft = els.body.value; els.body.value = view.draft; }
  active = name;
  for (const other of channels.values()) {
    const on = other === view;
    other.panel.hidden = !on;
    other.tab.setAttribute("aria-selected", String(on));
    other.tab.tabIndex = on ? 0 : -1;
  }
  view.unread = 0;
  renderBadge(view);
  if (view.stale) { scrollToEnd(view.list); view.stale = false; }
  renderComposer();
  renderTyping();
  markRead();
  if (focus) view.tab.focus();
  if (previous !== view) fire("channel", name);
}

// Tell the server how far this viewer has read the channel on screen (the mediator's queue counts
// unread messages from it). At most one `read` every 1.5 s, and only while the page is visible.
// Each channel has its own timer, so switching tabs never drops what was read in the one left.
const readUpTo = new Map();
const readTimers = new Map();
function markRead() {
  const view = channels.get(active);
  if (!view || readTimers.has(view.name)) return;
  readTimers.set(view.name, setTimeout(() => {
    readTimers.delete(view.name);
    if (!view.newestId || document.hidden || !socket.connected) return;
    if (view.newestId <= (readUpTo.get(view.name) || 0)) return;
    readUpTo.set(view.name, view.newestId);
    socket.emit("read", { case_id: caseId, channel: view.name, message_id: view.newestId });
  }, 1500));
}
document.addEventListener("visibilitychange", markRead);

function renderBadge(view) {
  view.badge.hidden = view.unread === 0;
  view.badge.replaceChildren(el("span", { "aria-hidden": "true" }, String(view.unread)),
    el("span", { class: "sr-only" }, fmt(t.unread, { count: view.unread })));
}

function renderComposer() {
  els.composer.hidden = !state.actions.includes("send_message") || !channelOpen(active);
  els.body.placeholder = placeholder(active);
}

// Arrow keys move between the tabs (the WAI-ARIA tabs pattern); Tab goes on into the conversation.
els.tabs.addEventListener("keydown", (event) => {
  const tabs = [...channels.values()].filter((v) => !v.tab.hidden);
  const at = tabs.findIndex((v) => v.name === active);
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
  if (to === undefined) return;
  event.preventDefault();
  select(tabs[(to + tabs.length) % tabs.length].name, { focus: true });
});

// ---- messages -------------------------------------------------------------------------------

function messageNode(message, pending = false) {
  const mine = message.author_role === me.role;
  const who = mine ? t.you : `${message.author_name || ""} (${labels.roles[message.author_role] || message.author_role})`;
  const stamp = message.created_at ? shortTime.format(new Date(message.created_at)) : t.sending;
  return el("li", { class: `message ${mine ? "mine" : "theirs"}${pending ? " pending" : ""}`,
                    "data-id": message.id ?? "", "data-client-id": message.client_id,
                    "data-channel": message.channel ?? JOINT },
    el("span", { class: "who" }, who),
    el("p", { class: "text" }, message.body),
    el("time", { class: "when", datetime: message.created_at || "" }, stamp));
}

function nearBottom(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

// Scroll the conversation itself, never the page: someone filling in a proposal keeps their place.
function scrollToEnd(list) { list.scrollTop = list.scrollHeight; }

// Keep each list in id order whatever arrives first (history, catch-up, live); unsent ones stay last.
function insertInOrder(list, node, id) {
  const first = list.firstElementChild;
  if (first && first.dataset.id && Number(first.dataset.id) > id) { list.prepend(node); return; }
  let next = null;
  for (let child = list.lastElementChild; child; child = child.previousElementSibling) {
    if (child.dataset.id && Number(child.dataset.id) < id) break;
    next = child;
  }
  list.insertBefore(node, next);
}

// Shows the message in its channel's list; true if it was new to this page.
function addMessage(message) {
  if (shown.has(message.id)) return false;
  if (message.id > lastId) lastId = message.id; // catch-up after a reconnect starts after it
  const view = channels.get(message.channel ?? JOINT);
  if (!view) return false; // a channel this page has no view of
  const visible = view.name === active;
  const follow = visible && (message.author_role === me.role || nearBottom(view.list));
  const pending = message.client_id && message.author_role === me.role
    && view.list.querySelector(`li.pending[data-client-id="${CSS.escape(message.client_id)}"]`);
  const node = messageNode(message);
  if (pending) pending.replaceWith(node);
  else insertInOrder(view.list, node, message.id);
  shown.set(message.id, node);
  view.oldestId = view.oldestId === null ? message.id : Math.min(view.oldestId, message.id);
  view.newestId = Math.max(view.newestId || 0, message.id);
  if (visible) markRead();
  if (!view.hasMessages) { view.hasMessages = true; if (view.tab.hidden) renderTabs(); }
  if (follow) scrollToEnd(view.list);
  else if (!visible) view.stale = true; // a hidden list cannot scroll: it does when shown
  return true;
}

// A message from someone else, new to this page, in a tab that is not shown: count it on the tab.
function noteArrival(message) {
  const view = channels.get(message.channel ?? JOINT);
  if (!view || view.name === active || message.author_role === me.role) return;
  view.unread += 1;
  renderBadge(view);
}

async function loadHistory(view) {
  const { ok, answer } = await api("GET", `messages?channel=${encodeURIComponent(view.name)}`);
  if (!ok) return;
  answer.items.forEach((m) => addMessage(m));
  view.older.hidden = !answer.has_older;
}

async function loadOlder(view) {
  if (view.oldestId === null) return;
  const { ok, answer } = await api("GET",
    `messages?channel=${encodeURIComponent(view.name)}&before=${view.oldestId}`);
  if (!ok) return;
  const fromBottom = view.list.scrollHeight - view.list.scrollTop; // keep the reader's place
  [...answer.items].reverse().forEach((m) => addMessage(m));
  view.list.scrollTop = view.list.scrollHeight - fromBottom;
  view.older.hidden = !answer.has_older;
}

// ---- socket ---------------------------------------------------------------------------------

const socket = io("/cases", { transports: ["websocket"] });

// `join` enters the room and is answered with the room as the server has it now: the case, this viewer's
// allowed actions, proposals, rulings, appeals and the messages after `since`. Joining again is how the
// page refreshes all of that after a change; requests made while one is on its way are folded into one.
let joinSeq = 0; // only the latest join's answer counts (a reconnect supersedes one on its way)
let joining = false;
let joinAgain = false;

function join({ entering = false } = {}) {
  if (!socket.connected) return; // the next connect joins
  if (joining && !entering) { joinAgain = true; return; }
  joining = true;
  joinAgain = false;
  const since = lastId || null;
  const seq = ++joinSeq;
  socket.timeout(10000).emit("join", { case_id: caseId, since }, (err, ack) => {
    if (seq !== joinSeq) return;
    joining = false;
    if (!err && ack && ack.ok) joined(ack, since, entering);
    else if (!err) els.connection.textContent = ack?.error?.message || t.error;
    if (joinAgain) join();
  });
}

function joined(ack, since, entering) {
  els.connection.textContent = t.connected; // "live" once in the room, not merely connected
  ack.messages.forEach((m) => { if (addMessage(m) && since) noteArrival(m); });
  if (!since && ack.has_older) els.older.hidden = false;
  showPresence(ack.online);
  if (ack.case.version < state.case.version) {
    joinAgain = true; // answered before a change this page has already seen: ask once more
  } else {
    Object.assign(state, { proposals: ack.proposals, rulings: ack.rulings, appeals: ack.appeals });
    applyCase(ack.case, ack.allowed_actions);
    renderProposals();
  }
  if (entering) { resendPending(); fire("entered"); }
}

socket.on("connect", () => join({ entering: true }));
socket.on("disconnect", () => { els.connection.textContent = t.reconnecting; });
socket.on("connect_error", () => { els.connection.textContent = t.reconnecting; });
socket.on("message", (message) => {
  if (message.case_id !== caseId) return;
  if (addMessage(message)) noteArrival(message);
  const view = channels.get(message.channel ?? JOINT);
  if (view && message.author_role === view.typingRole) stopTyping(view); // they finished typing
});
socket.on("case_event", onCaseEvent);
socket.on("presence", (p) => { if (p.case_id === caseId) showPresence(p.roles); });

function stopTyping(view) {
  clearTimeout(view.typingTimer);
  view.typingRole = null;
  view.typingText = "";
  renderTyping();
}
function renderTyping() { els.typing.textContent = channels.get(active).typingText; }
socket.on("typing", (p) => {
  const view = channels.get(p.channel ?? JOINT);
  if (p.case_id !== caseId || !view) return;
  view.typingRole = p.role;
  view.typingText = fmt(t.typing, { name: p.name || labels.roles[p.role] });
  clearTimeout(view.typingTimer);
  view.typingTimer = setTimeout(() => stopTyping(view), 3000);
  renderTyping();
});

const listFormat = new Intl.ListFormat(labels.locale, { style: "long", type: "conjunction" });
function showPresence(roles) {
  const names = (roles || []).map((r) => labels.roles[r] || r);
  els.presence.textContent = names.length ? `${t.online} ${listFormat.format(names)}` : "";
}

function send(body, clientId, channel) {
  socket.timeout(10000).emit("send", { case_id: caseId, channel, body, client_id: clientId },
    (err, ack) => {
      const node = document.querySelector(`li.pending[data-client-id="${CSS.escape(clientId)}"]`);
      if (!err && ack && ack.ok) {
        if (node && !shown.has(ack.id)) {
          addMessage({ id: ack.id, created_at: ack.created_at, client_id: clientId, body,
                       author_role: me.role, author_name: me.name, case_id: caseId, channel });
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
  document.querySelectorAll("li.message.pending").forEach((node) => {
    send(node.querySelector(".text").textContent, node.dataset.clientId, node.dataset.channel);
  });
}

els.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = els.body.value.trim();
  if (!body) return;
  const channel = active; // the tab shown when sending, whatever is shown when the ack comes
  const list = channels.get(channel).list;
  const clientId = crypto.randomUUID();
  const node = messageNode({ body, client_id: clientId, author_role: me.role, channel }, true);
  const retry = () => {
    if (!node.classList.contains("failed")) return;
    node.classList.remove("failed");
    node.removeAttribute("tabindex");
    node.querySelector(".when").textContent = t.sending;
    send(body, clientId, channel);
  };
  node.addEventListener("click", retry);
  node.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); retry(); }
  });
  list.append(node);
  scrollToEnd(list);
  els.body.value = "";
  send(body, clientId, channel);
});

els.body.addEventListener("keydown", (event) => {
  // Enter while an input method (pinyin, …) is composing picks a candidate; it must not send.
  if (event.isComposing || event.keyCode === 229) return;
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); els.composer.requestSubmit(); }
});
let lastTyping = { channel: null, at: 0 };
els.body.addEventListener("input", () => {
  const now = Date.now();
  if ((lastTyping.channel !== active || now - lastTyping.at > 2000) && socket.connected) {
    lastTyping = { channel: active, at: now };
    socket.emit("typing", { case_id: caseId, channel: active });
  }
});

// ---- asking for a mediator ------------------------------------------------------------------

function showEscalateForm(open) {
  els.escalate.hidden = !open;
  els.escalateOpen.setAttribute("aria-expanded", String(open));
  if (open) els.escalate.reason.focus();
}
els.escalateOpen.addEventListener("click", () => showEscalateForm(els.escalate.hidden));
els.escalateCancel.addEventListener("click", () => {
  showEscalateForm(false);
  els.escalateError.textContent = "";
  els.escalateOpen.focus();
});
els.escalate.addEventListener("submit", async (event) => {
  event.preventDefault();
  const submit = els.escalate.querySelector('button[type="submit"]');
  submit.disabled = true;
  const { ok, answer } = await api("POST", "escalate", { reason: els.escalate.reason.value.trim() });
  submit.disabled = false;
  changedBy(answer);
  if (!ok) {
    els.escalateError.textContent = Object.values(answer.errors || {}).flat()[0] || answer.message || t.error;
    return;
  }
  els.escalateError.textContent = "";
  els.escalate.reset();
  showEscalateForm(false);
});

// ---- the mediators --------------------------------------------------------------------------

// The case's mediator once in mediation ("not assigned yet" while none is free), and the appeal mediator
// once appealed; the names come with the case itself.
function renderMediators(kase) {
  const show = (fact, name, who, waiting) => {
    fact.hidden = !who && !waiting;
    name.textContent = who ? who.name || labels.roles.mediator : t.mediator_waiting;
  };
  show(els.mediatorFact, els.mediator, kase.mediator, kase.state === "mediation");
  show(els.appealMediatorFact, els.appealMediator, kase.appeal_mediator, kase.state === "appealed");
}

const isCaseMediator = () => me.role === "mediator" && state.case.mediator?.id === me.id;

// ---- case state and proposals ---------------------------------------------------------------

const listeners = []; // ruling.js renders on every change
// evidence.js: "event" (every case_event), "channel" (the tab shown changed), "entered" (joined after a (re)connect).
const hooks = { event: [], channel: [], entered: [] };
const fire = (name, ...args) => hooks[name].forEach((hook) => hook(...args));

function applyCase(kase, actions) {
  // An HTTP answer can arrive after a newer socket event: never step back to an older snapshot.
  if (state.case && kase.version < state.case.version) return;
  state.case = kase;
  if (actions) state.actions = actions;
  els.state.textContent = labels.states[kase.state] || kase.state;
  els.state.className = `state state-${kase.state}`;
  renderDeadline();
  const can = (name) => state.actions.includes(name);
  els.propose.hidden = !can("propose");
  els.withdrawBox.hidden = !can("withdraw_case");
  els.escalateBox.hidden = !can("escalate");
  renderTabs(); // a party's private tab opens with mediation; it also renders the composer
  renderMediators(kase);
  els.outcome.hidden = !kase.outcome;
  if (kase.outcome) {
    els.outcome.textContent = fmt(t.outcome, {
      refund: money(kase.outcome.buyer_refund), release: money(kase.outcome.seller_release) });
  }
  listeners.forEach((listener) => listener(state));
}

// After an answer to one of the page's own actions: show the case it returned, then ask for the rest.
function changedBy(answer) {
  if (answer.case) applyCase(answer.case);
  join();
}

// "7 days" / "7天": the unit in the viewer's language, not a bare "d".
const duration = (count, unit) => new Intl.NumberFormat(labels.locale, { style: "unit", unit, unitDisplay: "long" })
  .format(count);

// A deadline in the viewer's time zone, the zone named, and the time left: "Mar 9, 2026, 09:00 AM UTC (5 days left)".
function deadlineText(at) {
  const when = new Date(at);
  const hours = Math.round((when - Date.now()) / 36e5);
  const left = hours <= 0 ? t.passed
    : fmt(t.left, { time: hours >= 48 ? duration(Math.round(hours / 24), "day") : duration(hours, "hour") });
  return `${timeFormat.format(when)} (${left})`;
}

function renderDeadline() {
  const at = state.case.deadline_at;
  if (!at) { els.deadline.textContent = "—"; return; }
  els.deadline.replaceChildren(el("time", { datetime: at }, deadlineText(at)));
}

// Who has accepted an open recommendation so far (it needs both parties), as this viewer words it.
function recommendationProgress(accepted) {
  if (!accepted.length) return t.rec_waiting_both;
  if (isParty) return accepted.includes(me.role) ? t.rec_you_accepted : t.rec_other_accepted;
  return t[`rec_${accepted[0]}_accepted`];
}

function proposalNode(p) {
  const recommendation = p.author_role === "mediator"; // the mediator's: both parties must accept it
  const mine = recommendation ? isCaseMediator() : p.author_role === me.role;
  const accepted = p.accepted_by || [];
  const addressedToMe = p.author_role !== me.role && isParty && !accepted.includes(me.role);
  const actions = el("div", { class: "actions" });
  if (p.state === "open" && state.case && ["open", "negotiation", "mediation"].includes(state.case.state)) {
    if (addressedToMe) {
      const question = recommendation ? t.confirm_accept_recommendation : t.confirm_accept;
      actions.append(
        el("button", { type: "button",
                       onclick: (e) => confirm(question) && act(p.id, "accept", e.currentTarget) }, t.accept),
        el("button", { type: "button", class: "secondary", onclick: (e) => act(p.id, "reject", e.currentTarget) },
          t.reject),
        recommendation ? "" : el("button", { type: "button", class: "link", onclick: () => startCounter(p) },
          t.counter));
    } else if (mine) {
      actions.append(el("button", { type: "button", class: "secondary",
                                    onclick: (e) => act(p.id, "withdraw", e.currentTarget) }, t.withdraw));
    }
  }
  const author = recommendation ? (mine ? t.your_recommendation : t.recommendation)
    : `${t.by} ${mine ? t.you : labels.roles[p.author_role]}`;
  return el("li", { class: `proposal proposal-${p.state}${recommendation ? " proposal-recommendation" : ""}`,
                    "data-id": p.id },
    el("p", { class: "who" }, `#${p.id} · ${author} · `,
      el("span", { class: "pstate" }, labels.proposal_states[p.state] || p.state)),
    recommendation && p.state === "open" ? el("p", { class: "progress" }, recommendationProgress(accepted)) : "",
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

function announce(text) {
  if (text && els.activity) els.activity.textContent = text;
}

// Every change of the case reaches the room as a case_event carrying the case: show it at once, then join
// again for what changed with it (actions, proposals, rulings).
function onCaseEvent(event) {
  if (event.case_id !== caseId) return;
  applyCase(event.case);
  announce(labels.events[event.type]);
  join();
  fire("event", event);
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
// becomes an error answer, so no caller leaves an unhandled rejection behind. `url` is any path of the site.
async function call(method, url, body) {
  let response;
  try {
    response = await fetch(url, {
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

// `call` for a path under this case's API.
const api = (method, path, body) => call(method, `/api/v1/cases/${caseId}/${path}`, body);

// The texts, once each, without empty ones.
const unique = (list) => [...new Set(list.filter(Boolean))];

// Every message in an error value however nested ({"clauses": {"0": ["Not a valid integer."]}}).
const texts = (value) => {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(texts);
  return value && typeof value === "object" ? Object.values(value).flatMap(texts) : [];
};

// The API's field errors next to their fields (every control of that name marked invalid), the rest in the
// form's alert unless `general` is false; `answer` null clears them. Nothing typed is touched.
function showErrors(form, answer, { general = true } = {}) {
  const alert = form.querySelector('[data-error-for="_form"]');
  form.querySelectorAll("[data-error-for]").forEach((slot) => { slot.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
  if (!answer) return;
  const unplaced = [];
  let first = null;
  for (const [field, value] of Object.entries(answer.errors || {})) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (!slot || slot === alert) { unplaced.push(...texts(value)); continue; }
    slot.textContent = texts(value).join(" ");
    const control = form.elements[field];
    const controls = !control ? [] : control instanceof Element ? [control] : [...control];
    controls.forEach((node) => node.setAttribute("aria-invalid", "true"));
    first ??= controls[0];
  }
  if (general && alert) {
    alert.textContent = unique([answer.message || t.error, ...unplaced]).join(" ");
  }
  first?.focus();
}

async function act(proposalId, verb, button) {
  if (button) button.disabled = true;
  const { ok, answer } = await api("POST", `proposals/${proposalId}/${verb}`, {});
  changedBy(answer);
  if (!ok) alert(answer.message || t.error);
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
  changedBy(answer);
  if (!ok) {
    const fieldErrors = Object.values(answer.errors || {}).flat();
    showProposeError(fieldErrors[0] || answer.message || t.error);
    return;
  }
  showProposeError("");
  form.reset();
  els.proposeReset.click();
});

els.withdraw.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!confirm(t.confirm_withdraw)) return;
  const { ok, answer } = await api("POST", "withdraw", { reason: els.withdraw.reason.value });
  changedBy(answer);
  if (!ok) alert(answer.message || t.error);
});

// ---- time zone ------------------------------------------------------------------------------
// preferences.js reports the browser's zone or the person's pick; the server answers with the zone that now
// applies. Everything shown is rendered again in it; the countdown does not change (same instant for all).

window.addEventListener("mediation:timezone", (event) => {
  useZone(event.detail.zone);
  for (const node of document.querySelectorAll("li.message time.when[datetime]")) {
    if (node.getAttribute("datetime")) node.textContent = shortTime.format(new Date(node.getAttribute("datetime")));
  }
  renderDeadline();
  renderProposals();
  listeners.forEach((listener) => listener(state));
});

boot.channels.forEach(makeChannel);
if (!channels.has(JOINT)) makeChannel(JOINT); // the page always has the joint list
boot.messages.forEach((m) => addMessage(m));
els.older.hidden = !boot.has_older;
applyCase(state.case, state.actions);
[...channels.values()].filter((v) => v.name !== JOINT).forEach(loadHistory);
renderProposals();
setInterval(() => { renderDeadline(); listeners.forEach((listener) => listener(state)); }, 60000);

// What ruling.js and the evidence modules need of the room; ruling.js renders the rulings and the neutral's
// forms on every change.
export const room = {
  caseId, me, labels, t, state, el, fmt, money, csrf, api, call, texts, unique, showErrors, timeFormat,
  deadlineText, rulebook: boot.rulebook,
  /** Show the case an API answer carries, then ask the server again for the room (actions, proposals, rulings). */
  refresh: changedBy,
  /** Ask the server again for the room. */
  sync: () => join(),
  /** Call `listener(state)` now and after every change of the case or of what the viewer may do. */
  subscribe(listener) { listeners.push(listener); listener(state); },
  /** Call `hook` on "event" (case_event), "channel" (the tab shown changed) or "entered" (joined after connecting). */
  on(name, hook) { hooks[name].push(hook); },
  /** The channel whose tab is shown; the channels whose tabs show; a channel's tab label; whether it is open now. */
  active: () => active,
  visibleChannels: () => [...channels.values()].filter(tabVisible).map((view) => view.name),
  tabLabel, channelOpen, isCaseMediator,
};
