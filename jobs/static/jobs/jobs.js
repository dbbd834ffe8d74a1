// The Jobs screen follows queued and running jobs: it reloads every 2 s while any is still active.
(function () {
  "use strict";
  var box = document.getElementById("jobs-live");
  if (!box || box.dataset.active !== "true") { return; }
  window.setTimeout(function () {
    if (!document.querySelector("#changelist-form input.action-select:checked")) { window.location.reload(); }
  }, 2000);
})();
