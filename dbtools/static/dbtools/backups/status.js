// Follows a running backup (or verify) on its detail page by polling the small JSON status endpoint.
(function () {
  "use strict";
  var box = document.getElementById("backup-status");
  if (!box) { return; }
  var url = box.dataset.statusUrl;
  var startStatus = box.dataset.status;
  var startVerifying = box.dataset.verifying === "true";
  if (startStatus !== "running" && !startVerifying) { return; }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (info) {
        var progress = document.getElementById("progress-text");
        if (progress) { progress.textContent = info.progress + " written"; }
        document.getElementById("size-text").textContent = info.progress;
        if (info.status !== startStatus || info.verifying !== startVerifying) {
          window.location.reload();  // finished: show the full result and the actions
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
