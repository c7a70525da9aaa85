/* The student's page: what proctoring recorded about me (consent, events, flags, decisions, and
   my own frames while they are kept). Shown only when there is something to show. */

function when(iso) {
  return iso ? formatDateTime(new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z")) : "—";
}

function word(prefix, value) { return T[prefix + value] || String(value); }

function consentLine(consents) {
  if (!consents.length) { return T.rec_consent_none; }
  return consents.map(function (c) {
    return c.accepted ? fmt("rec_consent_yes", { at: when(c.at), version: c.notice_version })
                      : fmt("rec_consent_no", { at: when(c.at) });
  }).join("; ");
}

function list(items, render) {
  return el("ul", { "class": "rec-list" }, items.map(render));
}

function framesBlock(rec) {
  const box = el("details", { "class": "rec-frames" }, [el("summary", { text: fmt("rec_frames", { n: rec.frames.length }) })]);
  if (rec.purged_at) {
    box.appendChild(el("p", { "class": "muted", text: fmt("rec_frames_purged", { at: when(rec.purged_at) }) }));
    return box;
  }
  const grid = el("div", { "class": "rec-frame-grid" });
  box.appendChild(grid);
  box.addEventListener("toggle", function () {
    if (!box.open || grid.childElementCount) { return; }
    rec.frames.forEach(function (frame) { grid.appendChild(frameTile(frame)); });
  });
  return box;
}

/* Images need the bearer token, so they are fetched and shown from a blob URL. */
function frameTile(frame) {
  const figure = el("figure", { "class": "rec-frame" }, [el("figcaption", { text: when(frame.taken_at) })]);
  if (!frame.kept) { figure.appendChild(el("span", { "class": "muted", text: T.rec_frame_gone })); return figure; }
  Auth.fresh().then(function (auth) {
    return fetch("/api/proctoring/my-frames/" + frame.frame_id, { headers: { "Authorization": "Bearer " + auth.access } });
  }).then(function (resp) {
    if (!resp.ok) { throw new Error(String(resp.status)); }
    return resp.blob();
  }).then(function (blob) {
    figure.insertBefore(el("img", { src: URL.createObjectURL(blob), alt: when(frame.taken_at), width: "160" }), figure.firstChild);
  }).catch(function () { figure.appendChild(el("span", { "class": "muted", text: T.rec_frame_gone })); });
  return figure;
}

function recordCard(rec) {
  const decision = rec.decision ? word("rec_decision_", rec.decision) + (rec.decision_note ? " · " + rec.decision_note : "")
                                : T.rec_decision_none;
  return el("li", { "class": "rec-card", "data-session": rec.session_id }, [
    el("h3", { text: rec.exam_title }),
    el("dl", { "class": "rec-facts" }, [
      el("dt", { text: T.rec_state }), el("dd", { text: word("wall_state_", rec.state) }),
      el("dt", { text: T.rec_consent }), el("dd", { text: consentLine(rec.consents) }),
      el("dt", { text: T.rec_decision }), el("dd", { "data-field": "decision", text: decision })
    ]),
    el("h4", { text: T.rec_flags }),
    rec.flags.length ? list(rec.flags, function (f) {
      return el("li", { "class": "rec-flag", "data-rule": f.rule,
                        text: word("wall_rule_", f.rule) + " (" + word("wall_sev_", f.severity) + ") " + when(f.started_at) +
                              " · " + word("rec_flag_status_", f.status) + (f.review_note ? " · " + f.review_note : "") });
    }) : el("p", { "class": "muted", text: T.rec_flags_none }),
    rec.actions.length ? el("h4", { text: T.rec_actions }) : null,
    rec.actions.length ? list(rec.actions, function (a) {
      return el("li", { text: when(a.at) + " " + word("rec_action_", a.action) + (a.message ? ": " + a.message : "") });
    }) : null,
    el("details", { "class": "rec-events" }, [
      el("summary", { text: fmt("rec_events", { n: rec.events_total }) }),
      list(rec.events, function (e) { return el("li", { "data-kind": e.kind, text: when(e.received_at) + " " + e.kind }); }),
      rec.heartbeats ? el("p", { "class": "muted", text: fmt("rec_heartbeats", { n: rec.heartbeats }) }) : null
    ]),
    framesBlock(rec)
  ]);
}

function load() {
  const section = document.getElementById("proctor-records");
  if (!section || !Auth.load()) { return; }
  api("GET", "/api/proctoring/my-records").then(function (result) {
    if (!result.ok || !result.data.length) { return; }
    document.getElementById("proctor-record-list").replaceChildren(...result.data.map(recordCard));
    section.hidden = false;
  }).catch(function () {});
}

load();
