// Result panels of the query workspace: one panel per statement (tabs under the editor), an error box, and a
// plain table when the bundled grid (window.PgdeckGrid) is not there. Everything is built with textContent, so
// no value from the database is ever read as HTML. Big results stay responsive: rows are added in pages and
// a result with thousands of columns shows the first MAX_COLUMNS.
(function () {
  "use strict";

  var MAX_COLUMNS = 200;
  var ROW_PAGE = 200;
  var MAX_STATEMENT_TABS = 30;  // more statements than this: a picker instead of a tab strip

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function plural(n, word) { return n.toLocaleString("en-US") + " " + word + (n === 1 ? "" : "s"); }

  function isRows(one) { return one.columns && one.columns.length > 0; }

  function label(one) {
    var tag = (one.command || "").split(" ")[0] || "statement";
    return (one.index + 1) + " · " + tag + (isRows(one) ? " · " + plural(one.row_count, "row") : "");
  }

  function summary(one, run) {
    var p = el("p", "result-summary");
    if (one.truncated && isRows(one)) {
      var total = one.rows_at_least || one.row_count;
      var cut = el("span", "truncated");
      cut.appendChild(document.createTextNode("first "));
      cut.appendChild(el("strong", null, one.rows.length.toLocaleString("en-US")));
      cut.appendChild(document.createTextNode(" of " + (one.rows_exact === false ? "at least " : "") +
        total.toLocaleString("en-US") + " rows"));
      p.appendChild(cut);
      if (run.exportAll) {
        var all = el("button", "export-all", "export all");
        all.type = "button";
        all.addEventListener("click", run.exportAll);
        p.appendChild(document.createTextNode(" ("));
        p.appendChild(all);
        p.appendChild(document.createTextNode(")"));
      }
    } else if (isRows(one) || !one.command) {
      p.appendChild(el("strong", null, one.row_count.toLocaleString("en-US")));
      p.appendChild(document.createTextNode(" row" + (one.row_count === 1 ? "" : "s")));
    } else {
      p.appendChild(el("strong", null, one.command));
    }
    if (one.rows_omitted) {
      p.appendChild(el("span", "truncated", "rows not kept: the run keeps rows for its first result sets only; " +
        "run this statement on its own to see them"));
    }
    var parts = [" · " + one.duration_ms + " ms"];
    if (isRows(one) && one.command) parts.push(" · " + one.command);
    p.appendChild(document.createTextNode(parts.join("")));
    if (run.mode === "write") { p.appendChild(document.createTextNode(" · ")); p.appendChild(el("strong", null, "committed")); }
    if (run.query_id && run.historyUrl) {
      p.appendChild(document.createTextNode(" · "));
      var link = el("a", null, "history #" + run.query_id);
      link.href = run.historyUrl.replace("/0/", "/" + run.query_id + "/");
      p.appendChild(link);
    }
    return p;
  }

  function cell(value) {
    if (value === null || value === undefined) return el("td", "null", "NULL");
    var text = typeof value === "object" ? JSON.stringify(value) : String(value);
    var td = el("td", null, text);
    if (text.length > 2000 && text.charAt(text.length - 1) === "…") {
      td.className = "cut";
      td.title = "Cut at 2,000 characters: Export has the whole value.";
    }
    return td;
  }

  function addRows(tbody, rows, from, count, width) {
    var end = Math.min(rows.length, from + count);
    var fragment = document.createDocumentFragment();
    for (var i = from; i < end; i++) {
      var tr = document.createElement("tr");
      var row = rows[i];
      for (var c = 0; c < width; c++) tr.appendChild(cell(row[c]));
      fragment.appendChild(tr);
    }
    tbody.appendChild(fragment);
    return end;
  }

  function plainTable(panel, one) {
    var width = Math.min(one.columns.length, MAX_COLUMNS);
    if (one.columns.length > MAX_COLUMNS) {
      panel.appendChild(el("p", "truncated wide-note", plural(one.columns.length, "column") + ": showing the first " +
        MAX_COLUMNS + " here; Export CSV / JSON has them all."));
    }
    var scroll = el("div", "results-scroll");
    var table = el("table");
    table.id = "result_list";
    var headRow = document.createElement("tr");
    for (var c = 0; c < width; c++) {
      var th = el("th", null, one.columns[c].name);
      th.scope = "col";
      th.appendChild(el("span", "coltype", one.columns[c].type));
      headRow.appendChild(th);
    }
    table.appendChild(el("thead")).appendChild(headRow);
    var tbody = table.appendChild(el("tbody"));
    var shown = addRows(tbody, one.rows, 0, ROW_PAGE, width);
    scroll.appendChild(table);
    panel.appendChild(scroll);
    if (shown < one.rows.length) {
      var more = el("button", "ws-button more-rows", "");
      more.type = "button";
      var setLabel = function () { more.textContent = "Show more rows (" + shown + " of " + one.rows.length + " shown)"; };
      setLabel();
      more.addEventListener("click", function () {
        shown = addRows(tbody, one.rows, shown, ROW_PAGE * 5, width);
        if (shown >= one.rows.length) more.remove(); else setLabel();
      });
      panel.appendChild(more);
    }
  }

  // The grid gets at most MAX_COLUMNS columns: thousands of columns would freeze the page (the note says so).
  function narrow(one) {
    if (one.columns.length <= MAX_COLUMNS) return one;
    return Object.assign({}, one, { columns: one.columns.slice(0, MAX_COLUMNS),
                                    rows: one.rows.map(function (row) { return row.slice(0, MAX_COLUMNS); }) });
  }

  function panelFor(one, run) {
    var panel = el("div", "module query-result");
    panel.id = "query-result";
    panel.setAttribute("role", "tabpanel");
    panel.appendChild(summary(one, run));
    if (!isRows(one)) return panel;
    plainTable(panel, one);  // kept (hidden under the grid) for copy-free reading and pages without the bundle
    if (window.PgdeckGrid && typeof window.PgdeckGrid.mount === "function") {
      var holder = el("div", "query-grid");
      holder.id = "query-grid";
      panel.insertBefore(holder, panel.querySelector(".results-scroll"));
      try {
        window.PgdeckGrid.mount(holder, narrow(one), { height: "min(60vh, 640px)", exportAll: run.exportAll || null });
        panel.querySelector(".results-scroll").hidden = true;
        var more = panel.querySelector(".more-rows");
        if (more) more.hidden = true;
      } catch (err) { holder.remove(); }
    }
    if (window.PgdeckChart && typeof window.PgdeckChart.mount === "function") chartBox(panel, one, run);
    return panel;
  }

  // Line / bar / scatter of this statement's result; with a saved query open, its chart settings are used and
  // every change is saved with it (run.chart = {config, save(config, statusNode)}).
  function chartBox(panel, one, run) {
    var box = el("details", "query-chart-box");
    box.id = "query-chart-box";
    box.appendChild(el("summary", null, "Chart"));
    var node = el("div", "query-chart");
    node.id = "query-chart";
    var status = el("span", "meta");
    status.id = "query-chart-status";
    status.setAttribute("role", "status");
    box.appendChild(node);
    box.appendChild(status);
    var chart = run.chart || {};
    function mount() {
      if (node.pgdeckChart) return;
      var save = chart.save ? function (config) { chart.save(config, status); } : null;
      node.pgdeckChart = window.PgdeckChart.mount(node, one, chart.config || null, save);
    }
    box.addEventListener("toggle", function () { if (box.open) mount(); });
    panel.appendChild(box);
    if (chart.config) { box.open = true; mount(); }
  }

  function statementPicker(container, run, show) {
    var statements = run.statements;
    if (statements.length > MAX_STATEMENT_TABS) {
      var wrap = el("div", "statement-picker");
      var lab = el("label", null, plural(statements.length, "statement") + " ran: show ");
      var select = el("select");
      select.id = "statement-select";
      statements.forEach(function (one, i) { var o = el("option", null, label(one)); o.value = String(i); select.appendChild(o); });
      select.value = String(statements.length - 1);
      select.addEventListener("change", function () { show(parseInt(select.value, 10)); });
      lab.appendChild(select);
      wrap.appendChild(lab);
      container.appendChild(wrap);
      return function () {};
    }
    var strip = el("div", "statement-tabs");
    strip.setAttribute("role", "tablist");
    strip.setAttribute("aria-label", "Results per statement");
    var buttons = statements.map(function (one, i) {
      var b = el("button", "statement-tab" + (isRows(one) ? " has-rows" : ""), label(one));
      b.type = "button";
      b.setAttribute("role", "tab");
      b.addEventListener("click", function () { show(i); });
      strip.appendChild(b);
      return b;
    });
    container.appendChild(strip);
    return function (index) {
      buttons.forEach(function (b, i) { b.setAttribute("aria-selected", i === index ? "true" : "false"); });
    };
  }

  function renderRun(container, run) {
    var statements = run.statements || [];
    if (!statements.length) return;
    var slot = el("div", "statement-panel");
    var select = statements.length > 1 ? statementPicker(container, run, show) : function () {};
    container.appendChild(slot);
    function show(index) {
      slot.textContent = "";
      slot.appendChild(panelFor(statements[index], run));
      select(index);
    }
    show(statements.length - 1);
  }

  function renderError(container, error) {
    var box = el("div", "errornote query-error");
    box.id = "query-error";
    box.appendChild(el("strong", null, error.message));
    if (error.sqlstate) box.appendChild(el("span", "meta", " SQLSTATE " + error.sqlstate));
    if (error.detail) box.appendChild(el("div", null, "DETAIL: " + error.detail));
    if (error.hint) box.appendChild(el("div", null, "HINT: " + error.hint));
    var where = [];
    if (error.statement !== null && error.statement !== undefined) where.push("in statement " + (error.statement + 1));
    if (error.position) where.push("at character " + error.position);
    if (where.length) box.appendChild(el("div", "meta", where.join(", ")));
    container.appendChild(box);
  }

  // render(container, payload, {historyUrl}) — payload is the run endpoint's JSON (or a tab's last result).
  function render(container, payload, options) {
    container.textContent = "";
    if (!payload) return;
    if (payload.error) { renderError(container, payload.error); return; }
    options = options || {};
    var run = Object.assign({}, payload, { historyUrl: options.historyUrl, exportAll: options.exportAll,
                                           chart: options.chart });
    if (payload.statement_count > 1 || (payload.statements || []).length > 1) {
      var total = payload.statements.reduce(function (sum, one) { return sum + (one.duration_ms || 0); }, 0);
      container.appendChild(el("p", "meta run-summary", plural(payload.statements.length, "statement") + " ran in " +
        total.toFixed(1) + " ms" + (payload.mode === "write" ? ", committed" : ", rolled back (read only)") + "."));
    }
    if (payload.rows_dropped) container.appendChild(el("p", "meta", "The rows of this earlier run were too big to keep with the tab; run it again to see them."));
    renderRun(container, run);
  }

  window.PgdeckResults = { render: render, MAX_COLUMNS: MAX_COLUMNS };
})();
