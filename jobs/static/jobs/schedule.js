// Live preview of the cron field: what it means and its next five runs, or why it is not valid.
(function () {
  "use strict";
  var box = document.getElementById("cron-live");
  var field = document.getElementById("id_cron");
  if (!box || !field) { return; }
  var out = document.createElement("div");
  out.id = "cron-preview";
  out.className = "help";
  field.parentNode.appendChild(out);
  var timer = null;

  function show(info) {
    out.textContent = "";
    var head = document.createElement("strong");
    head.textContent = info.ok ? info.description : info.error;
    out.appendChild(head);
    if (!info.ok) { out.classList.add("errornote"); return; }
    out.classList.remove("errornote");
    var list = document.createElement("ol");
    info.next.forEach(function (when) {
      var item = document.createElement("li");
      item.textContent = when + " UTC";
      list.appendChild(item);
    });
    out.appendChild(list);
  }

  function refresh() {
    var url = box.dataset.previewUrl + "?cron=" + encodeURIComponent(field.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(show)
      .catch(function () { out.textContent = ""; });
  }

  field.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  });
  if (field.value) { refresh(); }
})();
