// Query workspace page: CodeMirror on the SQL textarea, tabs with server-side drafts (tabs.js), runs through the
// page's JSON endpoint with one result panel per statement (results.js). Ctrl/Cmd-Enter runs the selection, or
// else the statement under the cursor (the server splits it with PostgreSQL's own lexer); Shift-Ctrl/Cmd-Enter
// runs the whole script; the Run button runs the selection, or else the whole script. Names from the schema
// browser are inserted, error positions are marked, Cancel stops an in-flight run. Without JS the form works.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function newToken() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  // PostgreSQL counts characters (code points); the editor counts UTF-16 units.
  function codePoints(text) { return Array.from(text).length; }

  function jsonNode(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function init() {
    var form = document.getElementById("query-form");
    var textarea = document.getElementById("id_sql");
    if (!form || !textarea) return;
    var bar = document.getElementById("workspace-bar");
    var resultsArea = document.getElementById("results-area");
    var runButton = document.getElementById("run-button");
    var cancelButton = document.getElementById("cancel-button");
    var status = document.getElementById("run-status");
    var wsStatus = document.getElementById("workspace-status");
    var tokenInput = form.querySelector("input[name=run_token]");
    var tabIdInput = document.getElementById("tab-id");
    var targetSelect = document.getElementById("tab-target");
    var state = jsonNode("workspace-state") || { tabs: [], closed: [], targets: ["default"] };
    var editor = null;
    var tabs = null;
    var running = false;
    var bypass = false;  // set when a run must go through the plain form (named parameters to fill in)

    if (window.PgDeckSQLEditor) {
      editor = window.PgDeckSQLEditor.create(textarea, {
        schema: jsonNode("query-completion") || {}, defaultSchema: "public", upperCaseKeywords: true,
        maxHeight: "50vh", onRun: function () { run("meant"); },
      });
      window.pgdeckQueryEditor = editor;
      editor.view.dom.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && event.shiftKey && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          event.stopPropagation();
          run("all");
        }
      }, true);
    }

    // Ctrl/Cmd-Enter and Shift-Ctrl/Cmd-Enter also work outside the editor (in the grid, on a button).
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
      if (editor && editor.view.dom.contains(event.target)) return;  // the editor's own keys handle it
      if (event.target.closest && event.target.closest("input, select, .ws-tab")) return;
      event.preventDefault();
      run(event.shiftKey ? "all" : "meant");
    });

    function text() { return editor ? editor.getValue() : textarea.value; }

    function setStatus(message, isError) {
      wsStatus.textContent = message || "";
      wsStatus.classList.toggle("error", !!isError);
    }

    // ---------------------------------------------------------------- what to run
    function pick(how) {
      var full = text();
      if (!editor || how === "all") return { sql: full, base: 0 };
      var range = editor.view.state.selection.main;
      if (!range.empty) {
        return { sql: full.slice(range.from, range.to), base: codePoints(full.slice(0, range.from)) };
      }
      if (how === "meant") return { sql: full, base: 0, cursor: codePoints(full.slice(0, range.head)) };
      return { sql: full, base: 0 };
    }

    function params() {
      var values = {};
      form.querySelectorAll("input[name^=param_]").forEach(function (input) {
        values[input.name.slice(6)] = input.value;
      });
      return values;
    }

    function clearFormErrors() {
      form.querySelectorAll(".ws-errorlist").forEach(function (node) { node.remove(); });
      document.querySelectorAll("#query-error, #query-result, #query-plan").forEach(function (node) {
        if (!resultsArea.contains(node)) node.remove();
      });
    }

    function writeRequested() {
      var box = form.querySelector("input[name=write_mode]");
      return !!(box && box.checked);
    }

    function confirmMissing() {
      var confirmInput = form.querySelector("input[name=confirm_write]");
      if (!writeRequested() || (confirmInput && confirmInput.checked)) return false;
      var list = document.createElement("ul");
      list.className = "errorlist ws-errorlist";
      list.appendChild(document.createElement("li")).textContent = "Tick the confirmation to run in write mode.";
      form.querySelector(".confirm-write").prepend(list);
      return true;
    }

    function showResult(payload, base) {
      if (payload && payload.error && payload.error.position && editor) {
        editor.markError(payload.error.position + base);
      }
      window.PgdeckResults.render(resultsArea, payload, resultOptions());
      var tab = tabs && tabs.active();
      if (tab) tab.last_result = payload;
    }

    var savedChart = state.saved_chart || null;  // the open saved query's chart (dropped on another tab)

    // One save at a time (as widgets.js's chartSaver): a change made while a save is in flight is sent when it
    // returns, the latest only, so two quick changes never land in the wrong order.
    var chartSaving = false;
    var chartPending = null;
    function saveChart(config, statusNode) {
      statusNode.textContent = "Saving chart…";
      if (chartSaving) {
        chartPending = [config, statusNode];
        return;
      }
      chartSaving = true;
      fetch(savedChart.save_url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) },
        body: JSON.stringify({ chart: config }),
      }).then(function (response) {
        return response.json().then(function (data) {
          savedChart.config = response.ok ? data.chart : savedChart.config;
          if (chartPending) return;
          statusNode.textContent = response.ok ? "Chart saved with the query." :
            ((data.error || {}).message || "Chart not saved.");
        });
      }).catch(function () {
        if (!chartPending) statusNode.textContent = "Chart not saved: the server did not answer.";
      }).then(function () {
        chartSaving = false;
        if (chartPending) {
          var next = chartPending;
          chartPending = null;
          saveChart(next[0], next[1]);
        }
      });
    }

    function resultOptions() {
      var exportButton = form.querySelector("button[value=export_csv]");
      var chart = savedChart ? { config: savedChart.config, save: savedChart.save_url ? saveChart : null } : null;
      return { historyUrl: bar.getAttribute("data-history-url"), chart: chart,
               exportAll: exportButton ? function () { form.requestSubmit(exportButton); } : null };
    }

    // The grid may take the focus once it is built: give it back to the editor after it settles.
    function keepFocus() {
      editor.focus();
      window.requestAnimationFrame(function () { window.setTimeout(function () { editor.focus(); }, 0); });
    }

    function finishRun() {
      running = false;
      form.classList.remove("running");
      cancelButton.disabled = true;
      runButton.disabled = false;
    }

    function run(how) {
      if (running) return;
      clearFormErrors();
      if (confirmMissing()) return;
      var chosen = pick(how);
      if (!chosen.sql.trim()) { setStatus("There is no SQL to run.", true); return; }
      var token = newToken();
      if (tokenInput) tokenInput.value = token;
      var tab = tabs && tabs.active();
      var savedId = form.querySelector("input[name=saved_id]");
      var body = { sql: chosen.sql, params: params(), token: token, write: writeRequested(),
                   confirm: !!(form.querySelector("input[name=confirm_write]") || {}).checked,
                   tab_id: tab ? tab.id : null, saved_id: savedId && savedId.value ? parseInt(savedId.value, 10) : null };
      if (chosen.cursor !== undefined) body.cursor = chosen.cursor;
      if (targetSelect && targetSelect.value) body.target = targetSelect.value;  // the tab's target
      var refocus = !!(editor && editor.view.hasFocus);  // the grid must not keep the keyboard after a run
      running = true;
      form.classList.add("running");
      cancelButton.disabled = false;
      status.textContent = "Running…";
      if (editor) editor.clearError();
      if (tabs) tabs.flush();
      fetch(bar.getAttribute("data-run-url"), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) },
        body: JSON.stringify(body),
      }).then(function (response) {
        return response.json().catch(function () {
          return { error: { message: "The server answered " + response.status + " without a result." } };
        });
      }).then(function (payload) {
        finishRun();
        if (payload.error && payload.error.code === "missing_parameters") {
          bypass = true;  // the page lays out a field per parameter
          form.requestSubmit(runButton);
          return;
        }
        status.textContent = payload.error ? "Failed" : "Done";
        showResult(payload, chosen.base);
        if (refocus) keepFocus();
      }, function () {
        finishRun();
        status.textContent = "The run could not reach the server.";
      });
    }

    // ---------------------------------------------------------------- tabs
    // The header's environment badge names the target runs go to: picking "prod" must not leave "dev" showing.
    function showBadge(name) {
      var badge = document.querySelector("#site-name .target-badge");
      var environment = (state.environments || {})[name];
      if (!badge || !environment) return;
      badge.className = "target-badge target-badge--" + environment;
      badge.textContent = name + " · " + environment;
      badge.title = "target " + name + " (" + environment + ")";
      badge.setAttribute("data-target", name);
    }

    // The schema browser and completion are the page's target's; another pick offers that target's schema.
    function offerSchema(name) {
      var browser = document.getElementById("schema-browser");
      var other = document.getElementById("schema-other");
      if (!browser || !other) return;
      other.hidden = name === browser.getAttribute("data-target");
      document.getElementById("schema-other-link").setAttribute("href", "?target=" + encodeURIComponent(name));
      document.getElementById("schema-other-name").textContent = name;
    }

    function syncTarget(tab) {
      if (!targetSelect) return;
      var known = (state.targets || ["default"]).indexOf(tab.target) >= 0;
      targetSelect.value = known ? tab.target : "default";
      showBadge(targetSelect.value);
      offerSchema(targetSelect.value);
      if (!known) setStatus("This tab's target “" + tab.target + "” no longer exists: runs go to “default”.", true);
    }

    var openedTab = null;
    if (window.PgdeckTabs && bar) {
      var serverShown = resultsArea.hasAttribute("data-server-result");
      tabs = window.PgdeckTabs.create({
        state: state, url: bar.getAttribute("data-drafts-url"), csrf: function () { return csrfToken(form); },
        strip: document.getElementById("workspace-tabs"), newButton: document.getElementById("tab-new"),
        closedBox: document.getElementById("closed-tabs"), onStatus: setStatus,
        onActivate: function (tab) {
          setStatus("", false);
          if (openedTab === null) openedTab = tab.id;
          if (tab.id !== openedTab) {  // another tab: the saved query opened with the page is no longer in play
            savedChart = null;
            var savedInput = form.querySelector("input[name=saved_id]");
            if (savedInput) savedInput.value = "";
          }
          if (tabIdInput) tabIdInput.value = String(tab.id);
          if (text() !== tab.sql) {
            if (editor) editor.setValue(tab.sql); else textarea.value = tab.sql;
          }
          syncTarget(tab);
          if (serverShown) { serverShown = false; return; }  // this page load shows a form result: keep it
          clearFormErrors();
          window.PgdeckResults.render(resultsArea, tab.last_result, resultOptions());
        },
      });
      window.pgdeckWorkspace = tabs;
      textarea.addEventListener("input", function () { tabs.edited(text()); });
      if (targetSelect) targetSelect.addEventListener("change", function () {
        tabs.setTarget(targetSelect.value);
        showBadge(targetSelect.value);
        offerSchema(targetSelect.value);
      });
      if (window.location.search && window.history.replaceState) {
        window.history.replaceState(null, "", window.location.pathname);  // reloading must not open the tab again
      }
    }

    // ---------------------------------------------------------------- page furniture
    var schemaBrowser = document.getElementById("schema-browser");
    if (schemaBrowser && window.matchMedia && window.matchMedia("(max-width: 767px)").matches) {
      schemaBrowser.open = false;
    }

    document.querySelectorAll(".insert-name").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var name = button.getAttribute("data-insert");
        if (editor) editor.insertText(name); else textarea.value += name;
      });
    });

    var errorNode = document.getElementById("query-error");
    if (editor && errorNode && errorNode.getAttribute("data-position")) {
      editor.markError(errorNode.getAttribute("data-position"));
    }

    var writeMode = form.querySelector("input[name=write_mode]");
    var confirmBox = form.querySelector(".confirm-write");
    function syncWrite() {
      var on = !!(writeMode && writeMode.checked);
      if (confirmBox) confirmBox.hidden = !on;
      form.classList.toggle("write-on", on);
    }
    if (writeMode) { writeMode.addEventListener("change", syncWrite); syncWrite(); }

    form.addEventListener("submit", function (event) {
      var action = event.submitter ? event.submitter.value : "run";
      if (action === "run" && !bypass) {
        event.preventDefault();
        run("selection-or-all");
        return;
      }
      bypass = false;
      if (tabs) tabs.flush();
      if (tokenInput) tokenInput.value = newToken();
      if (action === "run" || action === "explain" || action === "explain_analyze") {
        cancelButton.disabled = false;
        status.textContent = "Running…";
        form.classList.add("running");
      }
    });

    cancelButton.addEventListener("click", function () {
      cancelButton.disabled = true;
      status.textContent = "Cancelling…";
      fetch(form.getAttribute("data-cancel-url"), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) },
        body: JSON.stringify({ token: tokenInput ? tokenInput.value : "" }),
      }).then(function (response) {
        status.textContent = response.ok ? "Cancel sent" : "Nothing to cancel";
      }).catch(function () { status.textContent = "Cancel failed"; });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
