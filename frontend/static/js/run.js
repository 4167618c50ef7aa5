// A run's live page: while the run is queued or running, poll the REST API for its state,
// progress, new metrics and new log lines, grow the loss curve (uPlot) and the task scores, and
// reload once when it finishes so the final sections (results, output commit) render.
// Without JavaScript the page is the same, as of its last load.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { announce, pathPrefix } from "./site.js";

const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 2000;

const data = JSON.parse(document.getElementById("run-data").textContent);
let state = data.state;
let lastMetric = data.metrics.reduce((max, m) => Math.max(max, m.id), 0);
let lastLog = data.last_log_id;
const train = new Map(); // step -> loss
const validation = new Map(); // step -> val_loss
let chart = null;

function addMetric(m) {
  if (m.event === "train" && typeof m.loss === "number") train.set(m.step, m.loss);
  if (m.event === "eval" && typeof m.val_loss === "number") validation.set(m.step, m.val_loss);
}

function chartData() {
  const steps = [...new Set([...train.keys(), ...validation.keys()])].sort((a, b) => a - b);
  return [steps, steps.map((s) => train.get(s) ?? null), steps.map((s) => validation.get(s) ?? null)];
}

function drawChart() {
  const box = document.getElementById("loss-chart");
  if (!box || train.size === 0) return;
  document.getElementById("curve-empty")?.setAttribute("hidden", "");
  box.dataset.points = String(train.size); // how many training steps the curve shows
  const series = chartData();
  if (chart) {
    chart.setData(series);
    return;
  }
  const options = {
    width: Math.max(280, box.clientWidth),
    height: 280,
    scales: { x: { time: false } },
    axes: [{ label: "step" }, { label: "loss" }],
    series: [
      { label: "step" },
      { label: "train loss", stroke: "#2563eb", width: 1.5 },
      { label: "validation loss", stroke: "#dc2626", width: 2, points: { show: true, size: 6 }, spanGaps: true },
    ],
  };
  chart = new uPlot(options, series, box);
  new ResizeObserver(() => chart.setSize({ width: Math.max(280, box.clientWidth), height: 280 })).observe(box);
}

function text(id, value) {
  const element = document.getElementById(id);
  if (element) element.textContent = value;
}

function showState(run) {
  const badge = document.querySelector("#run-state .run-state");
  if (badge && badge.dataset.state !== run.state) {
    badge.dataset.state = run.state;
    badge.className = `badge run-state run-state-${run.state}`;
    badge.textContent = run.state.charAt(0).toUpperCase() + run.state.slice(1);
    announce(`Run ${run.id} is ${run.state}.`);
  }
  text("run-reason", run.reason);
  const queue = document.getElementById("queue-position");
  if (queue) {
    if (run.queue_position === null) {
      queue.setAttribute("hidden", "");
    } else {
      queue.removeAttribute("hidden");
      const ahead = run.queue_position;
      queue.textContent = ahead === 0 ? "Next in the queue." : `Queued: ${ahead} run${ahead === 1 ? "" : "s"} ahead.`;
    }
  }
}

function showProgress(run) {
  const p = run.progress;
  const bar = document.getElementById("progress-bar");
  if (bar) {
    bar.max = Math.max(1, p.total);
    bar.value = p.step + (typeof p.task_fraction === "number" ? p.task_fraction : 0);
  }
  text("progress-step", `${p.step} / ${p.total}`);
  text("progress-stage", p.stage ?? "—");
  if (p.tokens_per_s !== undefined) text("progress-speed", `${p.tokens_per_s}`);
  text("progress-eta", typeof p.eta_s === "number" && run.state === "running" ? `${Math.round(p.eta_s)} s` : "—");
  if (run.checkpoint_step) text("progress-checkpoint", `step ${run.checkpoint_step}`);
  if (p.scores) showScores(p.scores);
}

function showScores(scores) {
  const body = document.querySelector("#task-scores tbody");
  if (!body) return;
  const rows = [];
  for (const [task, metrics] of Object.entries(scores)) {
    for (const [metric, summary] of Object.entries(metrics)) {
      const row = document.createElement("tr");
      const interval = summary.ci95 ? `${summary.ci95[0].toFixed(4)} – ${summary.ci95[1].toFixed(4)}` : "";
      for (const cell of [task, metric, summary.value.toFixed(4), interval, String(summary.n)]) {
        const td = document.createElement("td");
        td.textContent = cell;
        row.append(td);
      }
      rows.push(row);
    }
  }
  body.replaceChildren(...rows);
}

function showHistory(history) {
  const list = document.getElementById("run-history");
  if (!list || !history || list.children.length === history.length) return;
  list.replaceChildren(
    ...history.map((step) => {
      const item = document.createElement("li");
      const when = document.createElement("time");
      when.dateTime = step.at;
      when.textContent = new Date(step.at).toISOString().slice(0, 19).replace("T", " ");
      const to = document.createElement("strong");
      to.textContent = step.to;
      item.append(when, ` ${step.from ? `${step.from} → ` : ""}`, to, `: ${step.reason}`);
      return item;
    }),
  );
}

function appendLog(lines) {
  const log = document.getElementById("run-log");
  if (!log || lines.length === 0) return;
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
  for (const line of lines) {
    const span = document.createElement("span");
    span.className = `log-${line.level}`;
    span.textContent = `${new Date(line.at).toTimeString().slice(0, 8)} ${line.message}`;
    log.append(span, "\n");
  }
  if (atBottom) log.scrollTop = log.scrollHeight;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

async function poll() {
  try {
    const run = await getJson(`${pathPrefix()}/api/v1/runs/${data.id}`);
    const metrics = await getJson(`${pathPrefix()}/api/v1/runs/${data.id}/metrics?after=${lastMetric}`);
    for (const m of metrics.results) {
      addMetric(m);
      lastMetric = Math.max(lastMetric, m.id);
    }
    drawChart();
    const logs = await getJson(`${pathPrefix()}/api/v1/runs/${data.id}/logs?after=${lastLog}`);
    appendLog(logs.results);
    if (logs.results.length) lastLog = logs.results[logs.results.length - 1].id;
    showState(run);
    showProgress(run);
    showHistory(run.history);
    if (FINISHED.has(run.state)) {
      // The finished page shows results, the published commit and the whole history.
      window.location.reload();
      return;
    }
    state = run.state;
  } catch (error) {
    console.warn("run page: polling failed, retrying", error);
  }
  setTimeout(poll, POLL_MS);
}

for (const m of data.metrics) addMetric(m);
drawChart();
if (!FINISHED.has(state)) setTimeout(poll, POLL_MS);
