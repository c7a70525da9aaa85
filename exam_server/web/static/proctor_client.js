/* The exam page's proctoring connection (protocol v1, docs/proctoring-protocol.md).

   Starts when exam.js announces a proctored attempt ("exam:attempt" with data.proctored), stops on
   "exam:closed". It sends heartbeats and browser events (tab hidden, blur, fullscreen, copy/paste/cut,
   a devtools heuristic, the screen count), keeps unacknowledged events in sessionStorage while
   offline and resends them from hello.resume_from in order, reconnects with exponential backoff and
   jitter, and obeys the proctor: warn (a message), pause (covers the page, answering blocked) /
   resume, terminate (back to the exam list with a message).

   API for the check-in module (consent, camera, identity check), also as window.examProctor:
     proctor.on(name, fn)        name: "hello" (msg), "state" (state), "identity_result" (msg),
                                 "control" (msg), "error" (msg), "closed" ({code, reason})
     proctor.state               the session state from the last hello/state change, or null
     proctor.consent(accepted)   send the 告知-同意 answer (notice_version from hello)
     proctor.identityFrame(b64)  send a live frame (base64 JPEG) for the identity check
     proctor.setCamera(video)    the camera is on: a monitoring frame from this playing <video>
                                 every FRAME_MS; setCamera(null): camera off (frames stop)
     proctor.captureJpeg(video)  a base64 JPEG (320 px wide) of the video's current picture
   The page covers itself while paused or waiting for a proctor's manual check; the check-in
   states (consent_pending, identity_pending) are left to the check-in module. */

const FRAME_MS = 10000;
const MAX_BUFFERED = 500;
const MAX_BACKOFF_MS = 30000;
const MAX_JPEG = 150 * 1024;
const STOP_CODES = new Set([4003, 4004, 4009, 4400, 4401, 4402, 4413]);
const T = window.T || {};

const listeners = {};
const S = {
  attemptId: null, ws: null, open: false, stopped: true, seq: 0, pending: [], state: null, hello: null,
  backoff: 0, retryTimer: null, heartbeatTimer: null, frameTimer: null, video: null, watchTimer: null,
  devtools: false, screens: null
};

function emit(name, value) { (listeners[name] || []).forEach((fn) => { try { fn(value); } catch (e) { console.error(e); } }); }

function storeKey() { return "exam.proctor." + S.attemptId; }

function persist() {
  try { sessionStorage.setItem(storeKey(), JSON.stringify({ seq: S.seq, pending: S.pending })); } catch (e) { /* full */ }
}

function restore() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storeKey()) || "null");
    if (saved) { S.seq = saved.seq || 0; S.pending = saved.pending || []; }
  } catch (e) { S.seq = 0; S.pending = []; }
}

function deviceId() {
  let id = localStorage.getItem("exam.device");
  if (!id) {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    try { localStorage.setItem("exam.device", id); } catch (e) { /* private mode: a new id per load */ }
  }
  return id;
}

function sendRaw(message) {
  if (S.open && S.ws && S.ws.readyState === WebSocket.OPEN) { S.ws.send(JSON.stringify(message)); return true; }
  return false;
}

/* A seq'd client event: buffered until acked (frames are never buffered: too large). */
function record(message, buffer) {
  S.seq += 1;
  const full = Object.assign({ v: 1, seq: S.seq, at: new Date().toISOString() }, message);
  if (buffer) {
    S.pending.push(full);
    if (S.pending.length > MAX_BUFFERED) { S.pending.shift(); }  // the server records the gap
    persist();
  }
  sendRaw(full);
}

function browserEvent(kind, data) { if (!S.stopped) { record({ type: "event", kind: kind, data: data || null }, true); } }

/* ---------- connection ---------- */

function connect() {
  if (S.stopped || S.ws) { return; }
  Auth.fresh().then((auth) => {
    if (S.stopped || S.ws) { return; }
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(scheme + location.host + "/ws/proctoring/attempts/" + S.attemptId);
    S.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ v: 1, type: "auth", token: auth.access, last_seq: S.seq,
                                               device_id: deviceId() }));
    ws.onmessage = (event) => onMessage(JSON.parse(event.data));
    ws.onclose = (event) => onClose(event.code, event.reason);
  }, () => scheduleReconnect());
}

