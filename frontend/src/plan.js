// pgdeck graphical plan: Dalibo's pev2 (Vue 3) rendering an EXPLAIN (FORMAT JSON) document.
//
//   window.PgdeckPlan.mount(element, planJson, {compareWith?, query?, compareQuery?, labels?}) -> {destroy()}
//
// planJson is the EXPLAIN (FORMAT JSON) document (the array PostgreSQL returns, or its first element).
// pev2 needs Bootstrap's CSS; it lives in a shadow root so it never restyles the admin around it.
// With compareWith, the two plans are shown side by side under a table of their differences.

import { createApp } from "vue";
import { Plan } from "pev2";
import { config as faConfig, dom as faDom } from "@fortawesome/fontawesome-svg-core";
import bootstrapCss from "bootstrap/dist/css/bootstrap.min.css";
import pev2Css from "pev2/dist/pev2.css";
import { watchTheme } from "./theme.js";

faConfig.autoAddCss = false;

let sheet = null;
function styleSheet() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    const own = ".pgdeck-plan-root{font-size:14px;background:var(--bs-body-bg);color:var(--bs-body-color);" +
      "min-height:100%}.pgdeck-plan-pane{height:var(--pgdeck-plan-height,600px);overflow:hidden;" +
      "position:relative;display:flex;flex-direction:column}.pgdeck-plan-pane>div{flex:1 1 auto;min-height:0}" +
      ".pgdeck-plan-pair{display:grid;grid-template-columns:1fr 1fr;gap:8px}" +
      "@media (max-width:900px){.pgdeck-plan-pair{grid-template-columns:1fr}}" +
      ".pgdeck-plan-diff{margin:0 0 8px}.pgdeck-plan-diff td,.pgdeck-plan-diff th{padding:2px 8px}" +
      ".pgdeck-better{color:var(--bs-success)}.pgdeck-worse{color:var(--bs-danger)}";
    const css = [bootstrapCss, pev2Css, faDom.css(), own].join("\n").replace(/:root/g, ":host");
    sheet.replaceSync(css);
  }
  return sheet;
}

// pev2 puts some plan values into the page as HTML (v-html). Values come from user SQL (filters, aliases,
// constants), so no "<" or ">" may reach it: they are shown as their full-width look-alikes, which form no tag.
function inert(value) {
  if (typeof value === "string") return value.replace(/</g, "\uFF1C").replace(/>/g, "\uFF1E");
  if (Array.isArray(value)) return value.map(inert);
  if (value && typeof value === "object") {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[inert(key)] = inert(item);
    return out;
  }
  return value;
}

function normalise(planJson) {
  let doc = inert(typeof planJson === "string" ? JSON.parse(planJson) : planJson);
  if (!Array.isArray(doc)) doc = [doc];
  if (!doc.length || !doc[0] || typeof doc[0].Plan !== "object") {
    throw new Error("PgdeckPlan.mount: an EXPLAIN (FORMAT JSON) document is required");
  }
  return doc;
}

function walk(node, visit) {
  visit(node);
  for (const child of node.Plans || []) walk(child, visit);
}

// Figures of one plan for the comparison table.
function figures(doc) {
  const top = doc[0];
  const out = { nodes: 0, "Total Cost": top.Plan["Total Cost"], "Plan Rows": top.Plan["Plan Rows"],
    "Planning Time": top["Planning Time"], "Execution Time": top["Execution Time"], types: {} };
  walk(top.Plan, (node) => {
    out.nodes += 1;
    out.types[node["Node Type"]] = (out.types[node["Node Type"]] || 0) + 1;
  });
  return out;
}

function cellText(value) {
  if (value === undefined || value === null) return "–";
  return typeof value === "number" ? value.toLocaleString("en", { maximumFractionDigits: 3 }) : String(value);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function diffTable(a, b, labels) {
  const fa = figures(a), fb = figures(b);
  const table = el("table", "table table-sm pgdeck-plan-diff");
  const head = el("tr");
  for (const text of ["", labels[0], labels[1], "change"]) head.append(el("th", null, text));
  const thead = el("thead");
  thead.append(head);
  table.append(thead);
  const body = el("tbody");
  const lines = ["Total Cost", "Plan Rows", "Planning Time", "Execution Time", "nodes"].map((k) => [k, fa[k], fb[k]]);
  const types = new Set([...Object.keys(fa.types), ...Object.keys(fb.types)]);
  for (const t of [...types].sort()) lines.push([t, fa.types[t] || 0, fb.types[t] || 0]);
  for (const [name, x, y] of lines) {
    const tr = el("tr");
    tr.append(el("th", null, name), el("td", null, cellText(x)), el("td", null, cellText(y)));
    let change = "";
    let cls = null;
    if (typeof x === "number" && typeof y === "number" && x !== y) {
      change = x ? `${y > x ? "+" : ""}${(((y - x) / x) * 100).toFixed(1)} %` : "new";
      if (/Cost|Time/.test(name)) cls = y < x ? "pgdeck-better" : "pgdeck-worse";
    }
    tr.append(el("td", cls, change));
    body.append(tr);
  }
  table.append(body);
  return table;
}

function pane(container, doc, query) {
  const box = el("div", "pgdeck-plan-pane");
  const target = el("div");
  // CSSOM assignments (not affected by CSP): pev2's root grows to fill the pane
  target.style.cssText = "display:flex;flex-direction:column;flex:1 1 auto;min-height:0";
  box.append(target);
  container.append(box);
  const app = createApp(Plan, { planSource: JSON.stringify(doc), planQuery: query || "" });
  app.mount(target);
  const first = target.firstElementChild;
  if (first) first.style.flex = "1 1 auto";
  return app;
}

function mount(element, planJson, options) {
  if (typeof element === "string") element = document.querySelector(element);
  options = options || {};
  const doc = normalise(planJson);
  const other = options.compareWith ? normalise(options.compareWith) : null;
  element.classList.add("pgdeck-plan");
  const shadow = element.shadowRoot || element.attachShadow({ mode: "open" });
  shadow.textContent = "";
  shadow.adoptedStyleSheets = [styleSheet()];
  const root = el("div", "pgdeck-plan-root");
  if (options.height) root.style.setProperty("--pgdeck-plan-height", options.height);
  shadow.append(root);
  const stopTheme = watchTheme((dark) => root.setAttribute("data-bs-theme", dark ? "dark" : "light"));
  const apps = [];
  if (other) {
    const labels = options.labels || ["plan A", "plan B"];
    root.append(diffTable(doc, other, labels));
    const pair = el("div", "pgdeck-plan-pair");
    root.append(pair);
    apps.push(pane(pair, doc, options.query), pane(pair, other, options.compareQuery || options.query));
  } else {
    apps.push(pane(root, doc, options.query));
  }
  const api = {
    root,
    figures: () => figures(doc),
    destroy() {
      stopTheme();
      apps.forEach((app) => app.unmount());
      shadow.textContent = "";
      delete element.pgdeckPlan;
    },
  };
  element.pgdeckPlan = api;
  return api;
}

const PgdeckPlan = { mount, figures, inert, version: "1" };
if (typeof window !== "undefined") window.PgdeckPlan = PgdeckPlan;
export default PgdeckPlan;
