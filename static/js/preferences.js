// The viewer's own time zone. The browser reports its zone on every visit (the server keeps it only while the
// person has not picked one); the picker in the header sets one explicitly. A page that shows times itself
// (the case room) marks <body data-live-times> and re-renders on "mediation:timezone"; any other page reloads,
// since its times were rendered by the server in the zone it had.

const form = document.getElementById("zone-picker");
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const caseId = form.dataset.caseId ? Number(form.dataset.caseId) : undefined;
const error = document.getElementById("zone-error");

async function send(timezone, chosen) {
  try {
    const response = await fetch("/preferences/timezone", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ timezone, chosen, case_id: caseId }),
    });
    return { ok: response.ok, answer: await response.json() };
  } catch {
    return { ok: false, answer: {} };
  }
}

function apply(zone) {
  if (zone === form.timezone.defaultValue) return;
  form.timezone.value = form.timezone.defaultValue = zone;
  if (document.body.hasAttribute("data-live-times")) {
    window.dispatchEvent(new CustomEvent("mediation:timezone", { detail: { zone } }));
  } else {
    window.location.reload();
  }
}

// The zone list comes from the browser itself; the server checks the choice against the IANA database.
form.timezone.addEventListener("focus", () => {
  const list = document.getElementById("zone-list");
  if (list.childElementCount || !Intl.supportedValuesOf) return;
  list.append(...Intl.supportedValuesOf("timeZone").map((zone) => Object.assign(document.createElement("option"),
    { value: zone })));
}, { once: true });

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.textContent = "";
  const { ok, answer } = await send(form.timezone.value.trim(), true);
  if (ok) { form.dataset.chosen = "true"; apply(answer.timezone); return; }
  error.textContent = answer.errors?.timezone?.[0] || answer.message || "";
});

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (browserZone && form.dataset.chosen !== "true" && browserZone !== form.timezone.defaultValue) {
  send(browserZone, false).then(({ ok, answer }) => { if (ok) apply(answer.timezone); });
}
