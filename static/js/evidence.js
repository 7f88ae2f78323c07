// The evidence part of the case room: the files of each channel (shown with the channel's chat tab), the
// upload form (drop zone or picker, several files, a progress bar per file), the evidence checklist and the
// structured requests. Everything comes from the JSON API, on load and again whenever the room reports a
// change (a case_event, or a reconnect); the page never guesses what the server decided. Labels the API
// renders (checklist items, request titles, errors) come in the viewer's own language, as the page does.
//
// The parts are modules in ./evidence/ (common.js, files.js, uploads.js, checklist.js, requests.js, in the
// order they import one another); this entry point hands the files and the upload form the calls they make
// into the later parts, and wires everything to the room: its events, a reconnect, the tab shown, the state.

import { room } from "./room.js";
import { page } from "./evidence/common.js";
import { files, filesOf, renderFiles, showChannel, connectFiles } from "./evidence/files.js";
import { renderUploadForm, connectUploads } from "./evidence/uploads.js";
import { loadChecklist, renderChecklist } from "./evidence/checklist.js";
import { loadRequests, renderRequests, renderAskForm, loadKinds, textRequired } from "./evidence/requests.js";

connectFiles({ renderRequests, loadChecklist });
connectUploads({ loadChecklist, loadRequests });

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