function onHello(msg) {
  S.open = true;
  S.backoff = 0;
  S.hello = msg;
  setOnline(true);
  S.pending = S.pending.filter((m) => m.seq > msg.resume_from);
  if (S.seq < msg.resume_from) { S.seq = msg.resume_from; }
  S.pending.forEach((m) => sendRaw(m));  // in order, each once on the server
  persist();
  clearInterval(S.heartbeatTimer);
  S.heartbeatTimer = setInterval(() => { if (S.open) { record({ type: "heartbeat" }, false); } },
                                 (msg.heartbeat_s || 5) * 1000);
  setState(msg.state);
  emit("hello", msg);
  checkScreens();
}

function onMessage(msg) {
  if (msg.type === "hello") { onHello(msg); return; }
  if (msg.type === "ack") {
    S.pending = S.pending.filter((m) => m.seq > msg.seq);
    persist();
    return;
  }
  if (msg.type === "control") { onControl(msg); return; }
  if (msg.type === "identity_result") {
    if (msg.status !== "passed") { setState("manual_pending"); } else { setState("active"); }
    emit("identity_result", msg);
    return;
  }
  if (msg.type === "error") { emit("error", msg); }
}

function onClose(code, reason) {
  S.ws = null;
  S.open = false;
  clearInterval(S.heartbeatTimer);
  emit("closed", { code: code, reason: reason });
  if (S.stopped) { return; }
  if (code === 4020) { terminated(reason); return; }
  if (code === 4010) { stop(); showNotice(T.proctor_superseded); return; }
  if (STOP_CODES.has(code)) { stop(); if (code !== 4009) { showNotice((T.proctor_refused || "") + " " + reason); } return; }
  setOnline(false);
  if (code === 4001) { Auth.refresh().then(scheduleReconnect, () => goToLogin()); return; }
  scheduleReconnect();
}

function scheduleReconnect() {
  if (S.stopped) { return; }
  S.backoff = Math.min(MAX_BACKOFF_MS, S.backoff ? S.backoff * 2 : 1000);
  const wait = S.backoff / 2 + Math.random() * S.backoff / 2;  // jitter: a room does not reconnect in step
  clearTimeout(S.retryTimer);
  S.retryTimer = setTimeout(connect, wait);
}

function stop() {
  S.stopped = true;
  clearInterval(S.heartbeatTimer);
  clearInterval(S.frameTimer);
  clearInterval(S.watchTimer);
  clearTimeout(S.retryTimer);
  if (S.ws) { S.ws.close(1000); S.ws = null; }
}

/* ---------- the proctor's controls ---------- */

function onControl(msg) {
  if (msg.action === "warn") { showNotice(msg.message || T.proctor_warning_title, T.proctor_warning_title); }
  else if (msg.action === "pause") { setState("paused"); }
  else if (msg.action === "resume" || msg.action === "admit") { setState("active"); }
  else if (msg.action === "terminate") { terminated(msg.message); }
  emit("control", msg);
}

function terminated(message) {
  stop();
  setState("ended");
  cover(T.proctor_terminated, message || "");
  setTimeout(() => { location.href = "/student"; }, 5000);
}

function setState(state) {
  S.state = state;
  document.getElementById("exam-root")?.setAttribute("data-proctor-state", state);
  if (state === "paused") { cover(T.proctor_paused_title, T.proctor_paused_body); }
  else if (state === "manual_pending") { cover(T.proctor_waiting_title, T.proctor_waiting_body); }
  else if (state !== "ended") { uncover(); }
  emit("state", state);
}

/* ---------- page cover and messages ---------- */

function cover(title, body) {
  let node = document.getElementById("proctor-cover");
  if (!node) {
    node = el("div", { id: "proctor-cover", class: "dialog-backdrop proctor-cover", role: "alertdialog", "aria-modal": "true" });
    document.body.appendChild(node);
  }
  node.replaceChildren(el("div", { class: "dialog" }, [el("h2", { text: title || "" }), el("p", { text: body || "" })]));
  node.hidden = false;
  const paper = document.getElementById("paper");
  if (paper) { paper.inert = true; }  // answering is blocked, not just hidden
}

function uncover() {
  const node = document.getElementById("proctor-cover");
  if (node) { node.hidden = true; }
  const paper = document.getElementById("paper");
  if (paper) { paper.inert = false; }
}

