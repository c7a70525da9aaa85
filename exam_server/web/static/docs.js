/* Starts Swagger UI 5 on /docs from the vendored bundle (static/vendor/swagger-ui). A file rather
   than an inline script, so the page runs under script-src 'self'; the spec's URL comes from a
   data- attribute. Swagger UI 5 reads OpenAPI 3.1 (what FastAPI emits) as it is. */
"use strict";

(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    docExpansion: "list",
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis]
  });
})();
