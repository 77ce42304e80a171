/* Charts of the practice pages (Chart.js, vendored). Every chart has its numbers in a table
   beside it; without this file the tables are the page. */
(function () {
  "use strict";
  if (!window.Chart) return;
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) new window.Chart(canvas, config);
  }
  var base = { responsive: true, maintainAspectRatio: false, animation: false,
               plugins: { legend: { display: false } } };
  var analytics = data("analytics-data");
  if (analytics) {
    var L = analytics.labels;
    draw("distribution-chart", { type: "bar", options: base, data: {
      labels: analytics.distribution.map(function (r) { return r.total_score; }),
      datasets: [{ label: L.attempts, data: analytics.distribution.map(function (r) { return r.count; }), backgroundColor: "#2563eb" }] } });
    draw("criteria-chart", { type: "bar", options: Object.assign({}, base, { indexAxis: "y", scales: { x: { min: 0, max: 1 } } }), data: {
      labels: analytics.criteria.map(function (r) { return r.name; }),
      datasets: [{ label: L.miss_rate, data: analytics.criteria.map(function (r) { return r.miss_rate; }), backgroundColor: "#dc2626" }] } });
    draw("progress-attempts-chart", { type: "line", options: base, data: {
      labels: analytics.progress.map(function (r) { return L.attempt + " " + r.attempt; }),
      datasets: [{ label: L.mean_score, data: analytics.progress.map(function (r) { return r.mean_score; }), borderColor: "#059669" }] } });
  }
  var progress = data("progress-data");
  if (progress && progress.length) {
    draw("progress-chart", { type: "line", options: base, data: {
      labels: progress.map(function (r) { return r.at.slice(0, 16).replace("T", " "); }),
      datasets: [{ data: progress.map(function (r) { return r.score; }), borderColor: "#2563eb" }] } });
  }
})();
