/* The candidate's check-in (考前检查) inside the exam page: the proctoring notice (告知-同意, versioned),
   camera permission with a live preview, "check my identity", then the result.

   Talks to the server only through the exam page's proctoring connection, proctor_client.js
   (window.examProctor, protocol v1):
     proctor.on("hello" | "state" | "identity_result" | "error", fn), proctor.state,
     proctor.consent(accepted), proctor.identityFrame(b64), proctor.setCamera(video),
     proctor.captureJpeg(video)
   Load it after proctor_client.js: <script type="module" src="/static/checkin.js"></script>.

   States (proctoring/session.py): consent_pending -> the notice; identity_pending -> camera and the
   check; manual_pending -> "a proctor will check you" (waiting; the proctor's admit makes it active);
   active -> the check-in closes and the exam starts. A refused notice or a failed check is never a
   silent block: both wait for a proctor. */

export const NOTICE_VERSION = "2026-12";
const REASONS = ["face_mismatch", "no_enrolled_photo", "no_face", "several_faces", "too_dark", "too_bright",
                 "blurred", "not_an_image", "corrupt", "too_large", "no_camera"];
const T = window.T || {};

function t(key, fallback) { return T[key] || fallback || key; }

function el(tag, attrs, children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (k === "text") { node.textContent = v; } else { node.setAttribute(k, v); }
  });
  (children || []).forEach((c) => node.appendChild(c));
  return node;
}

const S = { root: null, video: null, stream: null, proctor: null, busy: false };

function panel(id, heading, children) {
  const section = el("section", { class: "card checkin-step", id: id, "aria-labelledby": id + "-h", hidden: "" },
                     [el("h2", { id: id + "-h", text: heading }), ...children]);
  S.root.appendChild(section);
  return section;
}

function notice() {
  const items = ["what", "why", "keep", "who", "rights"].map((k) => el("li", { text: t("checkin_notice_" + k) }));
  const accept = el("button", { class: "btn btn-primary", type: "button", id: "checkin-accept",
                                text: t("checkin_accept") });
  const refuse = el("button", { class: "btn", type: "button", id: "checkin-refuse", text: t("checkin_refuse") });
  accept.addEventListener("click", () => answer(true));
  refuse.addEventListener("click", () => answer(false));
  return panel("checkin-consent", t("checkin_notice_title"), [
    el("p", { text: t("checkin_notice_intro") }), el("ul", {}, items),
    el("p", { class: "muted", text: t("checkin_notice_version").replace("{version}", NOTICE_VERSION) }),
    el("div", { class: "actions" }, [accept, refuse])]);
}

function camera() {
  S.video = el("video", { id: "checkin-video", autoplay: "", muted: "", playsinline: "", width: "320",
                          height: "240", "aria-label": t("checkin_preview") });
  S.video.muted = true;
  const start = el("button", { class: "btn", type: "button", id: "checkin-camera", text: t("checkin_camera_on") });
  const check = el("button", { class: "btn btn-primary", type: "button", id: "checkin-check",
                               text: t("checkin_check"), disabled: "" });
  const noCamera = el("button", { class: "btn", type: "button", id: "checkin-no-camera", text: t("checkin_no_camera") });
  start.addEventListener("click", startCamera);
  check.addEventListener("click", checkIdentity);
  noCamera.addEventListener("click", withoutCamera);
  return panel("checkin-identity", t("checkin_identity_title"), [
    el("p", { text: t("checkin_identity_intro") }), S.video,
    el("p", { id: "checkin-camera-status", class: "muted", role: "status", "aria-live": "polite" }),
    el("div", { class: "actions" }, [start, check, noCamera])]);
}

function status(text) { document.getElementById("checkin-camera-status").textContent = text; }

function answer(accepted) {
  if (!S.proctor.consent(accepted)) { status(t("checkin_offline")); return; }
  document.getElementById("checkin-accept").disabled = true;
  document.getElementById("checkin-refuse").disabled = true;
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { status(t("checkin_camera_unsupported")); return; }
  try {
    S.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, facingMode: "user" },
                                                           audio: false });
  } catch (err) {
    status(err && err.name === "NotAllowedError" ? t("checkin_camera_denied") : t("checkin_camera_failed"));
    return;
  }
  S.video.srcObject = S.stream;
  await S.video.play().catch(() => undefined);
  S.proctor.setCamera(S.video);  // monitoring frames start (consent was given before this step)
  document.getElementById("checkin-check").disabled = false;
  status(t("checkin_camera_ready"));
}

function checkIdentity() {
  if (S.busy) { return; }
  const b64 = S.proctor.captureJpeg(S.video);
  if (!b64) { status(t("checkin_camera_failed")); return; }
  if (!S.proctor.identityFrame(b64)) { status(t("checkin_offline")); return; }
  S.busy = true;
  document.getElementById("checkin-check").disabled = true;
  status(t("checkin_checking"));
}

/* The protocol has no "no camera" message: a blank frame is judged impossible (too dark), which sends
   the candidate to a proctor's manual check, as any impossible check does. */
function withoutCamera() {
  const canvas = el("canvas", { width: "320", height: "240" });
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, 320, 240);
  const b64 = canvas.toDataURL("image/jpeg", 0.8).split(",")[1];
  if (S.proctor.identityFrame(b64)) { S.busy = true; status(t("checkin_checking")); }
}

function waiting(reason) {
  const text = document.getElementById("checkin-wait-reason");
  text.textContent = reason && REASONS.includes(reason) ? t("checkin_reason_" + reason) : "";
}

function onResult(msg) {
  S.busy = false;
  if (msg.status === "passed") {
    status(t("checkin_passed"));
    return;  // the state change to active closes the check-in
  }
  waiting(msg.reason);
  show("manual_pending");
}

function show(state) {
  const steps = { consent_pending: "checkin-consent", identity_pending: "checkin-identity",
                  manual_pending: "checkin-wait" };
  const active = steps[state];
  S.root.hidden = !active;
  Object.values(steps).forEach((id) => { document.getElementById(id).hidden = id !== active; });
  if (state === "manual_pending" && S.video && S.video.srcObject) {
    document.getElementById("checkin-wait").appendChild(S.video);  // the proctor may ask to see you
  }
}

export function startCheckin(proctor, host) {
  S.proctor = proctor;
  S.root = el("div", { id: "checkin", class: "checkin", hidden: "" });
  host.prepend(S.root);
  notice();
  camera();
  panel("checkin-wait", t("checkin_wait_title"), [el("p", { text: t("checkin_wait_body") }),
                                                  el("p", { id: "checkin-wait-reason", class: "muted" })]);
  proctor.on("hello", (msg) => {
    if (msg.notice_version && msg.notice_version !== NOTICE_VERSION) {
      console.warn("proctoring notice version: server", msg.notice_version, "page", NOTICE_VERSION);
    }
    show(msg.state);
  });
  proctor.on("state", show);
  proctor.on("identity_result", onResult);
  proctor.on("error", (msg) => { S.busy = false; if (msg) { status(t("checkin_error_" + msg.code, msg.detail)); } });
  if (proctor.state) { show(proctor.state); }
}

function boot() {
  const host = document.getElementById("exam-root");
  if (window.examProctor && host) { startCheckin(window.examProctor, host); return true; }
  return false;
}

if (!boot()) { window.addEventListener("load", boot, { once: true }); }
