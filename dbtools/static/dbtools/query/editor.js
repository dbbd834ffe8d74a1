// Query editor page: CodeMirror on the SQL textarea, Ctrl/Cmd-Enter runs, names from the schema browser are
// inserted, the error position is marked, and Cancel stops an in-flight run. The page works without it.
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

  function init() {
    var form = document.getElementById("query-form");
    var textarea = document.getElementById("id_sql");
    if (!form || !textarea) return;
    var completionNode = document.getElementById("query-completion");
    var schema = completionNode ? JSON.parse(completionNode.textContent) : {};
    var runButton = document.getElementById("run-button");
    var cancelButton = document.getElementById("cancel-button");
    var status = document.getElementById("run-status");
    var tokenInput = form.querySelector("input[name=run_token]");
    var editor = null;

    if (window.PgDeckSQLEditor) {
      editor = window.PgDeckSQLEditor.create(textarea, {
        schema: schema, defaultSchema: "public", upperCaseKeywords: true, maxHeight: "50vh",
        onRun: function () { form.requestSubmit(runButton); },
      });
      window.pgdeckQueryEditor = editor;
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
