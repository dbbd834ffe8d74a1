/* Live charts of the monitoring overview: poll the chart-data endpoint, turn cumulative counters into
   per-second rates (delta / elapsed seconds between two readings), draw them with Chart.js. Pausable. */
(function () {
  "use strict";
  var MAX_POINTS = 60;
  var RATES = {
    xacts: [["xact_commit", "commits/s", "#417690"], ["xact_rollback", "rollbacks/s", "#ba2121"]],
    tuples: [["tup_returned", "returned/s", "#79aec8"], ["tup_fetched", "fetched/s", "#417690"],
      ["tup_inserted", "inserted/s", "#2e7d32"], ["tup_updated", "updated/s", "#b26a00"],
      ["tup_deleted", "deleted/s", "#ba2121"]]
  };
  var STATES = [["active", "#2e7d32"], ["idle", "#79aec8"], ["idle in transaction", "#b26a00"],
    ["idle in transaction (aborted)", "#ba2121"]];

  function lineChart(canvas, series) {
    return new window.Chart(canvas, {
      type: "line",
      data: { labels: [], datasets: series.map(function (s) {
        return { label: s[1], data: [], borderColor: s[2], backgroundColor: s[2], pointRadius: 2, tension: 0.2 };
      }) },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        scales: { y: { beginAtZero: true } }, plugins: { legend: { position: "bottom" } } }
    });
  }

  function push(chart, label, values) {
    chart.data.labels.push(label);
    chart.data.datasets.forEach(function (dataset, i) { dataset.data.push(values[i]); });
    if (chart.data.labels.length > MAX_POINTS) {
      chart.data.labels.shift();
      chart.data.datasets.forEach(function (dataset) { dataset.data.shift(); });
    }
    chart.update();
  }

  function start(root) {
    var url = root.dataset.url, interval = Math.max(1, parseInt(root.dataset.interval, 10) || 5) * 1000;
    var status = document.getElementById("chart-status"), pauseButton = document.getElementById("chart-pause");
    var charts = {
      xacts: lineChart(document.getElementById("chart-xacts"), RATES.xacts),
      tuples: lineChart(document.getElementById("chart-tuples"), RATES.tuples),
      connections: lineChart(document.getElementById("chart-connections"),
        STATES.map(function (s) { return [s[0], s[0], s[1]]; }))
    };
    var previous = null, timer = null, paused = false, refreshes = 0, inFlight = false;

    function rate(current, key) {
      var seconds = current.ts - previous.ts;
      return seconds > 0 ? Math.max(0, (current[key] - previous[key]) / seconds) : 0;
    }

    function show(data) {
      if (paused) { return; }  // a reading that arrives after Pause is dropped
      var counters = data.counters, label = new Date(counters.ts * 1000).toLocaleTimeString();
      var byState = {};
      data.connections.by_state.forEach(function (row) { byState[row.state] = row.connections; });
      push(charts.connections, label, STATES.map(function (s) { return byState[s[0]] || 0; }));
      if (previous) {
        ["xacts", "tuples"].forEach(function (name) {
          push(charts[name], label, RATES[name].map(function (s) { return rate(counters, s[0]); }));
        });
        document.querySelectorAll("[data-rate]").forEach(function (cell) {
          cell.textContent = rate(counters, cell.dataset.rate).toFixed(1);
        });
      }
      previous = counters;
      refreshes += 1;
      root.dataset.refreshes = String(refreshes);
      status.textContent = "updated " + label + ", every " + interval / 1000 + " s";
    }

    function poll() {
      if (inFlight) { return; }  // resuming while a request is pending must not start a second loop
      inFlight = true;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(show)
        .catch(function (error) { status.textContent = "could not refresh: " + error.message; })
        .finally(function () {
          inFlight = false;
          if (!paused) { timer = window.setTimeout(poll, interval); }
        });
    }

    pauseButton.addEventListener("click", function () {
      paused = !paused;
      pauseButton.textContent = paused ? "Resume" : "Pause";
      if (paused) {
        window.clearTimeout(timer);
        status.textContent = "paused";
      } else {
        previous = null;  // rates restart from the next two readings, not across the pause
        poll();
      }
    });
    poll();
  }

  function growth() {
    var data = document.getElementById("growth-data"), canvas = document.getElementById("chart-growth");
    if (!data || !canvas) { return; }
    var rows = JSON.parse(data.textContent);
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: rows.map(function (r) { return r.day; }),
        datasets: [{ label: "database size (MB)", backgroundColor: "#79aec8",
          data: rows.map(function (r) { return r.database_size / 1048576; }) }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("live-charts");
    if (root && window.Chart) { start(root); }
    growth();
  });
})();
