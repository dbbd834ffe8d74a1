// pgdeck result grid: Tabulator (virtual DOM) over one statement's result JSON as the run API returns it.
//
//   window.PgdeckGrid.mount(element, result, options) -> {table, copySelection(), tsv(), destroy()}
//
// result:  {columns: [{name, type}], rows: [[...]], row_count, truncated, rows_at_least?, rows_exact?}
// options: {height: "60vh", exportAll: function() | null, expandChars: 200}
// Every value is put in the page as text (textContent), never as HTML.

import { TabulatorFull as Tabulator } from "tabulator-tables";

const FIRST_CHUNK = 500; // rows given to Tabulator at once; the rest follow in chunks after the first paint
const CHUNK = 5000;
const NUMERIC = /^(smallint|integer|bigint|numeric|real|double precision|oid|money)\b|^(int[248]|float[48])$/;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function asText(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// One TSV field a spreadsheet pastes back as the same value: NULL is empty; tabs, newlines and quotes quoted.
function tsvField(value) {
  const text = asText(value);
  if (text === null) return "";
  return /[\t\n\r"]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const isNull = (v) => v === null || v === undefined;

// NULLs sort last in both directions (Tabulator reverses the comparison for "desc").
function nullsLast(a, b, dir) {
  if (isNull(a) && isNull(b)) return 0;
  return (isNull(a) ? 1 : -1) * (dir === "desc" ? -1 : 1);
}

function numericSorter(a, b, aRow, bRow, column, dir) {
  if (isNull(a) || isNull(b)) return nullsLast(a, b, dir);
  return Number(a) - Number(b);
}

function textSorter(a, b, aRow, bRow, column, dir) {
  if (isNull(a) || isNull(b)) return nullsLast(a, b, dir);
  return compare(asText(a), asText(b));
}

function showValue(text, title) {
  const dialog = el("dialog", "pgdeck-grid-dialog");
  const head = el("div", "pgdeck-grid-dialog-head");
  head.append(el("strong", null, title), el("span", "pgdeck-grid-meta", `${text.length.toLocaleString("en")} characters`));
  const close = el("button", "pgdeck-grid-close", "Close");
  close.type = "button";
  close.addEventListener("click", () => dialog.close());
  head.append(close);
  dialog.append(head, el("pre", "pgdeck-grid-full", text));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

function cellFormatter(expandChars) {
  return (cell) => {
    const text = asText(cell.getValue());
    if (text === null) return el("span", "pgdeck-null", "NULL");
    if (text.length <= expandChars && text.indexOf("\n") < 0) return document.createTextNode(text);
    const wrap = el("span", "pgdeck-long");
    wrap.append(el("span", "pgdeck-long-text", text.slice(0, expandChars).split("\n")[0]));
    const more = el("button", "pgdeck-expand", "…");
    more.type = "button";
    more.title = "Show the whole value";
    more.setAttribute("aria-label", "Show the whole value");
    more.addEventListener("click", (event) => {
      event.stopPropagation();
      showValue(text, cell.getColumn().getDefinition().title);
    });
    wrap.append(more);
    return wrap;
  };
}

function titleFormatter(cell, params) {
  const box = el("span", "pgdeck-col");
  box.append(el("span", "pgdeck-col-name", params.name), el("span", "pgdeck-col-type", params.type));
  return box;
}

function columnsOf(result, expandChars) {
  return (result.columns || []).map((col, i) => {
    const type = String(col.type || "");
    return {
      title: String(col.name), field: String(i),
      titleFormatter, titleFormatterParams: { name: String(col.name), type }, formatter: cellFormatter(expandChars), headerTooltip: `${col.name} (${type})`,
      sorter: NUMERIC.test(type) ? numericSorter : textSorter, hozAlign: NUMERIC.test(type) ? "right" : "left",
      accessorClipboard: tsvField, maxInitialWidth: 360, resizable: true,
    };
  });
}

// Tabulator reads each row's field "0", "1", … straight from the result's own row arrays: no copy of 100,000 rows.
function rowsOf(result, from, to) {
  return (result.rows || []).slice(from, to);
}

function fmt(n) {
  return Number(n).toLocaleString("en");
}

// "42 rows" or "first 1,000 of at least 1,001 rows" (exact count when the server read them all).
function summaryText(result) {
  const shown = (result.rows || []).length;
  if (!result.truncated) return `${fmt(shown)} row${shown === 1 ? "" : "s"}`;
  const total = result.rows_at_least || result.row_count || shown + 1;
  return `first ${fmt(shown)} of ${result.rows_exact ? "" : "at least "}${fmt(total)} rows`;
}

function toolbar(result, options, api) {
  const bar = el("div", "pgdeck-grid-bar");
  bar.append(el("span", "pgdeck-grid-summary", summaryText(result)));
  if (result.truncated && typeof options.exportAll === "function") {
    const link = el("a", "pgdeck-export-all", "export all");
    link.href = "#";
    link.addEventListener("click", (event) => { event.preventDefault(); options.exportAll(); });
    bar.append(document.createTextNode(" · "), link);
  }
  const copy = el("button", "pgdeck-copy", "Copy selection");
  copy.type = "button";
  copy.title = "Copy the selected cells as TSV (Ctrl-C in the grid does the same)";
  const status = el("span", "pgdeck-grid-meta");
  status.setAttribute("role", "status");
  copy.addEventListener("click", () => {
    api.copySelection().then((n) => { status.textContent = n ? `copied ${fmt(n)} row${n === 1 ? "" : "s"}` : "select cells first"; },
      () => { status.textContent = "the browser refused the clipboard"; });
  });
  bar.append(copy, status);
  return bar;
}

function selectionTsv(table) {
  const ranges = table.getRanges ? table.getRanges() : [];
  const lines = [];
  for (const range of ranges) {
    const columns = range.getColumns().filter((c) => c.getField());
    for (const row of range.getRows()) {
      const data = row.getData();
      lines.push(columns.map((c) => tsvField(data[c.getField()])).join("\t"));
    }
  }
  return lines;
}

function mount(element, result, options) {
  if (typeof element === "string") element = document.querySelector(element);
  options = Object.assign({ height: "60vh", expandChars: 200 }, options || {});
  result = result || {};
  element.classList.add("pgdeck-grid");
  element.textContent = "";
  const holder = el("div", "pgdeck-grid-table");
  const api = {};
  element.append(toolbar(result, options, api), holder);
  // The first rows paint at once; the rest are added in chunks after that (no frozen page on 100,000 rows),
  // and a sort the user chose meanwhile is applied again to the whole set.
  const total = (result.rows || []).length;
  const table = new Tabulator(holder, {
    data: rowsOf(result, 0, FIRST_CHUNK),
    columns: columnsOf(result, options.expandChars),
    height: options.height,
    renderVertical: "virtual",
    renderHorizontal: (result.columns || []).length > 50 ? "virtual" : "basic",
    layout: "fitData", // columns as wide as their data; the grid scrolls sideways inside its own box
    columnDefaults: { headerSortTristate: true, resizable: true },
    rowHeader: { formatter: "rownum", headerSort: false, resizable: false, frozen: true, hozAlign: "right",
      cssClass: "pgdeck-rownum", width: 56 },
    selectableRange: 1,
    selectableRangeColumns: false, // a header click sorts; the row number selects a row
    selectableRangeRows: true,
    selectableRangeClearCells: false,
    clipboard: "copy",
    clipboardCopyRowRange: "range",
    clipboardCopyStyled: false,
    clipboardCopyConfig: { columnHeaders: false, columnGroups: false, rowHeaders: false, rowGroups: false,
      columnCalcs: false, dataTree: false, formatCells: false },
    placeholder: (result.columns || []).length ? "No rows" : "No result columns",
  });
  api.table = table;
  api.complete = total <= FIRST_CHUNK;
  api.loaded = new Promise((resolve) => {
    if (api.complete) { resolve(); return; }
    let next = FIRST_CHUNK;
    // idle time only, so adding rows never delays a paint or a click (with a deadline, so it does finish)
    const later = (fn) => (window.requestIdleCallback ? requestIdleCallback(fn, { timeout: 300 }) : setTimeout(fn, 16));
    const addChunk = () => {
      if (api.destroyed) { resolve(); return; }
      const chunk = rowsOf(result, next, next + CHUNK);
      next += chunk.length;
      table.addData(chunk, false).then(() => {
        if (next < total) { later(addChunk); return; }
        const sorters = table.getSorters();
        if (sorters.length) table.setSort(sorters.map((s) => ({ column: s.field, dir: s.dir })));
        api.complete = true;
        resolve();
      });
    };
    // after the frame that paints the first rows
    table.on("tableBuilt", () => requestAnimationFrame(() => later(addChunk)));
  });
  api.tsv = () => selectionTsv(table).join("\n");
  api.copySelection = () => {
    const lines = selectionTsv(table);
    if (!lines.length) return Promise.resolve(0);
    return navigator.clipboard.writeText(lines.join("\n")).then(() => lines.length);
  };
  api.summary = summaryText(result);
  api.destroy = () => { api.destroyed = true; table.destroy(); element.textContent = ""; };
  element.pgdeckGrid = api;
  return api;
}

const PgdeckGrid = { mount, summaryText, tsvField, version: "1" };
if (typeof window !== "undefined") window.PgdeckGrid = PgdeckGrid;
export default PgdeckGrid;