function showNotice(text, title) {
  const notice = document.getElementById("notice");
  if (!notice || !text) { return; }
  notice.hidden = false;
  notice.setAttribute("data-kind", "proctor");
  notice.replaceChildren(el("strong", { text: title || T.proctor_notice_title || "" }), el("p", { text: text }));
}

function setOnline(online) { document.getElementById("exam-root")?.setAttribute("data-proctor-online", String(online)); }

/* ---------- browser events ---------- */

function checkScreens() {
  if (!window.screen || typeof window.screen.isExtended !== "boolean") { return; }
  const screens = window.screen.isExtended ? 2 : 1;
  if (screens !== S.screens) { S.screens = screens; browserEvent("screen_count", { screens: screens }); }
}

function checkDevtools() {
  const open = window.outerWidth - window.innerWidth > 160 || window.outerHeight - window.innerHeight > 160;
  if (open && !S.devtools) { browserEvent("devtools_opened", { heuristic: "window_size" }); }
  S.devtools = open;
}

function watchBrowser() {
  document.addEventListener("visibilitychange", () => browserEvent(document.hidden ? "tab_hidden" : "tab_visible"));
  window.addEventListener("blur", () => browserEvent("window_blur"));
  window.addEventListener("focus", () => browserEvent("window_focus"));
  document.addEventListener("fullscreenchange", () =>
    browserEvent(document.fullscreenElement ? "fullscreen_enter" : "fullscreen_exit"));
  ["copy", "paste", "cut"].forEach((kind) => document.addEventListener(kind, () => browserEvent(kind)));
  if (window.screen && "onchange" in window.screen) { window.screen.addEventListener("change", checkScreens); }
  S.watchTimer = setInterval(() => { checkDevtools(); checkScreens(); }, 2000);
}

/* ---------- camera frames ---------- */

function captureJpeg(video) {
  if (!video || !video.videoWidth) { return null; }
  const canvas = document.createElement("canvas");
  canvas.width = 320;
  canvas.height = Math.round(320 * video.videoHeight / video.videoWidth);
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  const b64 = canvas.toDataURL("image/jpeg", 0.6).split(",")[1] || "";
  return b64.length * 3 / 4 <= MAX_JPEG ? b64 : null;
}

function setCamera(video) {
  clearInterval(S.frameTimer);
  if (S.video && !video) { browserEvent("camera_lost"); }
  if (!S.video && video && S.hello) { browserEvent("camera_restored"); }
  S.video = video || null;
  if (!video) { return; }
  S.frameTimer = setInterval(() => {
    const b64 = S.open ? captureJpeg(S.video) : null;  // offline: no frame (never buffered)
    if (b64) { record({ type: "frame", jpeg_b64: b64 }, false); }
  }, FRAME_MS);
}

/* ---------- start ---------- */

function start(attempt) {
  if (!attempt || !attempt.proctored || !S.stopped || attempt.state !== "in_progress") { return; }
  S.attemptId = attempt.attempt_id;
  S.stopped = false;
  restore();
  watchBrowser();
  window.addEventListener("online", () => { if (!S.ws) { S.backoff = 0; connect(); } });
  connect();
}

export const proctor = {
  get state() { return S.state; },
  get connected() { return S.open; },
  on(name, fn) { (listeners[name] = listeners[name] || []).push(fn); },
  consent(accepted) {
    const sent = sendRaw({ v: 1, type: "consent", accepted: !!accepted,
                           notice_version: S.hello ? S.hello.notice_version : "1",
                           language: document.documentElement.lang === "en" ? "en" : "zh" });
    if (sent) {  // the server answers nothing: the state machine's next state (proctoring/session.py)
      setState(!accepted ? "manual_pending" : S.hello && S.hello.identity_required ? "identity_pending" : "active");
    }
    return sent;
  },
  identityFrame(b64) { return sendRaw({ v: 1, type: "identity_frame", jpeg_b64: b64 }); },
  setCamera: setCamera,
  captureJpeg: captureJpeg
};
window.examProctor = proctor;

document.addEventListener("exam:attempt", (event) => start(event.detail));
document.addEventListener("exam:closed", () => stop());
if (window.examAttempt) { start(window.examAttempt); }
