/* The live proctor wall: picks a room, holds the wall WebSocket (auth first, then a snapshot
   and live updates), sends commands, and reconnects with backoff. Tiles: proctor_tiles.js. */

import { applyUpdate, renderTile } from "./proctor_tiles.js";

const bar = document.getElementById("wall-bar");
const examId = Number(bar.dataset.examId);
const PERMANENT = { 4003: "wall_forbidden", 4004: "wall_not_found", 4009: "wall_not_proctored" };
const state = { tiles: [], ws: null, room: null, retryMs: 1000, timer: null, pending: {}, nextId: 1, resyncAt: 0 };

function $(id) { return document.getElementById(id); }

function notice(text) {
  const box = $("page-notice");
  box.textContent = text;
  box.hidden = !text;
}

function setConn(key) {
  const node = $("wall-conn");
  node.dataset.state = key;
  node.textContent = T["wall_" + key];
}

function render() {
  const list = $("wall-tiles");
  list.replaceChildren(...state.tiles.map(function (tile) { return renderTile(tile, ask); }));
  const flagged = state.tiles.filter(function (t) { return (t.flags || []).length; }).length;
  $("wall-count").textContent = fmt("wall_count", { n: state.tiles.length, flagged: flagged });
}

function socketUrl(room) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return scheme + "//" + location.host + "/ws/proctoring/exams/" + examId + "/wall?room=" + encodeURIComponent(room);
}

function sendAuth(ws) {
  return Auth.fresh().then(function (auth) {
    if (ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify({ v: 1, type: "auth", token: auth.access })); }
  });
}

function connect() {
  clearTimeout(state.timer);
  if (state.ws) { state.ws.onclose = null; state.ws.close(); }
  setConn("connecting");
  const ws = state.ws = new WebSocket(socketUrl(state.room));
  ws.onopen = function () { sendAuth(ws).catch(function () { goToLogin(); }); };
  ws.onmessage = function (event) { onMessage(JSON.parse(event.data)); };
  ws.onclose = function (event) { onClose(event); };
}

function onMessage(msg) {
  if (msg.type === "snapshot") {
    state.tiles = msg.candidates;
    state.retryMs = 1000;
    setConn("live");
    render();
  } else if (msg.type === "session" || msg.type === "flag") {
    if (applyUpdate(state.tiles, msg)) {
      render();
      if (msg.type === "flag") { $("wall-last").textContent = fmt("wall_new_flag", { rule: T["wall_rule_" + msg.payload.rule] || msg.payload.rule }); }
    } else {
      resync();
    }
  } else if (msg.type === "command_result") {
    const p = msg.payload;
    delete state.pending[p.request_id];
    notice(p.ok ? "" : (T["wall_err_" + p.code] || T.wall_command_failed) + (p.detail ? ": " + p.detail : ""));
    if (p.ok) { $("wall-last").textContent = fmt("wall_done", { cmd: T["wall_cmd_" + p.command] }); }
  }
}

/* A session the snapshot did not know: reconnect for a fresh snapshot (at most every 5 s). */
function resync() {
  const now = Date.now();
  if (now - state.resyncAt < 5000) { return; }
  state.resyncAt = now;
  connect();
}

function onClose(event) {
  state.ws = null;
  if (PERMANENT[event.code]) {
    setConn("closed");
    notice(T[PERMANENT[event.code]] + (event.reason ? ": " + event.reason : ""));
    return;
  }
  setConn("reconnecting");
  const wait = state.retryMs;
  state.retryMs = Math.min(state.retryMs * 2, 15000);
  const again = event.code === 4001 ? function () { Auth.refresh().then(connect, goToLogin); } : connect;
  state.timer = setTimeout(again, wait);
}

function send(command) {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) { notice(T.wall_offline); return; }
  // A fresh token before each command: a shift outlives one access token.
  sendAuth(ws).then(function () {
    state.pending[command.request_id] = command;
    ws.send(JSON.stringify(command));
  }, function () { goToLogin(); });
}

/* Warn asks for a message; end asks for confirmation; the others go at once. */
function ask(tile, action) {
  const command = { v: 1, type: "command", session_id: tile.session_id, command: action,
                    request_id: "r" + (state.nextId++) };
  if (action !== "warn" && action !== "terminate") { send(command); return; }
  const dialog = $("wall-dialog");
  const warn = action === "warn";
  $("wall-dialog-title").textContent = warn ? T.wall_cmd_warn : T.wall_end_title;
  $("wall-dialog-body").textContent = warn ? tile.name : fmt("wall_end_body", { name: tile.name });
  $("wall-dialog-label").textContent = warn ? T.wall_warn_message : T.wall_end_reason;
  $("wall-dialog-text").value = warn ? T.wall_warn_default : "";
  $("wall-dialog-ok").textContent = warn ? T.wall_cmd_warn : T.wall_end_confirm;
  dialog.onclose = function () {
    if (dialog.returnValue !== "ok") { return; }
    command.message = $("wall-dialog-text").value.trim() || null;
    send(command);
  };
  dialog.returnValue = "";
  dialog.showModal();
}

function loadRooms() {
  return api("GET", "/api/proctoring/exams/" + examId + "/wall-rooms").then(function (result) {
    if (!result.ok) { notice(apiErrorText(result)); return null; }
    const data = result.data;
    $("wall-heading").textContent = T.wall_title + " · " + data.exam_title;
    if (!data.proctored) { notice(T.wall_not_proctored); return null; }
    const select = $("wall-room");
    const options = data.rooms.map(function (r) {
      const text = r.room === "none" ? T.wall_room_none : fmt("wall_room_label", { number: r.number, name: r.name });
      return el("option", { value: r.room, text: text });
    });
    if (data.whole_exam) { options.unshift(el("option", { value: "all", text: T.wall_room_all })); }
    select.replaceChildren(...options);
    const wanted = new URLSearchParams(location.search).get("room");
    if (wanted && options.some(function (o) { return o.value === wanted; })) { select.value = wanted; }
    return select.value || null;
  });
}

function start() {
  if (!Auth.load()) { goToLogin(); return; }
  showUserName();
  $("logout").addEventListener("click", signOut);
  $("wall-room").addEventListener("change", function (event) {
    state.room = event.target.value;
    const url = new URL(location.href);
    url.searchParams.set("room", state.room);
    history.replaceState(null, "", url);
    state.retryMs = 1000;
    connect();
  });
  loadRooms().then(function (room) {
    if (room === null) { setConn("closed"); return; }
    state.room = room;
    connect();
  }, function (err) {
    if (err && err.name === "AuthError") { goToLogin(); return; }
    notice(T.wall_offline);
  });
}

start();
