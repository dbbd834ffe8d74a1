/* Auto-refresh of Activity and Locks: every 10 s the page's #content is fetched again and swapped in place.
   Pausable (remembered in localStorage); it also waits while a filter box has focus or the tab is hidden, so
   typing is never clobbered. No inline script: CSP is script-src 'self'. */
(function () {
  "use strict";
  var INTERVAL_MS = 10000, KEY = "pgdeck.monitoring.autorefresh.paused";

  function paused() { return window.localStorage.getItem(KEY) === "1"; }

  function control() {
    var bar = document.createElement("p");
    bar.id = "autorefresh";
    bar.className = "autorefresh";
    var status = document.createElement("span");
    status.id = "autorefresh-status";
    var button = document.createElement("button");
    button.type = "button";
    button.id = "autorefresh-toggle";
    button.className = "button";
    bar.appendChild(status);
    bar.appendChild(document.createTextNode(" "));
    bar.appendChild(button);
    function render(note) {
      status.textContent = paused() ? "Auto-refresh paused." : "Auto-refresh every " + INTERVAL_MS / 1000 + " s" +
        (note ? " (" + note + ")." : ".");
      button.textContent = paused() ? "Resume" : "Pause";
      button.setAttribute("aria-pressed", paused() ? "true" : "false");
    }
    button.addEventListener("click", function () {
      window.localStorage.setItem(KEY, paused() ? "0" : "1");
      render();
    });
    render();
    return { element: bar, render: render };
  }

  function busy(content) {
    var active = document.activeElement;
    return document.hidden || (active && content.contains(active) &&
      (active.tagName === "INPUT" || active.tagName === "SELECT" || active.tagName === "TEXTAREA"));
  }

  function refresh(bar) {
    var content = document.getElementById("content");
    if (!content || paused() || busy(content)) { return; }
    window.fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (paused()) { return; }
        var fresh = new window.DOMParser().parseFromString(html, "text/html").getElementById("content");
        if (!fresh || busy(content)) { return; }
        content.replaceChildren.apply(content, Array.prototype.slice.call(fresh.childNodes));
        content.insertBefore(bar.element, content.firstChild);
        bar.render("last " + new Date().toLocaleTimeString());
      })
      .catch(function (error) { bar.render("failed: " + error.message); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var content = document.getElementById("content");
    if (!content) { return; }
    var bar = control();
    content.insertBefore(bar.element, content.firstChild);
    window.setInterval(function () { refresh(bar); }, INTERVAL_MS);
  });
}());
