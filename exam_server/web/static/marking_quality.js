/* Marker quality (阅卷质量) of one unit for its lead marker: the per-marker table of
   GET /api/marking/units/{id}/quality, with re-send (回评) and send-back (退回重评, confirmed).
   Uses the globals of api.js (api, el, T, fmt, apiErrorText); the API decides who may see it. */

const ROLES = ["marker", "teacher", "reviewer", "admin"];
const $ = (id) => document.getElementById(id);
const auth = Auth.load();

const say = (message) => { $("page-notice").textContent = message; $("page-notice").hidden = !message; };
const dash = (v) => (v === null || v === undefined ? "—" : String(v));
const pct = (v) => (v === null || v === undefined ? "—" : Math.round(v * 1000) / 10 + "%");
const pm = (mean, sd) => (mean === null ? "—" : mean + " ± " + sd);

function failed(err) {
  if (err instanceof AuthError) { goToLogin(); return; }
  say(T.network_error);
}

async function loadExams() {
  const result = await api("GET", "/api/exams");
  if (!result.ok) { say(apiErrorText(result)); return; }
  $("mq-exam").replaceChildren(...result.data.map((e) => el("option", { value: String(e.id), text: e.title })));
  const params = new URLSearchParams(location.search);
  if (params.get("exam")) { $("mq-exam").value = params.get("exam"); }
  await loadUnits(params.get("unit"));
}

async function loadUnits(wanted) {
  if (!$("mq-exam").value) { return; }
  const result = await api("GET", "/api/exams/" + $("mq-exam").value + "/marking");
  if (!result.ok) { say(apiErrorText(result)); return; }
  $("mq-unit").replaceChildren(...result.data.map((u) => el("option", { value: String(u.id), text: u.name })));
  if (wanted) { $("mq-unit").value = wanted; }
}

function selfText(r) {
  if (!r.remarks) { return r.resends_waiting ? fmt("mq_waiting", { n: r.resends_waiting }) : "—"; }
  return fmt("mq_self_value", { diff: r.self_mean_abs_diff, within: pct(r.self_within), n: r.remarks });
}

function actions(r) {
  const k = el("input", { type: "number", min: "1", max: "20", value: "3", class: "mq-k",
    "aria-label": T.mq_resend_k + " · " + (r.name || r.marker_id) });
  const n = el("input", { type: "number", min: "1", max: "200", value: "5", class: "mq-n",
    "aria-label": T.mq_send_back_n + " · " + (r.name || r.marker_id) });
  const resend = el("button", { type: "button", class: "btn btn-small mq-resend", text: T.mq_resend });
  const back = el("button", { type: "button", class: "btn btn-small btn-danger mq-send-back", text: T.mq_send_back });
  resend.addEventListener("click", () => post(r, "/resend", { marker_id: r.marker_id, k: Number(k.value) }));
  back.addEventListener("click", () => {
    const last = Number(n.value);
    if (!window.confirm(fmt("mq_send_back_confirm", { n: last, name: r.name || r.marker_id }))) { return; }
    post(r, "/send-back", { marker_id: r.marker_id, last: last, reason: T.mq_send_back_reason });
  });
  return el("td", {}, [k, resend, n, back]);
}

function row(r) {
  const cells = [r.name || String(r.marker_id), r.marks, dash(r.median_seconds), dash(r.scripts_per_hour),
    pm(r.mean, r.sd), pm(r.group_mean, r.group_sd), dash(r.mean_vs_group),
    r.lead_compared ? pct(r.lead_agreement) + " (" + r.lead_compared + ")" : "—", dash(r.lead_mean_diff),
    selfText(r), pct(r.safe_middle), pct(r.third_rate), pct(r.arbitration_rate)];
  const tds = cells.map((c) => el("td", { text: String(c) }));
  return el("tr", { "data-marker": String(r.marker_id) }, [...tds, actions(r)]);
}

async function load() {
  if (!$("mq-unit").value) { return; }
  const result = await api("GET", "/api/marking/units/" + $("mq-unit").value + "/quality");
  if (!result.ok) { say(apiErrorText(result)); $("mq-table").hidden = true; return; }
  $("mq-rows").replaceChildren(...result.data.markers.map(row));
  $("mq-table").hidden = !result.data.markers.length;
  if (!result.data.markers.length) { $("mq-status").textContent = T.mq_empty; }
}

async function post(r, tail, body) {
  const result = await api("POST", "/api/marking/units/" + $("mq-unit").value + tail, body);
  if (!result.ok) { say(apiErrorText(result)); return; }
  say("");
  const d = result.data;
  $("mq-status").textContent = tail === "/resend" ? fmt("mq_resent", { sent: d.sent, name: r.name || r.marker_id })
    : fmt("mq_sent_back", { tasks: d.tasks, voided: d.voided });
  await load();
}

if (!auth) {
  goToLogin();
} else if (ROLES.indexOf(auth.user && auth.user.role) < 0) {
  location.href = homeFor(auth.user);
} else {
  showUserName();
  $("logout").addEventListener("click", signOut);
  $("mq-exam").addEventListener("change", () => loadUnits().catch(failed));
  $("mq-pick").addEventListener("submit", (event) => { event.preventDefault(); load().catch(failed); });
  loadExams().then(() => (new URLSearchParams(location.search).get("unit") ? load() : null)).catch(failed);
}
