/* The proctor wall's tiles: one per candidate, built from the snapshot and patched by live
   updates. Pure DOM, no network: proctor_wall.js owns the socket. Uses api.js's el, T and fmt. */

const ACTIONS = {
  warn: ["active", "paused", "identity_pending", "manual_pending", "consent_pending"],
  pause: ["active"],
  resume: ["paused"],
  admit: ["manual_pending", "identity_pending"],
  terminate: ["consent_pending", "identity_pending", "manual_pending", "active", "paused"]
};

function label(prefix, value) {
  if (value === null || value === undefined || value === "") { return T.wall_none || "—"; }
  return T[prefix + value] || String(value);
}

/* Stored times are UTC; a time without an offset is read as UTC, not as local time. */
function toDate(iso) {
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
}

/* A flag is one rule's violation from its start: the same key from the snapshot (with an id)
   and from live updates (without one). */
export function flagKey(flag) {
  return flag.rule + "@" + toDate(flag.started_at).getTime();
}

function timeText(iso) {
  return iso ? formatDateTime(toDate(iso)) : (T.wall_never || "—");
}

function flagItem(flag) {
  const ended = flag.ended_at ? " · " + fmt("wall_flag_ended", { at: timeText(flag.ended_at) }) : "";
  return el("li", { "class": "wall-flag sev-" + flag.severity, "data-rule": flag.rule, "data-flag": flagKey(flag),
                    text: label("wall_rule_", flag.rule) + " (" + label("wall_sev_", flag.severity) + ") · " +
                          timeText(flag.started_at) + ended });
}

function who(tile) {
  const parts = [tile.name];
  if (tile.admission_no) { parts.push(fmt("wall_admission", { no: tile.admission_no })); }
  if (tile.seat_no) { parts.push(fmt("wall_seat", { seat: tile.seat_no })); }
  return parts.join(" · ");
}

function buttons(tile, onCommand) {
  const box = el("div", { "class": "wall-actions" });
  Object.keys(ACTIONS).forEach(function (action) {
    const usable = tile.session_id && ACTIONS[action].indexOf(tile.state) >= 0;
    const btn = el("button", { type: "button", "class": action === "terminate" ? "btn btn-danger" : "btn",
                               "data-action": action, disabled: !usable, text: T["wall_cmd_" + action] });
    btn.addEventListener("click", function () { onCommand(tile, action); });
    box.appendChild(btn);
  });
  return box;
}

export function renderTile(tile, onCommand) {
  const flags = tile.flags || [];
  const node = el("li", { "class": "wall-tile state-" + (tile.state || "absent") + (flags.length ? " flagged" : ""),
                          "data-user": tile.user_id, "data-session": tile.session_id || "" }, [
    el("div", { "class": "wall-who", text: who(tile) }),
    el("div", { "class": "wall-state" }, [
      el("span", { "class": "wall-dot " + (tile.connected ? "on" : "off"),
                   title: tile.connected ? T.wall_connected : T.wall_disconnected,
                   text: tile.connected ? T.wall_connected : T.wall_disconnected }),
      el("span", { "class": "wall-badge", "data-field": "state",
                   text: tile.session_id ? label("wall_state_", tile.state) : T.wall_not_started })
    ]),
    el("dl", { "class": "wall-facts" }, [
      el("dt", { text: T.wall_identity }), el("dd", { "data-field": "identity", text: label("wall_id_", tile.identity) }),
      el("dt", { text: T.wall_risk }), el("dd", { "data-field": "risk", text: Number(tile.risk_score || 0).toFixed(1) }),
      el("dt", { text: T.wall_last_seen }), el("dd", { text: timeText(tile.last_seen_at) })
    ]),
    el("ul", { "class": "wall-flags", "aria-label": T.wall_flags }, flags.map(flagItem)),
    buttons(tile, onCommand)
  ]);
  return node;
}

/* Merge one live update into the tile list; returns false when the session is unknown here
   (a candidate who connected after the snapshot: the caller fetches a new one). */
export function applyUpdate(tiles, update) {
  const tile = tiles.find(function (t) { return t.session_id === update.session_id; }) ||
    (update.payload.user_id ? tiles.find(function (t) { return t.user_id === update.payload.user_id; }) : null);
  if (!tile) { return false; }
  if (update.type === "session") {
    Object.assign(tile, update.payload, { session_id: update.session_id });
  } else if (update.type === "flag") {
    const flags = tile.flags || (tile.flags = []);
    const key = flagKey(update.payload);
    const at = flags.findIndex(function (f) { return flagKey(f) === key; });
    if (at >= 0) { flags[at] = Object.assign(flags[at], update.payload); } else { flags.push(update.payload); }
  }
  return true;
}
