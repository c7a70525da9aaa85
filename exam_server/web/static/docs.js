/* Starts Swagger UI on /docs from the vendored bundle. A file rather than an inline script, so
   the page runs under script-src 'self'; the spec's URL comes from a data- attribute.

   The vendored Swagger UI (4.15) refuses to render a document that says "openapi: 3.1.0", which
   FastAPI emits; it renders this one well when told 3.0.3. Only the displayed copy is relabelled:
   /openapi.json itself is unchanged. */
"use strict";

(function () {
  var root = document.getElementById("swagger-ui");

  function start(spec) {
    window.ui = SwaggerUIBundle({
      spec: spec,
      dom_id: "#swagger-ui",
      layout: "BaseLayout",
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
    });
  }

  fetch(root.getAttribute("data-openapi-url")).then(function (resp) { return resp.json(); }).then(function (spec) {
    if (/^3\.1\./.test(spec.openapi || "")) { spec.openapi = "3.0.3"; }
    start(spec);
  }, function (err) {
    root.textContent = "Could not load the API description: " + err;
  });
})();
