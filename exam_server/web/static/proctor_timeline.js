/* One proctoring session's timeline on the review page: the score with its explanation, flags
   (confirm or dismiss with a note), frames, events and every human act; the final decision.
   Uses api.js's globals (T, fmt, el, formatDateTime). Every decision is the API's. */

const when = (iso) => (iso ? formatDateTime(new Date(iso)) : "–");
const ruleName = (rule) => T["prv_rule_" + rule] || rule;

function explanation(score) {
  const rows = score.lines.map((line) => el("tr", { "data-rule": line.rule }, [
    el("td", { text: ruleName(line.rule) }),
    el("td", { text: String(line.flags) + (line.dismissed ? " (" + fmt("prv_dismissed_n", { n: line.dismissed }) + ")" : "") }),
    el("td", { text: line.unit === "per_occurrence" ? fmt("prv_times", { n: line.occurrences })
                                                     : fmt("prv_minutes", { n: line.minutes.toFixed(1) }) }),
    el("td", { text: String(line.weight) + " " + (line.unit === "per_occurrence" ? T.prv_per_time : T.prv_per_minute) }),
    el("td", { text: line.points.toFixed(2) })
  ]));
  return el("div", {}, [
    el("h3", { text: fmt("prv_score_is", { score: score.total.toFixed(2) }) }),
    el("p", { "class": "prv-hint", text: T.prv_formula }),
    el("table", { "class": "data-table", "data-testid": "score-explanation" }, [
      el("thead", {}, [el("tr", {}, [T.prv_rule, T.prv_flags, T.prv_amount, T.prv_weight, T.prv_points]
        .map((h) => el("th", { scope: "col", text: h })))]),
      el("tbody", {}, rows)
    ])
  ]);
}

function flagCard(flag, actions) {
  const note = el("input", { type: "text", maxlength: "2000", "aria-label": T.prv_note, placeholder: T.prv_note,
                             value: flag.review_note || "" });
  const button = (status, label) => {
    const b = el("button", { "class": "btn", type: "button", text: label });
    b.addEventListener("click", () => actions.reviewFlag(flag.id, status, note.value.trim() || null));
    return b;
  };
  const evidence = flag.evidence || {};
  return el("div", { "class": "prv-flag", "data-flag": String(flag.id), "data-status": flag.status }, [
    el("div", { "class": "prv-flag-head" }, [
      el("strong", { text: ruleName(flag.rule) }),
      el("span", { "class": "prv-sev prv-sev-" + flag.severity, text: T["prv_sev_" + flag.severity] || flag.severity }),
      el("span", { text: when(flag.started_at) + " → " + (flag.ended_at ? when(flag.ended_at) : T.prv_ongoing) }),
      el("span", { "class": "prv-status", text: T["prv_status_" + flag.status] || flag.status }),
      el("span", { "class": "prv-hint", text: fmt("prv_evidence_n", {
        events: (evidence.events || []).length, frames: (evidence.frames || []).length }) })
    ]),
    flag.review_note ? el("p", { "class": "prv-hint", text: T.prv_note + ": " + flag.review_note }) : null,
    el("div", { "class": "prv-flag-actions" }, [note, button("confirmed", T.prv_confirm), button("dismissed", T.prv_dismiss)])
  ]);
}

function frames(list, actions) {
  const figures = list.map((frame) => {
    const img = el("img", { alt: fmt("prv_frame_alt", { at: when(frame.taken_at) }), "data-frame": String(frame.id) });
    if (frame.image) { actions.loadImage(frame.image).then((src) => { img.src = src; }, () => {}); }
    const faces = frame.analysis ? fmt("prv_faces_n", { n: frame.analysis.faces }) : T.prv_not_analysed;
    return el("figure", {}, [frame.image ? img : el("span", { text: T.prv_purged }),
      el("figcaption", { text: when(frame.taken_at) + " · " + faces })]);
  });
  return el("div", { "class": "prv-frames" }, figures);
}

function listOf(items, render) {
  return items.length ? el("ul", { "class": "prv-events" }, items.map(render)) : el("p", { text: T.prv_none });
}

function decisionForm(session, actions) {
  const select = el("select", { id: "prv-decision", "aria-label": T.prv_decision }, ["no_issue", "warning", "violation"]
    .map((d) => el("option", { value: d, text: T["prv_decision_" + d], selected: session.decision === d })));
  const note = el("textarea", { id: "prv-decision-note", maxlength: "2000", "aria-label": T.prv_decision_note,
                                placeholder: T.prv_decision_note });
  note.value = session.decision_note || "";
  const save = el("button", { "class": "btn btn-primary", type: "button", text: T.prv_record_decision });
  save.addEventListener("click", () => actions.decide(select.value, note.value.trim() || null));
  const current = session.decision
    ? fmt("prv_decided", { decision: T["prv_decision_" + session.decision], who: session.decided_by_name || "",
                           at: when(session.decided_at) })
    : T.prv_undecided;
  return el("div", {}, [el("h3", { text: T.prv_decision }), el("p", { id: "prv-current-decision", text: current }),
    el("div", { "class": "prv-decision" }, [select, note, save])]);
}

export function renderTimeline(root, data, actions) {
  const s = data.session;
  const eventItem = (e) => el("li", { text: when(e.at) + " · " + (T["prv_event_" + e.kind] || e.kind) +
    (e.data ? " " + JSON.stringify(e.data) : "") });
  const actionItem = (a) => el("li", { "data-action": a.action, text: when(a.created_at) + " · " + (a.actor || a.actor_id) +
    " · " + (T["prv_action_" + a.action] || a.action) + (a.data && a.data.note ? " · " + a.data.note : "") });
  root.replaceChildren(
    el("p", { text: fmt("prv_session_facts", { state: s.state, identity: s.identity, heartbeats: data.heartbeats }) }),
    explanation(data.score),
    el("h3", { text: T.prv_flags }),
    data.flags.length ? el("div", {}, data.flags.map((f) => flagCard(f, actions))) : el("p", { text: T.prv_none }),
    decisionForm(s, actions),
    el("h3", { text: T.prv_frames }), frames(data.frames, actions),
    el("h3", { text: T.prv_events }), listOf(data.events, eventItem),
    el("h3", { text: T.prv_actions }), listOf(data.actions, actionItem)
  );
}
