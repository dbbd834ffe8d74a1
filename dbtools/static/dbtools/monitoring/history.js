/* Query history: sparklines of total time per statement, and one statement's calls / total time chart.
   Data comes from data-* attributes (no inline script: CSP is script-src 'self'). */
(function () {
  "use strict";

  function numbers(text) {
    return (text || "").split(",").filter(function (v) { return v !== ""; }).map(Number);
  }

  function sparkline(canvas) {
    var points = numbers(canvas.dataset.points);
    if (points.length < 2) { points = points.concat(points).concat([0]).slice(0, 2); }
    return new window.Chart(canvas, {
      type: "line",
      data: { labels: points.map(function (_, i) { return i; }),
        datasets: [{ data: points, borderColor: "#417690", borderWidth: 1.5, pointRadius: 0, fill: false }] },
      options: { animation: false, responsive: false, events: [],
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: { x: { display: false }, y: { display: false, beginAtZero: true } } }
    });
  }

  function detail(canvas) {
    var labels = (canvas.dataset.labels || "").split(",").filter(Boolean);
    return new window.Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: [
        { label: "calls", data: numbers(canvas.dataset.calls), borderColor: "#417690", yAxisID: "calls", pointRadius: 2 },
        { label: "total time (ms)", data: numbers(canvas.dataset.total), borderColor: "#b26a00", yAxisID: "ms", pointRadius: 2 }
      ] },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        scales: { calls: { position: "left", beginAtZero: true }, ms: { position: "right", beginAtZero: true } },
        plugins: { legend: { position: "bottom" } } }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas.sparkline").forEach(sparkline);
    var chart = document.getElementById("statement-chart");
    if (chart) { detail(chart); }
  });
}());
