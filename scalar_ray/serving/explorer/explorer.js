// The scalar-ray explorer: search the catalogue, plot series in a time zone and frequency, overlay vintages, a
// staircase, a forecast's quantile band or the battery strategy's bids, and follow the live push. Every read is a call
// of the public API (/v1/series, /v1/series/values, /v1/instances/staircase, /v1/forecasts/…/staircase,
// /v1/strategy/…/bids, /v1/stream) with the user's key;
// the whole view lives in the page's URL, so a copied link reproduces it. Times are UTC inside; days are picked in
// the chosen zone, whose local midnights are found with Intl (23- and 25-hour days come out right).
"use strict";

const $ = (id) => document.getElementById(id);
const KEY_STORE = "scalar-ray-key"; // the key stays in this tab's session storage, never in the URL
const FIELDS = ["start", "end", "tz", "frequency", "aggregation", "overlay", "lead", "forecast"];
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
const MAX_VINTAGES = 6;
const MAX_STRATEGY_DAYS = 14; // one request per delivery day
let chart = null;
let selected = [];
let follower = null;

function headers() {
  const key = $("key").value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function api(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    for (const one of [].concat(value)) if (one !== "" && one != null) url.searchParams.append(name, one);
  }
  const answer = await fetch(url, { headers: headers() });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const error = body.error || {};
    const hint = answer.status === 401 ? " (enter the API key above)" : "";
    throw new Error(`${answer.status} ${error.code || ""}: ${error.message || answer.statusText}${hint}`);
  }
  return body;
}

// -- time: local days of an IANA zone as UTC instants ------------------------------------------------------------

function offsetMinutes(instant, zone) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(instant);
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  const wall = Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second"));
  return (wall - instant.getTime()) / 60000;
}

function localMidnight(day, zone) {
  // The instant whose wall time in `zone` is `day` 00:00: start from UTC midnight, correct by the offset twice
  // (once more in case the first guess fell on the other side of a DST change).
  const [y, m, d] = day.split("-").map(Number);
  let instant = new Date(Date.UTC(y, m - 1, d));
  for (let i = 0; i < 2; i++) instant = new Date(Date.UTC(y, m - 1, d) - offsetMinutes(instant, zone) * 60000);
  return instant;
}

