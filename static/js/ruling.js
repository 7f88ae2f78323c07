// The neutral's part of the case room: the ruling (outcome, reasons, cited clauses, the appeal deadline),
// an appeal and its decision, and the forms of whoever may act now: the case's mediator recommends a
// settlement or rules, a party appeals, the appeal mediator decides. Which forms show is the server's
// answer (room.state.actions); everything re-renders on each change room.js reports.

import { room } from "./room.js";

const { t, labels, el, fmt, money, api, state, showErrors } = room;
const $ = (id) => document.getElementById(id);
const els = {
  decision: $("decision"), rulings: $("rulings"), appeal: $("appeal"), decide: $("decide"),
  decideOutcome: $("decide-outcome"), recommendBox: $("recommend-box"), recommend: $("recommend"),
  ruleBox: $("rule-box"), rule: $("rule"),
};

// ---- cited clauses ------------------------------------------------------------------------------
// The case's rulebook version came with the page, its titles in the viewer's language; a ruling names
// clauses of that version only, so each links to its anchor on the public rules page.

const rulebook = room.rulebook;
const known = new Map((rulebook?.clauses || []).map((clause) => [clause.id, clause]));
const localeKey = labels.locale.startsWith("zh") ? "zh_Hans_CN" : "en";

function clauseTitle(clause) {
  const title = known.get(clause.id)?.title ?? clause.title;
  return typeof title === "string" ? title : title?.[localeKey] || title?.en || "";
}

function clauseLink(clause) {
  const text = fmt(t.clause, { number: clause.number, title: clauseTitle(clause) });
  if (!rulebook) return el("span", {}, text);
  return el("a", { href: `${rulebook.url}#${clause.anchor || `clause-${clause.number}`}`, target: "_blank",
                   rel: "noopener" },
    text, el("span", { class: "sr-only" }, ` ${t.new_tab}`));
}

// ---- the ruling, the appeal, the decision ------------------------------------------------------

// A sentence with a %(time)s in it, the time as a <time> element in the viewer's zone.
function withDeadline(template, at) {
  const [before, after = ""] = template.split("%(time)s");
  return [before, el("time", { datetime: at }, room.deadlineText(at)), after];
}

function rulingCard(ruling, heading, withOutcome) {
  const outcome = withOutcome ? [
    el("dl", { class: "ruling-outcome" },
      el("div", {}, el("dt", {}, t.refund), el("dd", {}, money(ruling.buyer_refund))),
      el("div", {}, el("dt", {}, t.release), el("dd", {}, money(ruling.seller_release)))),
    el("p", {}, ruling.return_required ? t.return_required : t.no_return),
    ruling.terms ? el("p", { class: "terms" }, `${t.terms}: ${ruling.terms}`) : "",
  ] : [];
  return el("article", { class: `ruling-card ruling-${ruling.kind}`, "data-id": ruling.id },
    el("h3", {}, heading),
    el("p", { class: "muted" }, fmt(t.issued_at, { time: room.timeFormat.format(new Date(ruling.created_at)) })),
    ...outcome,
    el("h4", {}, t.reasons),
    el("p", { class: "rationale" }, ruling.rationale),
    el("h4", {}, t.rules_applied),
    el("ul", { class: "cited" }, ...ruling.clauses.map((clause) => el("li", {}, clauseLink(clause)))));
}

// No appeal (yet): until when one may be made, or that the ruling stands.
function windowNote(kase) {
  if (kase.state === "ruled" && kase.deadline_at) {
    const open = new Date(kase.deadline_at) > Date.now();
    return el("p", { class: "appeal-window" }, ...(open ? withDeadline(t.appeal_until, kase.deadline_at)
      : [t.appeal_closed]));
  }
  return ["final", "closed"].includes(kase.state) ? el("p", { class: "appeal-window" }, t.appeal_lapsed) : "";
}

function appealNode(appeal) {
  const pending = !appeal.decided_at;
  const status = pending ? t[`appealed_by_${appeal.appellant}`] : t[`appeal_of_${appeal.appellant}`];
  return el("div", { class: `appeal-status${pending ? " pending" : ""}`, "data-id": appeal.id },
    el("p", { class: "status" }, el("strong", {}, status)),
    el("h4", {}, t.grounds),
    el("blockquote", { class: "grounds" }, appeal.grounds));
}

