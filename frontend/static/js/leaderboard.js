// A board's page: the chart of the ranking score against model size (log scale) with each
// score's 95 % interval as an error bar, and "compare" picking exactly two entries. The page
// works without it (the table and the compare form are plain HTML).

import uPlot from "../vendor/uplot/uPlot.esm.js";

function errorBars(u) {
  const { ctx } = u;
  const data = u.data;
  ctx.save();
  ctx.strokeStyle = "#2563eb";
  ctx.lineWidth = 1;
  for (let i = 0; i < data[0].length; i++) {
    const x = u.valToPos(data[0][i], "x", true);
    const low = u.valToPos(data[2][i], "y", true);
    const high = u.valToPos(data[3][i], "y", true);
    ctx.beginPath();
    ctx.moveTo(x, low);
    ctx.lineTo(x, high);
    ctx.moveTo(x - 4, low);
    ctx.lineTo(x + 4, low);
    ctx.moveTo(x - 4, high);
    ctx.lineTo(x + 4, high);
    ctx.stroke();
  }
  ctx.restore();
}

function drawChart() {
  const box = document.getElementById("board-chart");
  const source = document.getElementById("board-chart-data");
  if (!box || !source) return;
  const chart = JSON.parse(source.textContent);
  const points = chart.points.filter((p) => p.ci95).sort((a, b) => a.parameters - b.parameters);
  if (points.length === 0) {
    box.textContent = "No entry with a known size yet.";
    return;
  }
  const data = [
    points.map((p) => p.parameters),
    points.map((p) => p.value),
    points.map((p) => p.ci95[0]),
    points.map((p) => p.ci95[1]),
  ];
  const options = {
    width: Math.max(280, box.clientWidth),
    height: 300,
    scales: { x: { time: false, distr: 3 } },
    axes: [{ label: "parameters" }, { label: chart.metric }],
    series: [
      { label: "parameters" },
      { label: chart.metric, stroke: "#2563eb", width: 0, points: { show: true, size: 8, fill: "#2563eb" } },
      { label: "95 % low", show: false },
      { label: "95 % high", show: false },
    ],
    hooks: { draw: [errorBars] },
  };
  const plot = new uPlot(options, data, box);
  box.dataset.points = String(points.length);
  new ResizeObserver(() => plot.setSize({ width: Math.max(280, box.clientWidth), height: 300 })).observe(box);
}

function comparePicker() {
  const form = document.getElementById("compare-form");
  if (!form) return;
  const button = document.getElementById("compare-button");
  const picks = [...form.querySelectorAll(".compare-pick")];
  const update = () => {
    const chosen = picks.filter((p) => p.checked);
    button.disabled = chosen.length !== 2;
    for (const pick of picks) pick.disabled = !pick.checked && chosen.length >= 2;
  };
  picks.forEach((pick) => pick.addEventListener("change", update));
  form.addEventListener("submit", () => {
    const chosen = picks.filter((p) => p.checked).map((p) => p.value);
    document.getElementById("compare-a").value = chosen[0] ?? "";
    document.getElementById("compare-b").value = chosen[1] ?? "";
    picks.forEach((pick) => (pick.disabled = true)); // only a and b go in the query
  });
  update();
}

drawChart();
comparePicker();