function addDays(day, days) {
  // Calendar days on the date alone: 24-hour steps would land on the wrong day across a DST change.
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function dayIn(instant, zone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(instant);
}

function window_() {
  const zone = $("tz").value || "UTC";
  return {
    start: localMidnight($("start").value, zone).toISOString(),
    end: localMidnight(addDays($("end").value, 1), zone).toISOString(), // the To day is included
  };
}

const seconds = (iso) => Date.parse(iso) / 1000;

// -- the view in the URL ----------------------------------------------------------------------------------------

function readState() {
  const params = new URLSearchParams(location.search);
  selected = params.getAll("id");
  for (const field of FIELDS) if (params.has(field)) $(field).value = params.get(field);
  $("live").checked = params.get("live") === "1";
}

function writeState() {
  const params = new URLSearchParams();
  for (const id of selected) params.append("id", id);
  for (const field of FIELDS) if ($(field).value) params.set(field, $(field).value);
  if ($("live").checked) params.set("live", "1");
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

// -- catalogue --------------------------------------------------------------------------------------------------

async function search(event) {
  event?.preventDefault();
  const body = await api("/v1/series", { q: $("q").value, page_size: 25 });
  const rows = $("results").tBodies[0];
  rows.replaceChildren();
  const columns = body.columns;
  columns.series_id.forEach((id, i) => {
    const row = rows.insertRow();
    row.dataset.id = id;
    row.insertCell().append(id);
    row.cells[0].className = "id";
    row.insertCell().append(`${columns.unit[i]} ${columns.resolution[i]}`);
    const add = document.createElement("button");
    add.textContent = "plot";
    add.type = "button";
    add.onclick = () => pick(id, columns.last_ts[i]);
    row.insertCell().append(add);
  });
  $("total").textContent = `${body.total} series`;
}

function pick(id, lastTs) {
  if (!selected.includes(id)) selected.push(id);
  if (!$("start").value && lastTs) { // a first pick: the series' last week, in the chosen zone
    const zone = $("tz").value || "UTC";
    $("end").value = dayIn(new Date(lastTs), zone);
    $("start").value = addDays($("end").value, -6);
  }
  plot();
}

function showSelected() {
  $("selected").replaceChildren(...selected.map((id) => {
    const item = document.createElement("li");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.title = `remove ${id}`;
    remove.onclick = () => { selected = selected.filter((s) => s !== id); plot(); };
    item.append(id, remove);
    return item;
  }));
}

async function defaultWindow() {
  // A link with series but no days: the last week of the first series, from the catalogue's last interval.
  const body = await api("/v1/series", { q: selected[0], page_size: 100 });
  const index = body.columns.series_id.indexOf(selected[0]);
  pick(selected[0], index >= 0 ? body.columns.last_ts[index] : new Date().toISOString());
}

// -- reads and the chart ----------------------------------------------------------------------------------------

async function mainSeries(span) {
  const body = await api("/v1/series/values", {
    id: selected, ...span, tz: $("tz").value, frequency: $("frequency").value,
    aggregation: $("aggregation").value, layout: "wide",
  });
  const x = body.columns.ts.map(seconds);
  return selected.map((id) => ({ label: id, x, y: body.columns[id] }));
}

function byIssue(columns) {
  const issues = new Map();
  columns.issued_at.forEach((issued, i) => {
    if (!issues.has(issued)) issues.set(issued, { x: [], y: [] });
    issues.get(issued).x.push(seconds(columns.ts[i]));
    issues.get(issued).y.push(columns.value[i]);
  });
  return [...issues.entries()].sort(([a], [b]) => Date.parse(a) - Date.parse(b));
}

async function overlays(span) {
  const first = selected[0];
  const kind = $("overlay").value;
  if (kind === "vintages") {
    const body = await api("/v1/series/values", { id: first, ...span, tz: $("tz").value, vintage: "all" });
    return byIssue(body.columns).slice(-MAX_VINTAGES)
      .map(([issued, line]) => ({ label: `issued ${issued}`, ...line, dash: [4, 3] }));
  }
  if (kind === "staircase") {
    const body = await api("/v1/instances/staircase", { id: first, ...span, tz: $("tz").value, lead: $("lead").value });
    return [{ label: `staircase ${$("lead").value}`, x: body.columns.ts.map(seconds), y: body.columns.value, dash: [6, 3] }];
  }
  if (kind === "forecast" && $("forecast").value.includes("/")) {
    const [family, zone] = $("forecast").value.split("/");
    const body = await api(`/v1/forecasts/${encodeURIComponent(family)}/${encodeURIComponent(zone)}/staircase`,
      { ...span, tz: $("tz").value, lead: $("lead").value || "PT0S" });
    const c = body.columns;
    const rows = c.target.map((target, i) => i).filter((i) => c.target[i] === first || !c.target.includes(first));
    const x = rows.map((i) => seconds(c.ts[i]));
    const line = (name) => rows.map((i) => c[name][i]);
    return [
      { label: `${family} q90`, x, y: line("q90"), band: "high" },
      { label: `${family} mean`, x, y: line("mean"), dash: [6, 3] },
      { label: `${family} q10`, x, y: line("q10"), band: "low" },
    ];
  }
  if (kind === "strategy") {
    return strategyLines($("forecast").value.split("/")[1] || "DK1");
  }
  return [];
}

async function strategyLines(zone) {
  // Per delivery day (the From-To days, local to the zone), the bids made from the price forecast stored by the
  // gate, and what cleared: the limit prices on the price axis, the cleared MW on their own axis.
  // An interval without a bid is a gap, not a line drawn across it.
  const limit = { label: `${zone} bid limit`, x: [], y: [], dash: [2, 2], spanGaps: false };
  const cleared = { label: `${zone} cleared MW`, x: [], y: [], scale: "mw", spanGaps: false };
  for (let day = $("start").value, n = 0; day <= $("end").value && n < MAX_STRATEGY_DAYS; day = addDays(day, 1), n++) {
    let body;
    try {
      body = await api(`/v1/strategy/${encodeURIComponent(zone)}/bids`, { day, tz: $("tz").value });
    } catch (error) {
      if (/^(404|422) /.test(error.message)) continue; // no forecast by that day's gate
      throw error;
    }
    const c = body.columns;
    c.ts.forEach((ts, i) => {
      limit.x.push(seconds(ts));
      limit.y.push(c.limit_price[i]);
      cleared.x.push(seconds(ts));
      cleared.y.push(c.cleared_mw[i]);
    });
  }
  return [limit, cleared];
}

function draw(lines) {
  const zone = $("tz").value || "UTC";
  const data = uPlot.join(lines.map((line) => [line.x, line.y.map((v) => (v == null ? null : v))]));
  const series = [{ label: zone }, ...lines.map((line, i) => ({
    label: line.label, stroke: COLOURS[i % COLOURS.length], width: line.dash ? 1 : 2, dash: line.dash,
    spanGaps: line.spanGaps ?? Boolean(line.dash || line.band), scale: line.scale || "y",
  }))];
  const megawatts = lines.some((line) => line.scale === "mw");
  const axes = megawatts ? [{}, { scale: "y" }, { scale: "mw", side: 1, label: "MW", grid: { show: false } }] : undefined;
  const high = lines.findIndex((line) => line.band === "high");
  const low = lines.findIndex((line) => line.band === "low");
  const bands = high >= 0 && low >= 0 ? [{ series: [high + 1, low + 1], fill: "rgba(31,119,180,0.15)" }] : [];
  chart?.destroy();
  chart = new uPlot({
    width: Math.max(480, $("chart").clientWidth || 900), height: 420, series, bands, axes,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
    scales: megawatts ? { x: { time: true }, mw: { auto: true } } : { x: { time: true } },
  }, data, $("chart"));
  window.explorerChart = chart; // for the browser tests and the console
  return lines.map((line) => line.y.filter((v) => v != null).length);
}

let plotRun = 0; // the newest plot; an older one still in flight (say, sent before the key was typed) is dropped

async function plot(event) {
  event?.preventDefault();
  const run = ++plotRun;
  showSelected();
  writeState();
  const status = $("status");
  status.className = "";
  if (!selected.length) { chart?.destroy(); chart = null; status.textContent = "pick a series"; return; }
  try {
    if (!$("start").value || !$("end").value) { await defaultWindow(); return; }
    const span = window_();
    const lines = [...(await mainSeries(span)), ...(await overlays(span))];
    if (run !== plotRun) return;
    const counts = draw(lines);
    const main = counts.slice(0, selected.length).reduce((a, b) => a + b, 0);
    status.dataset.points = String(main);
    const drawn = counts.filter((count) => count > 0).length; // lines with at least one point
    status.dataset.lines = String(drawn);
    status.textContent = `${main} points of ${selected.length} series in ${$("tz").value}` +
      (lines.length > selected.length ? `, ${drawn - counts.slice(0, selected.length).filter(Boolean).length} overlay lines` : "");
  } catch (error) {
    if (run !== plotRun) return;
    status.className = "error";
    status.textContent = error.message;
    delete status.dataset.points;
  }
  follow();
}

// -- live push: Server-Sent Events read with fetch, so the key travels in a header ----------------------------------

function follow() {
  follower?.abort();
  follower = null;
  if (!$("live").checked || !selected.length) return;
  const controller = new AbortController();
  follower = controller;
  let lastId = null;
  let pending = null;
  const changed = () => { clearTimeout(pending); pending = setTimeout(() => plot(), 300); };
  (async () => {
    while (!controller.signal.aborted) {
      try {
        const url = new URL("/v1/stream", location.origin);
        for (const id of selected) url.searchParams.append("id", id);
        const answer = await fetch(url, {
          headers: { ...headers(), ...(lastId ? { "Last-Event-ID": lastId } : {}) }, signal: controller.signal,
        });
        const reader = answer.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = block.match(/^id: (.*)$/m);
            if (id) lastId = id[1];
            if (/^event: (change|gap)$/m.test(block)) changed();
          }
        }
      } catch (error) {
        if (controller.signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000)); // reconnect, resuming after the last event seen
    }
  })();
}

// -- wiring -----------------------------------------------------------------------------------------------------

$("key").value = sessionStorage.getItem(KEY_STORE) || "";
$("key").addEventListener("change", () => { sessionStorage.setItem(KEY_STORE, $("key").value.trim()); plot(); });
$("search").addEventListener("submit", (event) => search(event).catch((error) => {
  $("total").textContent = error.message;
}));
$("controls").addEventListener("submit", plot);
$("copy").addEventListener("click", () => navigator.clipboard?.writeText(location.href));
readState();
plot();
