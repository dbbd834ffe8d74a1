// Tabs of the query workspace, kept on the server through /api/v1/query/drafts: each tab has a name, its SQL
// (saved as you type, debounced), a target and its last result. Rename (double-click / F2), close, reopen.
// A save the server refuses (e.g. a draft over QUERY_MAX_SQL_BYTES) is reported on that tab only.
(function () {
  "use strict";

  var SAVE_DELAY = 600;
  var ACTIVE_KEY = "pgdeck.workspace.active";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  // create({state, url, csrf, strip, newButton, closedBox, onActivate(tab), onStatus(text, isError)})
  function create(options) {
    var tabs = (options.state.tabs || []).map(function (t) { return Object.assign({}, t); });
    var closed = (options.state.closed || []).slice();
    var active = null;
    var timer = null;

    function find(id) { return tabs.filter(function (t) { return t.id === id; })[0] || null; }

    function request(method, path, body, keepalive) {
      return fetch(options.url + path, {
        method: method, credentials: "same-origin", keepalive: !!keepalive,
        headers: { "Content-Type": "application/json", "X-CSRFToken": options.csrf() },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) {
            var error = (data && data.error) || {};
            throw new Error(error.message || ("The server answered " + response.status + "."));
          }
          return data;
        });
      });
    }

    function save(tab, keepalive) {
      if (!tab || tab.savedSql === tab.sql) return Promise.resolve();
      var sql = tab.sql;
      tab.saving = true;
      render();
      return request("PATCH", "/" + tab.id, { sql: sql }, keepalive && sql.length < 60000).then(function () {
        tab.savedSql = sql;
        tab.saveError = "";
        options.onStatus(tab === active ? "Draft saved." : "", false);
      }, function (error) {
        tab.saveError = error.message;
        if (tab === active) options.onStatus("Not saved: " + error.message, true);
      }).then(function () { tab.saving = false; render(); });
    }

    function flush(keepalive) {
      if (timer) { clearTimeout(timer); timer = null; }
      return save(active, keepalive);
    }

    function edited(sql) {
      if (!active || active.sql === sql) return;
      active.sql = sql;
      if (timer) clearTimeout(timer);
      var tab = active;
      timer = setTimeout(function () { timer = null; save(tab); }, SAVE_DELAY);
      render();
    }

    function activate(tab) {
      if (!tab || tab === active) return;
      if (active && active !== tab) flush();
      active = tab;
      try { window.localStorage.setItem(ACTIVE_KEY, String(tab.id)); } catch (err) { /* private mode */ }
      render();
      options.onActivate(tab);
      if (tab.saveError) options.onStatus("Not saved: " + tab.saveError, true);
    }

    function add(data) {
      var tab = Object.assign({}, data, { savedSql: data.sql });
      tabs.push(tab);
      activate(tab);
      return tab;
    }

    function newTab(sql) {
      return request("POST", "", sql ? { sql: sql } : {}).then(add, function (error) {
        options.onStatus(error.message, true);
      });
    }

    function close(tab) {
      var next = tabs[tabs.indexOf(tab) + 1] || tabs[tabs.indexOf(tab) - 1] || null;
      return save(tab).then(function () {
        return request("PATCH", "/" + tab.id, { closed: true });
      }).then(function () {
        tabs.splice(tabs.indexOf(tab), 1);
        closed.unshift({ id: tab.id, name: tab.name });
        if (active === tab) { active = null; if (next) activate(next); else newTab(""); }
        render();
      }, function (error) { options.onStatus(error.message, true); });
    }

    function reopen(id) {
      return request("PATCH", "/" + id, { closed: false }).then(function (data) {
        closed = closed.filter(function (c) { return c.id !== id; });
        add(data);
      }, function (error) { options.onStatus(error.message, true); });
    }

    function rename(tab, name) {
      name = name.trim();
      if (!name || name === tab.name) { render(); return Promise.resolve(); }
      return request("PATCH", "/" + tab.id, { name: name }).then(function (data) {
        tab.name = data.name;
        render();
      }, function (error) { render(); options.onStatus(error.message, true); });
    }

    function setTarget(target) {
      if (!active) return;
      active.target = target;
      request("PATCH", "/" + active.id, { target: target }).catch(function (error) { options.onStatus(error.message, true); });
    }

    function startRename(tab, nameButton) {
      var input = el("input", "ws-tab-rename");
      input.value = tab.name;
      input.maxLength = 100;
      input.setAttribute("aria-label", "Tab name");
      var done = false;
      function finish(commit) {
        if (done) return;
        done = true;
        if (commit) rename(tab, input.value); else render();
      }
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); finish(true); }
        if (event.key === "Escape") { event.preventDefault(); finish(false); }
      });
      input.addEventListener("blur", function () { finish(true); });
      nameButton.replaceWith(input);
      input.focus();
      input.select();
    }

    function tabNode(tab) {
      var node = el("div", "ws-tab" + (tab === active ? " active" : "") + (tab.saveError ? " save-error" : ""));
      node.setAttribute("role", "tab");
      node.setAttribute("aria-selected", tab === active ? "true" : "false");
      node.dataset.id = String(tab.id);
      var name = el("button", "ws-tab-name", tab.name);
      name.type = "button";
      name.title = tab.saveError ? "Not saved: " + tab.saveError : "Double-click (or F2) to rename";
      name.addEventListener("click", function () { activate(tab); });
      name.addEventListener("keydown", function (event) { if (event.key === "F2") startRename(tab, name); });
      node.appendChild(name);
      if (tab.sql !== tab.savedSql || tab.saving) node.appendChild(el("span", "ws-unsaved", "●")).title = "Saving…";
      var x = el("button", "ws-tab-close", "×");
      x.type = "button";
      x.setAttribute("aria-label", "Close tab " + tab.name);
      x.addEventListener("click", function () { close(tab); });
      node.appendChild(x);
      return node;
    }

    function renderClosed() {
      var list = options.closedBox.querySelector("ul");
      list.textContent = "";
      options.closedBox.hidden = closed.length === 0;
      closed.forEach(function (c) {
        var b = el("button", "ws-reopen", c.name);
        b.type = "button";
        b.addEventListener("click", function () { options.closedBox.open = false; reopen(c.id); });
        list.appendChild(el("li")).appendChild(b);
      });
    }

    function render() {
      options.strip.textContent = "";
      tabs.forEach(function (tab) { options.strip.appendChild(tabNode(tab)); });
      renderClosed();
    }

    // Delegated: the first click of a double-click activates the tab, which redraws the strip.
    options.strip.addEventListener("dblclick", function (event) {
      var node = event.target.closest ? event.target.closest(".ws-tab") : null;
      var tab = node && find(parseInt(node.dataset.id, 10));
      var name = node && node.querySelector(".ws-tab-name");
      if (tab && name) startRename(tab, name);
    });
    options.newButton.addEventListener("click", function () { newTab(""); });
    window.addEventListener("pagehide", function () { flush(true); });

    tabs.forEach(function (t) { t.savedSql = t.sql; });
    var stored = null;
    try { stored = parseInt(window.localStorage.getItem(ACTIVE_KEY), 10); } catch (err) { stored = null; }
    var first = find(options.state.active) || find(stored) || tabs[0];
    if (first) activate(first); else render();

    return {
      active: function () { return active; },
      tabs: function () { return tabs; },
      edited: edited, flush: flush, newTab: newTab, close: close, reopen: reopen, rename: rename,
      setTarget: setTarget, activate: activate,
    };
  }

  window.PgdeckTabs = { create: create };
})();
