// pgdeck result chart: line / bar / scatter of chosen columns of one result, with Chart.js.
//
//   window.PgdeckChart.mount(element, result, chartConfig, onChange) -> {config(), chart, destroy()}
//
// chartConfig: {type: "line"|"bar"|"scatter", x: "<column name>", y: ["<column name>", ...]} or null (a
// guess from the columns). onChange(config) is called whenever the user picks another type or column.

import Chart from "chart.js/auto";
import { watchTheme } from "./theme.js";

const TYPES = ["bar", "line", "scatter"];
const NUMERIC = /^(smallint|integer|bigint|numeric|real|double precision|oid|money)\b|^(int[248]|float[48])$/;
const MAX_SERIES = 8;
const COLORS = ["#417690", "#e07b39", "#3d9970", "#b10dc9", "#ff4136", "#0074d9", "#85144b", "#2ecc40"];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function names(result) {
  return (result.columns || []).map((c) => String(c.name));
}

function guess(result) {
  const cols = result.columns || [];
  const numeric = cols.filter((c) => NUMERIC.test(String(c.type || ""))).map((c) => String(c.name));
  const x = cols.length ? String(cols[0].name) : "";
  return { type: "bar", x, y: numeric.filter((n) => n !== x).slice(0, 1) };
}

// A config that only names columns the result has (unknown names are dropped, not trusted).
function usable(result, config) {
  const known = new Set(names(result));
  const base = guess(result);
  config = config && typeof config === "object" ? config : {};
  const y = Array.isArray(config.y) ? config.y.map(String).filter((n) => known.has(n)).slice(0, MAX_SERIES) : [];
  return {
    type: TYPES.includes(config.type) ? config.type : base.type,
    x: known.has(String(config.x)) ? String(config.x) : base.x,
    y: y.length ? y : base.y,
  };
}

function number(value) {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function label(value) {
  if (value === null || value === undefined) return "NULL";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function chartData(result, config) {
  const cols = names(result);
  const xi = cols.indexOf(config.x);
  const rows = result.rows || [];
  const datasets = config.y.map((name, k) => {
    const yi = cols.indexOf(name);
    const color = COLORS[k % COLORS.length];
    const data = config.type === "scatter"
      ? rows.map((r) => ({ x: number(r[xi]), y: number(r[yi]) })).filter((p) => p.x !== null && p.y !== null)
      : rows.map((r) => number(r[yi]));
    return { label: name, data, borderColor: color, backgroundColor: color + (config.type === "bar" ? "cc" : "99"),
      pointRadius: config.type === "line" && rows.length > 200 ? 0 : 3 };
  });
  return config.type === "scatter" ? { datasets } : { labels: rows.map((r) => label(r[xi])), datasets };
}

function select(labelText, options, value, multiple) {
  const wrap = el("label", "pgdeck-chart-field");
  wrap.append(el("span", null, labelText + " "));
  const box = el("select");
  box.multiple = !!multiple;
  if (multiple) box.size = Math.min(4, Math.max(2, options.length));
  for (const name of options) {
    const option = el("option", null, name);
    option.value = name;
    option.selected = multiple ? value.includes(name) : value === name;
    box.append(option);
  }
  wrap.append(box);
  return { wrap, box };
}

function mount(element, result, chartConfig, onChange) {
  if (typeof element === "string") element = document.querySelector(element);
  result = result || {};
  let config = usable(result, chartConfig);
  element.classList.add("pgdeck-chart");
  element.textContent = "";
  const controls = el("div", "pgdeck-chart-controls");
  const type = select("Chart", TYPES, config.type, false);
  const x = select("X", names(result), config.x, false);
  const y = select("Y", names(result), config.y, true);
  type.box.name = "chart_type"; x.box.name = "chart_x"; y.box.name = "chart_y";
  controls.append(type.wrap, x.wrap, y.wrap);
  const frame = el("div", "pgdeck-chart-frame");
  const canvas = el("canvas");
  canvas.setAttribute("role", "img");
  frame.append(canvas);
  element.append(controls, frame);
  let chart = null;
  const draw = () => {
    if (chart) chart.destroy();
    canvas.setAttribute("aria-label", `${config.type} chart of ${config.y.join(", ")} by ${config.x}`);
    chart = new Chart(canvas, {
      type: config.type, data: chartData(result, config),
      options: { animation: false, responsive: true, maintainAspectRatio: false, normalized: true,
        scales: { x: { title: { display: true, text: config.x } },
          y: { title: { display: config.y.length === 1, text: config.y[0] || "" } } } },
    });
    api.chart = chart;
  };
  const changed = () => {
    config = usable(result, { type: type.box.value, x: x.box.value,
      y: [...y.box.selectedOptions].map((o) => o.value) });
    draw();
    if (typeof onChange === "function") onChange(Object.assign({}, config, { y: config.y.slice() }));
  };
  [type.box, x.box, y.box].forEach((box) => box.addEventListener("change", changed));
  const api = { config: () => Object.assign({}, config, { y: config.y.slice() }), chart: null };
  const stopTheme = watchTheme((dark) => {
    Chart.defaults.color = dark ? "#e0e0e0" : "#333";
    Chart.defaults.borderColor = dark ? "rgba(255,255,255,.15)" : "rgba(0,0,0,.1)";
    draw();
  });
  api.destroy = () => { stopTheme(); if (chart) chart.destroy(); element.textContent = ""; delete element.pgdeckChart; };
  element.pgdeckChart = api;
  return api;
}

const PgdeckChart = { mount, usable, TYPES, version: "1" };
if (typeof window !== "undefined") window.PgdeckChart = PgdeckChart;
export default PgdeckChart;
