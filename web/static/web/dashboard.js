/* Dashboard charts (Chart.js, vendored). The numbers are also in the tables under each chart.
   A bar (or a status slice) with a link opens the studies it counts: the studies list with the
   dashboard's filters and that bar's period, modality, source or status. */
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
    if (!canvas) return null;
    var chart = new Chart(canvas, config);
    canvas.chart = chart;
    return chart;
  }

  // linkOf(datasetIndex, index) -> the URL of that bar, or null.
  function clickable(linkOf) {
    function at(chart, event) {
      var hits = chart.getElementsAtEventForMode(event, "nearest", { intersect: true }, false);
      if (!hits.length) return null;
      return linkOf(hits[0].datasetIndex, hits[0].index);
    }
    return {
      onClick: function (event, elements, chart) {
        var link = at(chart, event);
        if (link) window.location.assign(link);
      },
      onHover: function (event, elements, chart) {
        chart.canvas.style.cursor = at(chart, event) ? "pointer" : "default";
      }
    };
  }

  function withClicks(options, linkOf) {
    var handlers = clickable(linkOf);
    options.onClick = handlers.onClick;
    options.onHover = handlers.onHover;
    return options;
  }

  draw("chart-per-day", {
    type: "bar",
    data: {
      labels: data.perPeriod.labels,
      datasets: data.perPeriod.series.map(function (s, i) {
        return { label: s.label, data: s.data, backgroundColor: palette[i % palette.length] };
      })
    },
    options: withClicks({
      scales: { x: { stacked: true, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
                y: { stacked: true, beginAtZero: true, title: { display: true, text: data.text.studies } } },
      plugins: { legend: { position: "bottom" }, tooltip: { mode: "index", intersect: false } }
    }, function (dataset, index) { return data.perPeriod.series[dataset].links[index]; })
  });

  function percentiles(id, chartData) {
    draw(id, {
      type: "bar",
      data: {
        labels: chartData.labels,
        datasets: [
          { label: data.text.median, data: chartData.median, backgroundColor: "#2563eb" },
          { label: data.text.p90, data: chartData.p90, backgroundColor: "#93c5fd" }
        ]
      },
      options: withClicks({
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true, title: { display: true, text: data.text.hours } } }
      }, function (dataset, index) { return chartData.links[index]; })
    });
  }
  percentiles("chart-by-modality", data.byModality);
  percentiles("chart-by-source", data.bySource);

  draw("chart-statuses", {
    type: "doughnut",
    data: { labels: data.statuses.labels,
            datasets: [{ data: data.statuses.data, backgroundColor: palette }] },
    options: withClicks({ plugins: { legend: { position: "right" } } },
                        function (dataset, index) { return data.statuses.links[index]; })
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
  document.body.setAttribute("data-charts-ready", "true");
})();
