/* The proctoring review page: the exam's sessions ordered by evidence (never ranked against each
   other), one session's timeline, flag reviews, the final decision, settings and the export.
   An ES module on top of api.js's globals (Auth, api, T, fmt, el, apiErrorText). */
import { renderTimeline } from "/static/proctor_timeline.js";

const $ = (id) => document.getElementById(id);
const examId = Number($("review-root").dataset.examId);
const RULES = ["face_absent", "multiple_faces", "face_mismatch", "looking_away", "tab_hidden", "window_blur",
  "fullscreen_exit", "second_screen", "network_drop", "copy_paste", "devtools", "second_login", "ip_change"];
let selected = null;
let roomsSeen = new Set();

function notice(text) { $("page-notice").textContent = text; $("page-notice").hidden = !text; }
function failure(err) { if (err instanceof AuthError) { goToLogin(); return; } notice(T.network_error); }

async function call(method, path, body) {
  notice("");
  try {
    const result = await api(method, path, body);
    if (!result.ok) { notice(apiErrorText(result)); return null; }
    return result.data;
  } catch (err) { failure(err); return null; }
}

/* A frame or a download needs the Authorization header: fetch it, then hand over a data: URL
   (the page's CSP allows images from 'self' and data: only). */
async function authorised(path) {
  const auth = await Auth.fresh();
  const resp = await fetch(path, { headers: { Authorization: "Bearer " + auth.access } });
  if (!resp.ok) { throw new Error(String(resp.status)); }
  return resp.blob();
}

function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = reject;
    reader.readAsDataURL(blob);
  });
}

async function download(kind) {
  try {
    const blob = await authorised(`/api/proctoring/exams/${examId}/review.${kind}`);
    const link = el("a", { href: await dataUrl(blob), download: `proctoring-review-${examId}.${kind}` });
    document.body.appendChild(link);
    link.click();
    link.remove();
  } catch (err) { failure(err); }
}

function sessionRow(row) {
  const open = el("button", { "class": "btn btn-link", type: "button", text: row.display_name });
  open.addEventListener("click", () => loadTimeline(row.session_id));
  return el("tr", { "data-session": String(row.session_id), "class": row.session_id === selected ? "prv-selected" : null }, [
    el("td", {}, [open]), el("td", { text: row.username }), el("td", { text: row.exam_room_id ?? "–" }),
    el("td", { text: row.state }), el("td", { "data-testid": "risk", text: row.risk_score.toFixed(2) }),
    el("td", { text: String(row.flags) }), el("td", { text: String(row.unreviewed_flags) }),
    el("td", { text: row.decision ? T["prv_decision_" + row.decision] : T.prv_undecided })
  ]);
}

async function loadList() {
  const room = $("prv-room").value;
  const rows = await call("GET", `/api/proctoring/exams/${examId}/review` + (room ? `?exam_room_id=${room}` : ""));
  if (!rows) { return; }
  rows.forEach((r) => { if (r.exam_room_id !== null && !roomsSeen.has(r.exam_room_id)) {
    roomsSeen.add(r.exam_room_id);
    $("prv-room").appendChild(el("option", { value: r.exam_room_id, text: fmt("prv_room_n", { n: r.exam_room_id }) }));
  } });
  const headers = [T.prv_candidate, T.prv_username, T.prv_room, T.prv_state, T.prv_score, T.prv_flags,
    T.prv_unreviewed, T.prv_decision];
  $("prv-list").replaceChildren(rows.length ? el("table", { "class": "data-table prv-list" }, [
    el("thead", {}, [el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })))]),
    el("tbody", {}, rows.map(sessionRow))]) : el("p", { text: T.prv_no_sessions }));
}

const timelineActions = {
  async reviewFlag(flagId, status, note) {
    if (await call("POST", `/api/proctoring/flags/${flagId}/review`, { status, note })) { await refresh(); }
  },
  async decide(decision, note) {
    if (await call("POST", `/api/proctoring/sessions/${selected}/decision`, { decision, note })) { await refresh(); }
  },
  async loadImage(path) { return dataUrl(await authorised(path)); }
};

async function loadTimeline(sessionId) {
  selected = sessionId;
  const data = await call("GET", `/api/proctoring/sessions/${sessionId}/timeline`);
  if (!data) { return; }
  $("prv-timeline").hidden = false;
  $("prv-timeline-heading").textContent = fmt("prv_timeline_of", { name: data.session.display_name || sessionId });
  renderTimeline($("prv-timeline-body"), data, timelineActions);
  document.querySelectorAll(".prv-list tr[data-session]").forEach((tr) => {
    tr.classList.toggle("prv-selected", Number(tr.dataset.session) === sessionId);
  });
}

async function refresh() {
  await loadList();
  if (selected !== null) { await loadTimeline(selected); }
}

async function loadSettings() {
  const result = await api("GET", `/api/proctoring/exams/${examId}/settings`);
  if (!result.ok) { return; }  // a room's proctor reviews; settings and exports belong to who runs the exam
  const s = result.data;
  $("prv-settings").hidden = false;
  $("prv-export-csv").hidden = false;
  $("prv-export-json").hidden = false;
  $("prv-enabled").checked = s.enabled;
  $("prv-identity").checked = s.require_identity;
  $("prv-retention").value = s.retention_days;
  $("prv-weights").replaceChildren(...RULES.map((rule) => el("label", {}, [
    el("span", { text: T["prv_rule_" + rule] || rule }),
    el("input", { type: "number", min: "0", max: "1000", step: "0.1", name: rule, value: s.weights[rule] })])));
}

async function saveSettings(event) {
  event.preventDefault();
  const weights = {};
  $("prv-weights").querySelectorAll("input").forEach((input) => { weights[input.name] = Number(input.value); });
  const saved = await call("PUT", `/api/proctoring/exams/${examId}/settings`, {
    enabled: $("prv-enabled").checked, require_identity: $("prv-identity").checked,
    retention_days: Number($("prv-retention").value), weights });
  if (saved) { $("prv-settings-status").textContent = T.prv_saved; await refresh(); }
}

if (!Auth.load()) {
  goToLogin();
} else {
  showUserName();
  $("logout").addEventListener("click", signOut);
  $("prv-room").addEventListener("change", loadList);
  $("prv-settings-form").addEventListener("submit", saveSettings);
  $("prv-export-csv").addEventListener("click", () => download("csv"));
  $("prv-export-json").addEventListener("click", () => download("json"));
  loadSettings().catch(failure);
  loadList();
}