function decisionHeading(decision) {
  const name = decision.mediator?.name || labels.roles.mediator;
  return fmt(decision.decision === "replace" ? t.decision_replaced : t.decision_upheld, { name });
}

function renderRulings() {
  const byId = new Map(state.rulings.map((ruling) => [ruling.id, ruling]));
  const nodes = [];
  for (const ruling of state.rulings.filter((r) => r.kind === "ruling")) {
    const name = ruling.mediator?.name || labels.roles.mediator;
    nodes.push(rulingCard(ruling, fmt(t.ruling_by, { name }), true));
    const appeal = state.appeals.find((a) => a.ruling_id === ruling.id);
    if (!appeal) { nodes.push(windowNote(state.case)); continue; }
    nodes.push(appealNode(appeal));
    const decision = appeal.decision_id ? byId.get(appeal.decision_id) : null;
    if (decision) nodes.push(rulingCard(decision, decisionHeading(decision), decision.decision === "replace"));
  }
  const outcome = state.case.outcome;
  if (state.rulings.length && outcome?.resolution === "ruled") {
    nodes.push(el("p", { class: "final-outcome" }, fmt(t.final_outcome, {
      refund: money(outcome.buyer_refund), release: money(outcome.seller_release) })));
  }
  els.rulings.replaceChildren(...nodes);
}

// The forms follow what the viewer may do now; a form's content stays as typed while it shows.
function renderForms() {
  const can = (action) => state.actions.includes(action);
  const open = state.appeals.find((appeal) => !appeal.decided_at);
  els.recommendBox.hidden = !can("recommend");
  els.ruleBox.hidden = !can("issue_ruling");
  els.appeal.hidden = !can("appeal");
  els.decide.hidden = !(can("decide_appeal") && open);
  els.decide.elements.appeal_id.value = open ? open.id : "";
  els.decision.hidden = !state.rulings.length && els.appeal.hidden && els.decide.hidden;
}

// ---- the forms ------------------------------------------------------------------------------------

const amount = (form, name) => ({ value: form.elements[name].value.trim(), currency: state.case.amount.currency });
const outcomeOf = (form) => ({
  buyer_refund: amount(form, "buyer_refund"), seller_release: amount(form, "seller_release"),
  return_required: form.elements.return_required.checked, terms: form.elements.terms.value,
});
const reasonsOf = (form) => ({
  rationale: form.elements.rationale.value,
  clauses: [...form.querySelectorAll('input[name="clauses"]:checked')].map((box) => Number(box.value)),
});

// POST the form's payload; on success the form empties and the room refreshes, on error it keeps it all.
function bind(form, path, payload) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector('button[type="submit"]');
    submit.disabled = true;
    const { ok, answer } = await api("POST", typeof path === "function" ? path(form) : path, payload(form));
    submit.disabled = false;
    room.refresh(answer);
    showErrors(form, ok ? null : answer);
    if (ok) { form.reset(); showReplacement(); }
  });
}

// The decision form asks for an outcome only to replace the ruling.
function showReplacement() {
  const replace = els.decide.elements.decision.value === "replace";
  els.decideOutcome.hidden = !replace;
  els.decideOutcome.disabled = !replace;
}
els.decide.addEventListener("change", (event) => { if (event.target.name === "decision") showReplacement(); });

bind(els.recommend, "recommendations", outcomeOf);
bind(els.rule, "rulings", (form) => ({ ...outcomeOf(form), ...reasonsOf(form) }));
bind(els.appeal, "appeals", (form) => ({ grounds: form.elements.grounds.value }));
bind(els.decide, (form) => `appeals/${form.elements.appeal_id.value}/decision`, (form) => {
  const decision = form.elements.decision.value;
  return { decision, ...(decision === "replace" ? outcomeOf(form) : {}), ...reasonsOf(form) };
});

room.subscribe(() => { renderForms(); renderRulings(); });

// The server closes the appeal window (workflow.allowed_actions); once it has passed here, ask it again.
setInterval(() => {
  const at = state.case.deadline_at;
  if (state.actions.includes("appeal") && at && new Date(at) <= Date.now()) room.sync();
}, 60000);
