// Mounts pgdeck's widgets on the page that has their mount points: the result grid and chart over the result
// JSON, the graphical plan next to the plan table, Format SQL (button and Shift-Alt-F), a saved query's chart.
(function () {
  "use strict";

  function jsonOf(id) {
    var node = document.getElementById(id);
    if (!node) return undefined;
    try { return JSON.parse(node.textContent); } catch (e) { return undefined; }
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; },
        function () { return { ok: false, data: { error: { message: "HTTP " + response.status } } }; });
    });
  }

  function mountGrid() {
    var node = document.getElementById("query-grid");
    var result = jsonOf("query-result-json");
    if (!node || !result || !window.PgdeckGrid) return;
    var form = document.getElementById("query-form");
    var exportButton = form && form.querySelector("button[value=export_csv]");
    window.pgdeckGrid = window.PgdeckGrid.mount(node, result, {
      height: "min(60vh, 640px)",
      exportAll: exportButton ? function () { form.requestSubmit(exportButton); } : null,
    });
    var table = document.querySelector("#query-result .results-scroll");
    if (table) table.hidden = true; // the plain table stays for pages without JavaScript
  }

  // One save at a time: two quick changes (a type, then the columns) sent at once could land in the wrong order
  // and leave the older chart saved. A change made while a save is in flight is sent when it returns (the latest
  // only), and "saved" is said only when nothing is left to send.
  function chartSaver(url, status) {
    if (!url) return null;
    var inFlight = false;
    var pending = null;
    function send(config) {
      inFlight = true;
      status.textContent = "Saving chart…";
      postJson(url, { chart: config }).then(function (reply) {
        if (pending) return;
        status.textContent = reply.ok ? "Chart saved with the query." : (reply.data.error || {}).message || "Not saved";
      }, function () {
        if (!pending) status.textContent = "Chart not saved: the server did not answer.";
      }).then(function () {
        inFlight = false;
        if (pending) {
          var next = pending;
          pending = null;
          send(next);
        }
      });
    }
    return function (config) {
      if (inFlight) {
        pending = config;
        status.textContent = "Saving chart…";
        return;
      }
      send(config);
    };
  }

  function mountChart() {
    var node = document.getElementById("query-chart");
    var result = jsonOf("query-result-json");
    var box = document.getElementById("query-chart-box");
    if (!node || !result || !window.PgdeckChart || !(result.columns || []).length) return;
    var status = document.getElementById("query-chart-status");
    var mount = function () {
      if (node.pgdeckChart) return;
      window.PgdeckChart.mount(node, result, jsonOf("query-chart-config") || null,
        chartSaver(node.getAttribute("data-save-url"), status));
    };
    if (box && !box.open) box.addEventListener("toggle", mount, { once: true }); else mount();
  }

  function mountPlan() {
    var node = document.getElementById("query-plan-graph");
    var plan = jsonOf("query-plan-json");
    if (!node || !plan || !window.PgdeckPlan) return;
    var editor = window.pgdeckQueryEditor;
    window.PgdeckPlan.mount(node, plan, { query: editor ? editor.getValue() : "", height: "560px" });
  }

  function mountCompare() {
    var node = document.getElementById("plan-compare");
    var plans = jsonOf("plan-compare-json");
    if (!node || !plans || !window.PgdeckPlan) return;
    window.PgdeckPlan.mount(node, plans.a, { compareWith: plans.b, labels: plans.labels, query: plans.query_a,
      compareQuery: plans.query_b, height: "620px" });
  }

  function formatSql(button) {
    var editor = window.pgdeckQueryEditor;
    var textarea = document.getElementById("id_sql");
    var status = document.getElementById("run-status");
    var sql = editor ? editor.getValue() : textarea.value;
    postJson(button.getAttribute("data-format-url"), { sql: sql }).then(function (reply) {
      if (reply.ok) {
        if (editor) editor.setValue(reply.data.sql); else textarea.value = reply.data.sql;
        if (status) status.textContent = "Formatted.";
      } else {
        if (status) status.textContent = (reply.data.error || {}).message || "Not formatted.";
        if (editor && reply.data.error && reply.data.error.position) editor.markError(reply.data.error.position);
      }
    }, function () { if (status) status.textContent = "Not formatted: the server did not answer."; });
  }

  function hookFormat() {
    var button = document.getElementById("format-button");
    if (!button) return;
    button.addEventListener("click", function () { formatSql(button); });
    // Shift-Alt-F anywhere on the page (the editor's own keymap has the same hook: options.onFormat)
    document.addEventListener("keydown", function (event) {
      if (event.shiftKey && event.altKey && (event.key === "F" || event.key === "f" || event.code === "KeyF")) {
        event.preventDefault();
        formatSql(button);
      }
    });
    window.pgdeckFormatSql = function () { formatSql(button); };
  }

  function mountSavedChart() {
    var node = document.getElementById("saved-chart");
    if (!node || !window.PgdeckChart) return;
    var status = document.getElementById("saved-chart-status");
    var button = document.getElementById("saved-chart-run");
    button.addEventListener("click", function () {
      button.disabled = true;
      status.textContent = "Running…";
      postJson(node.getAttribute("data-run-url"), {}).then(function (reply) {
        button.disabled = false;
        if (!reply.ok) { status.textContent = (reply.data.error || {}).message || "The query failed."; return; }
        status.textContent = "";
        var saver = reply.data.editable ? chartSaver(node.getAttribute("data-save-url"), status) : null;
        var field = document.getElementById("id_chart"); // the form's copy: keep it in step, or Save reverts it
        var save = saver && function (config) {
          if (field) field.value = JSON.stringify(config);
          saver(config);
        };
        window.PgdeckChart.mount(node, reply.data.result, reply.data.chart, save);
      }, function () { button.disabled = false; status.textContent = "The server did not answer."; });
    });
    if (node.getAttribute("data-autorun") === "1") button.click();
  }

  function init() {
    mountGrid(); mountChart(); mountPlan(); mountCompare(); hookFormat(); mountSavedChart();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
