/* OCR in marking, on the marking page: the scanned crops of a task shown together (fetched with the
   marker's token, never cached), and the lead's audit of the machine's work: blanks it scored,
   empty boxes it scored 0, and human marks it disagreed with. "Review" sends a machine score to the
   problem queue, where the lead's mark overrides it. The API decides who sees what. */
"use strict";

var MarkingOcr = (function () {
  var shown = [];

  function authBlob(url) {
    return Auth.fresh().then(function (a) {
      return fetch(url, { headers: { "Authorization": "Bearer " + a.access }, cache: "no-store" });
    }).then(function (resp) { return resp.ok ? resp.blob() : null; });
  }

  function image(url, alt) {
    var img = el("img", { alt: alt, class: "marking-crop" });
    authBlob(url).then(function (blob) {
      if (!blob) { img.alt = T.marking_crop_missing; return; }
      var href = URL.createObjectURL(blob);
      shown.push(href);
      img.src = href;
    }).catch(function () { img.alt = T.marking_crop_missing; });
    return img;
  }

  function showCrops(box, crops) {
    shown.forEach(function (href) { URL.revokeObjectURL(href); });
    shown = [];
    box.replaceChildren.apply(box, crops.map(function (c) {
      return el("figure", {}, [image(c.url, fmt("marking_crop_alt", { n: c.n + 1 })),
        el("figcaption", { text: fmt("marking_crop_alt", { n: c.n + 1 }) })]);
    }));
  }

  function audit(examId, say) {
    var $ = function (id) { return document.getElementById(id); };
    var status = $("marking-audit-status");

    function rows(list, render) {
      $("marking-audit-table").hidden = !list.length;
      status.textContent = list.length ? "" : T.marking_audit_none;
      $("marking-audit-rows").replaceChildren.apply($("marking-audit-rows"), list.map(render));
    }

    function review(id) {
      api("POST", "/api/marking/readings/" + id + "/review").then(function (result) {
        say(result.ok ? T.marking_audit_sent : apiErrorText(result));
      }).catch(function () { say(T.network_error); });
    }

    function machine(decision) {
      api("GET", "/api/exams/" + examId() + "/marking/machine?decision=" + decision).then(function (result) {
        if (!result.ok) { status.textContent = apiErrorText(result); return; }
        rows(result.data, function (r) {
          var button = el("button", { class: "btn btn-link", type: "button", text: T.marking_audit_review });
          button.addEventListener("click", function () { review(r.id); });
          return el("tr", {}, [el("td", { text: r.unit || "—" }), el("td", { text: String(r.blank) }),
            el("td", { text: r.read ? r.read + " (" + r.confidence.toFixed(4) + ")" : "—" }),
            el("td", { text: T["ocr_decision_" + r.decision] || r.decision }),
            el("td", {}, [image(r.image, r.read || T.ocr_decision_blank)]), el("td", {}, [button])]);
        });
      }).catch(function () { say(T.network_error); });
    }

    function flags() {
      api("GET", "/api/exams/" + examId() + "/marking/flags").then(function (result) {
        if (!result.ok) { status.textContent = apiErrorText(result); return; }
        rows(result.data, function (f) {
          var check = f.checks[0] || {};
          return el("tr", {}, [el("td", { text: f.unit }), el("td", { text: check.blank || "—" }),
            el("td", { text: fmt("marking_flag_text", { human: check.human, machine: check.machine }) }),
            el("td", { text: T["marking_round_" + f.round] || f.round }), el("td", { text: check.read || "" }),
            el("td", { text: f.token.slice(0, 8) })]);
        });
      }).catch(function () { say(T.network_error); });
    }

    $("marking-audit-scored").addEventListener("click", function () { machine("scored"); });
    $("marking-audit-blank").addEventListener("click", function () { machine("blank"); });
    $("marking-audit-flags").addEventListener("click", flags);
  }

  return { showCrops: showCrops, audit: audit };
}());
