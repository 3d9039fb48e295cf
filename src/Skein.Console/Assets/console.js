// Skein Console: live updates without a framework. The server tells us (server-sent events) when a block or a round
// lands; we fetch this same page again and swap the regions marked data-live, so every figure comes from one place:
// the server's rendering. Charts are drawn by uPlot from the data-curve attribute of their element.
(function () {
  "use strict";
  var charts = {};
  var pending = false, again = false;

  function drawCharts(root) {
    root.querySelectorAll(".chart[data-curve]").forEach(function (el) {
      var data;
      try { data = JSON.parse(el.getAttribute("data-curve")); } catch (e) { return; }
      if (!data.round) { return; }
      var series = [data.round, data.accuracy, data.loss, data.consensus];
      var width = Math.max(320, el.clientWidth || 800);
      el.setAttribute("data-drawn", String(data.accuracy.filter(function (a) { return a != null; }).length));
      var existing = charts[el.id];
      if (existing) {
        if (existing.root.parentNode !== el) { el.appendChild(existing.root); }
        existing.setData(series);
        return;
      }
      charts[el.id] = new uPlot({
        width: width, height: 300,
        scales: { x: { time: false }, acc: { range: [0, 1] }, loss: { auto: true } },
        axes: [
          { label: "round" },
          { scale: "acc", label: "accuracy / consensus", values: function (u, v) { return v.map(function (x) { return Math.round(x * 100) + "%"; }); } },
          { scale: "loss", side: 1, label: "loss", grid: { show: false } }
        ],
        series: [
          { label: "round" },
          { label: "accuracy", scale: "acc", stroke: "#0b5cad", width: 2, value: function (u, v) { return v == null ? "–" : (v * 100).toFixed(2) + "%"; } },
          { label: "loss", scale: "loss", stroke: "#a4161a", width: 1.5, value: function (u, v) { return v == null ? "–" : v.toFixed(4); } },
          { label: "median consensus", scale: "acc", stroke: "#6b2fa0", dash: [4, 4], value: function (u, v) { return v == null ? "–" : (v * 100).toFixed(2) + "%"; } }
        ]
      }, series, el);
    });
  }

  // Keeps a chart's canvas across swaps: it is taken out before the region is replaced and put back by drawCharts.
  function detachCharts(el) {
    el.querySelectorAll(".chart[data-curve]").forEach(function (c) {
      if (charts[c.id]) { charts[c.id].root.remove(); }
    });
  }

  function refresh(kind) {
    if (pending) { again = true; return; }
    var regions = Array.prototype.filter.call(document.querySelectorAll("[data-live][id]"), function (el) {
      return kind !== "block" || el.getAttribute("data-live") === "block";
    });
    if (regions.length === 0) { return; }
    pending = true;
    fetch(location.href, { headers: { "X-Skein-Live": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        regions.forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (!fresh || fresh.innerHTML === el.innerHTML) { return; }
          if (el.contains(document.activeElement) && document.activeElement !== document.body) { return; }
          detachCharts(el);
          el.innerHTML = fresh.innerHTML;
        });
        drawCharts(document);
        document.body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { })
      .finally(function () { pending = false; if (again) { again = false; refresh("round"); } });
  }

  function connect() {
    var state = document.getElementById("live-state");
    if (!window.EventSource) { return; }
    var source = new EventSource("/events");
    source.addEventListener("hello", function () { if (state) { state.textContent = "live"; state.classList.add("on"); } document.body.setAttribute("data-live-connected", "1"); });
    source.addEventListener("round", function () { refresh("round"); });
    source.addEventListener("block", function () { refresh("block"); });
    source.addEventListener("job", function () { refresh("round"); });
    source.onerror = function () { if (state) { state.textContent = "reconnecting"; state.classList.remove("on"); } };
  }

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); connect(); });
  if (document.readyState !== "loading") { drawCharts(document); connect(); }
})();
