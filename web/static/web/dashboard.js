/* Dashboard charts (Chart.js, vendored). The numbers are also in the tables under each chart. */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var palette = ["#2563eb", "#059669", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777",
                 "#65a30d", "#475569", "#ea580c", "#0d9488", "#9333ea"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }

  draw("chart-per-day", {
    type: "bar",
    data: {
      labels: data.perDay.labels,
      datasets: data.perDay.series.map(function (s, i) {
        return { label: s.label, data: s.data, backgroundColor: palette[i % palette.length] };
      })
    },
    options: {
      scales: { x: { stacked: true, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
                y: { stacked: true, beginAtZero: true, title: { display: true, text: data.text.studies } } },
      plugins: { legend: { position: "bottom" }, tooltip: { mode: "index", intersect: false } }
    }
  });
  draw("chart-statuses", {
    type: "doughnut",
    data: { labels: data.statuses.labels,
            datasets: [{ data: data.statuses.data, backgroundColor: palette }] },
    options: { plugins: { legend: { position: "right" } } }
  });
  draw("chart-turnaround", {
    type: "bar",
    data: { labels: data.turnaround.labels,
            datasets: [{ label: data.text.studies, data: data.turnaround.data, backgroundColor: "#0891b2" }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
  });
  draw("chart-analysis", {
    type: "bar",
    data: { labels: data.analysis.labels,
            datasets: [{ label: data.text.tasks, data: data.analysis.data,
                         backgroundColor: ["#94a3b8", "#2563eb", "#059669", "#dc2626", "#d97706"] }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
})();
