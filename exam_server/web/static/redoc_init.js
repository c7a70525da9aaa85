/* Starts ReDoc on /redoc from the vendored standalone bundle (static/vendor/redoc). */
"use strict";

(function () {
  var root = document.getElementById("redoc");
  Redoc.init(root.getAttribute("data-openapi-url"), { hideDownloadButton: false, expandResponses: "200,201" }, root);
})();
