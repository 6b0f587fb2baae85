// Ming's kitchen: the page's core (words, the URL's state, the API) and sections 1 to 3.
// The page only asks the server (same origin) and draws the answers; every number comes from it.
"use strict";

const state = {lang: "en", ckpt: "", name: "emma", t: 0.5, seed: 42, ch: "train"};
const URL_KEYS = {lang: "lang", ckpt: "checkpoint", name: "name", t: "temperature", seed: "seed", ch: "chapter"};
let T = {};  // the catalogue: the tour's words and the page's own, in the chosen language
let CHECKPOINTS = [];
const shown = {};  // section -> the state it was last drawn for (so a section redraws only when needed)

function t(key, vars) {
  const text = T[key] === undefined ? key : T[key];
  return text.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? vars[k] : m));
}
const course = (label) => (label === "<bell>" ? t("bell.label") : label === " " ? "␣" : label);

// --- the URL holds the view: checkpoint, name, temperature, seed, chapter, language -------------
function readURL() {
  const q = new URLSearchParams(location.search);
  for (const [k, key] of Object.entries(URL_KEYS)) if (q.has(key)) state[k] = q.get(key);
  state.t = Math.min(2, Math.max(0, Number(state.t) || 0));
  state.seed = Math.max(0, Math.floor(Number(state.seed) || 0));
  if (!["en", "zh"].includes(state.lang)) state.lang = "en";
}
function writeURL() {
  const q = new URLSearchParams();
  for (const [k, key] of Object.entries(URL_KEYS)) if (state[k] !== "" && state[k] !== null) q.set(key, state[k]);
  history.replaceState(null, "", "?" + q.toString());
}

// --- the API ------------------------------------------------------------------------------------
async function api(path, params, body) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const init = body === undefined ? {} : {method: "POST", headers: {"content-type": "application/json"},
                                          body: JSON.stringify(body)};
  const response = await fetch(path + (q.toString() ? "?" + q : ""), init);
  const data = await response.json().catch(() => ({error: response.statusText}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  hideError();
  return data;
}
function showError(e) {
  const box = document.getElementById("error");
  box.textContent = t("web.error") + ": " + (e.message || e);
  box.hidden = false;
}
function hideError() { document.getElementById("error").hidden = true; }
const $ = (id) => document.getElementById(id);

// --- words ----------------------------------------------------------------------------------------
async function loadWords() {
  T = await api("/api/catalogue/" + state.lang);
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("web.title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  $("lang").textContent = t("web.language");
}

// --- checkpoints ----------------------------------------------------------------------------------
async function loadCheckpoints(select) {
  const got = await api("/api/checkpoints");
  CHECKPOINTS = got.checkpoints.map((c) => c.id);
  if (select) state.ckpt = select;
  if (!CHECKPOINTS.includes(state.ckpt)) state.ckpt = got.default || "";
  for (const id of ["checkpoint", "cmp-a", "cmp-b"]) {
    const node = $(id), keep = node.value;
    node.replaceChildren(...CHECKPOINTS.map((c) => el("option", {value: c, text: c})));
    node.value = id === "checkpoint" ? state.ckpt : (CHECKPOINTS.includes(keep) ? keep : "");
  }
  if (!$("cmp-a").value && CHECKPOINTS.length) $("cmp-a").value = CHECKPOINTS[0];
  if (!$("cmp-b").value && CHECKPOINTS.length) $("cmp-b").value = CHECKPOINTS[CHECKPOINTS.length - 1];
  await describeModel();
}
async function describeModel() {
  if (!state.ckpt) { $("model-line").textContent = t("web.none"); return; }
  const m = await api("/api/model", {checkpoint: state.ckpt});
  const held = m.val.length ? " · " + t("web.held_out", {...m.val[m.val.length - 1],
                                                         loss: fmt(m.val[m.val.length - 1].loss)}) : "";
  $("model-line").textContent = t("web.describe", {...m, params: m.params.toLocaleString(),
                                                   steps: (m.steps || m.step).toLocaleString()}) + held;
}

// --- chapters -------------------------------------------------------------------------------------
const SECTIONS = {};  // id -> function drawing it for the current state (registered by each section)
function go(ch) {
  if (!SECTIONS[ch]) ch = "train";
  state.ch = ch;
  for (const b of document.querySelectorAll("#chapters button")) b.setAttribute("aria-selected", b.dataset.ch === ch);
  for (const s of document.querySelectorAll("main section")) s.hidden = s.id !== ch;
  writeURL();
  const key = [state.lang, state.ckpt, state.name, state.t, state.seed].join("|");
  if (shown[ch] !== key) {
    shown[ch] = key;
    Promise.resolve(SECTIONS[ch]()).catch(showError);
  }
}
function redraw() { for (const k of Object.keys(shown)) delete shown[k]; go(state.ch); }

// === 1. Live training ==============================================================================
const live = {loss: [], running: [], snapshots: [], stream: null, times: [], status: null};
const COLORS = {loss: "#c9b8d8", running: "#7a3e9d", held: "#d2691e", b: "#2a7ab0"};

function trainBody() {
  const body = {};
  for (const input of $("train-form").elements) body[input.name] = Number(input.value);
  return body;
}
function drawTraining() {
  const s = live.status;
  if (!s) return;
  const held = live.snapshots.filter((x) => x.held_out !== null).map((x) => [x.step, x.held_out]);
  lineChart($("train-chart"), [
    {points: live.loss.map((y, i) => [i + 1, y]), color: COLORS.loss, width: 1},
    {points: live.running.map((y, i) => [i + 1, y]), color: COLORS.running, width: 2.5},
    {points: held, color: COLORS.held, dots: true, dash: "4 3"},
  ], {xmax: s.steps, xlabel: t("train.x")});
  legend($("train-legend"), [[COLORS.loss, t("train.loss")], [COLORS.running, t("train.running")],
                             [COLORS.held, t("train.held_out")]]);
  const now = performance.now();
  live.times = live.times.filter((x) => now - x < 1000);
  const parts = [t("train.state", {state: t("state." + s.state)}), t("train.progress", {step: s.step.toLocaleString(),
                                                                          steps: s.steps.toLocaleString()})];
  if (s.steps_per_s) parts.push(t("train.speed", {rate: Math.round(s.steps_per_s).toLocaleString()}));
  if (live.stream) parts.push(t("train.updates", {rate: live.times.length}));
  if (live.loss.length) parts.push(t("train.loss") + " " + fmt(live.loss[live.loss.length - 1], 3) + " · " +
                                   t("train.running") + " " + fmt(live.running[live.running.length - 1], 3));
  if (s.checkpoint) parts.push(t("train.saved", {id: s.checkpoint}));
  if (s.error) parts.push(s.error);
  $("train-status").textContent = parts.join(" · ");
  $("train-snapshots").replaceChildren(...live.snapshots.map((x) => el("li", {},
    el("b", {text: `${t("train.x")} ${x.step.toLocaleString()}`}), ` (${t("train.held_out")} ${fmt(x.held_out, 3)}): `,
    x.names.map(course).join(", "))));
  const running = s.state === "running", paused = s.state === "paused";
  $("train-start").disabled = running || paused;
  $("train-pause").disabled = !running;
  $("train-resume").disabled = !paused;
  $("train-stop").disabled = !(running || paused);
}
let drawPending = false;
function take(status) {
  if (!status.since) { live.loss = []; live.running = []; }
  live.loss.push(...(status.loss || [])); live.running.push(...(status.running || []));
  live.snapshots = status.snapshots || live.snapshots;
  const ended = live.status && ["running", "paused"].includes(live.status.state) &&
                !["running", "paused"].includes(status.state);
  live.status = status;
  live.times.push(performance.now());
  if (!drawPending) { drawPending = true; requestAnimationFrame(() => { drawPending = false; drawTraining(); }); }
  if (ended && status.checkpoint) loadCheckpoints(status.checkpoint).then(() => { writeURL(); redraw(); })
    .catch(showError);
}
function watch() {  // server-sent events: the new steps about 20 times a second, until the run ends
  if (live.stream) live.stream.close();
  const stream = new EventSource("/api/training/events?since=" + live.loss.length);
  live.stream = stream;
  stream.onmessage = (e) => {
    const status = JSON.parse(e.data);
    take(status);
    if (!["running", "paused"].includes(status.state)) { stream.close(); live.stream = null; drawTraining(); }
  };
  stream.onerror = () => { stream.close(); if (live.stream === stream) live.stream = null; };
}
async function trainControl(action) {
  try {
    if (action === "start") {
      take(await api("/api/training", {}, trainBody()));
      watch();
    } else {
      take(await api("/api/training/" + action, {}, {}));
      if (action === "resume" && !live.stream) watch();
    }
  } catch (e) { showError(e); }
}
SECTIONS.train = async () => {
  const status = await api("/api/training");
  take(status);
  if (["running", "paused"].includes(status.state) && !live.stream) watch();
  drawTraining();
};

// === 2. Graduation =================================================================================
let cookTimer = null;
async function cookNames() {
  if (!state.ckpt) return;
  const got = await api("/api/cook", {checkpoint: state.ckpt, n: 12, temperature: state.t, seed: state.seed});
  $("dishes").replaceChildren(...got.dishes.map((d) => {
    const kind = d.kind === "invented" ? "invented" : d.kind === "from the records" ? "records" : "unknown";
    return el("li", {class: "kind-" + kind}, el("button", {type: "button", "data-name": d.name,
      onclick: () => showVotes(d.name)}, el("span", {text: d.name || "∅"}), el("small", {text: t("grad." + kind)})));
  }));
}
async function showVotes(name) {
  for (const b of document.querySelectorAll("#dishes button")) b.setAttribute("aria-pressed", b.dataset.name === name);
  if (name === "") { $("votes").replaceChildren(); return; }
  const got = await api("/api/votes", {checkpoint: state.ckpt, name, temperature: state.t});
  const served = ["<bell>", ...name];
  $("votes").replaceChildren(el("h3", {text: t("grad.votes", {name, t: state.t})}), el("div", {class: "cards"},
    got.courses.map((c, i) => el("div", {class: "card"},
      el("h4", {text: t("grad.after", {courses: served.slice(0, i + 1).map(course).join(" ")})}),
      bars(c.top, course, c.truth),
      el("p", {class: "muted", text: t("grad.came", {course: course(c.truth), p: pct(c.p_truth)})})))));
}
SECTIONS.graduate = async () => {
  $("temperature").value = state.t; $("temperature-value").textContent = Number(state.t).toFixed(2);
  $("cook-seed").value = state.seed;
  $("votes").replaceChildren();
  await cookNames();
};

// === 3. The assembly line ==========================================================================
let lineData = null;
function drawCourse(pos) {
  const step = lineData.steps[pos];
  for (const b of document.querySelectorAll("#line-steps button")) b.setAttribute("aria-pressed", Number(b.dataset.pos) === pos);
  const layers = step.layers.map((layer, i) => el("div", {class: "card"},
    el("h4", {text: t("line.filter", {layer: i + 1, passed: layer.passed.filter(Boolean).length,
                                      width: layer.passed.length})}),
    el("div", {class: "units"}, layer.passed.map((p, u) => el("span", {class: p ? "pass" : "",
                                                                      title: `${u}: ${layer.hidden[u].toFixed(3)}`}))),
    el("p", {text: t("line.stock", {layer: i + 1, stock_in: fmt(layer.stock_in, 2), spoonful: fmt(layer.spoonful, 2),
                                    after_attention: fmt(layer.after_attention, 2),
                                    back_kitchen: fmt(layer.back_kitchen, 2), after: fmt(layer.after, 2)})})));
  $("line-course").replaceChildren(
    el("h3", {text: t("line.course", {pos: pos + 1, course: course(step.course)})}),
    el("div", {class: "cards"},
      el("div", {class: "card"}, el("h4", {text: t("line.card", {n: step.card.length, size: fmt(step.card_size, 2)})}),
         strip(step.card)),
      layers,
      el("div", {class: "card"}, el("h4", {text: t("line.vote")}), bars(step.vote, course, step.next),
         step.next === null ? null : el("p", {class: "muted", text: t("line.next", {course: course(step.next)})}))));
}
async function serveLine() {
  lineData = null;
  if (!state.ckpt || !state.name) { $("line-out").replaceChildren(); return; }
  const got = await api("/api/assembly", {checkpoint: state.ckpt, name: state.name});
  lineData = got;
  const labels = got.courses.map(course);
  const maps = [];
  for (let l = 0; l < got.n_layer; l++) {
    maps.push(el("h3", {text: t("line.attention", {layer: l + 1})}), el("div", {class: "heads"},
      Array.from({length: got.n_head}, (_, h) => heatmap(got.steps.map((s) => s.layers[l].attention[h]), labels,
                                                          t("ch3.chef", {number: h + 1})))));
  }
  $("line-out").replaceChildren(...maps,
    el("div", {class: "steps", id: "line-steps"}, got.steps.map((s, i) =>
      el("button", {type: "button", "data-pos": i, onclick: () => drawCourse(i)}, `${i + 1}: ${course(s.course)}`))),
    el("div", {id: "line-course"}));
  drawCourse(got.steps.length - 1);
}
SECTIONS.line = async () => { $("line-name").value = state.name; await serveLine(); };

// --- wiring ---------------------------------------------------------------------------------------
function setName(name) { state.name = name.trim(); writeURL(); }
function wire() {
  for (const b of document.querySelectorAll("#chapters button")) b.addEventListener("click", () => go(b.dataset.ch));
  $("chapters").addEventListener("keydown", (e) => {  // arrow keys move between chapters, as tabs do
    const tabs = [...document.querySelectorAll("#chapters button")], i = tabs.indexOf(document.activeElement);
    if (i < 0 || !["ArrowLeft", "ArrowRight"].includes(e.key)) return;
    const next = tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    next.focus(); go(next.dataset.ch);
  });
  $("lang").addEventListener("click", async () => {
    state.lang = state.lang === "en" ? "zh" : "en";
    writeURL();
    try { await loadWords(); await describeModel(); drawTraining(); redraw(); } catch (e) { showError(e); }
  });
  $("checkpoint").addEventListener("change", async (e) => {
    state.ckpt = e.target.value;
    try { await describeModel(); redraw(); } catch (err) { showError(err); }
  });
  $("train-reference").addEventListener("click", () => {
    const reference = {n_layer: 1, n_embd: 16, n_head: 4, steps: 1000, lr: 0.01, batch_size: 1, seed: 42};
    for (const input of $("train-form").elements) input.value = reference[input.name];
  });
  for (const action of ["start", "pause", "resume", "stop"]) $("train-" + action).addEventListener("click", () => trainControl(action));
  $("temperature").addEventListener("input", (e) => {
    state.t = Number(e.target.value); $("temperature-value").textContent = state.t.toFixed(2); writeURL();
    clearTimeout(cookTimer);
    cookTimer = setTimeout(() => { shown.graduate = null; go("graduate"); }, 150);
  });
  $("cook-seed").addEventListener("change", (e) => { state.seed = Math.max(0, Math.floor(Number(e.target.value) || 0)); writeURL(); });
  $("cook").addEventListener("click", () => cookNames().catch(showError));
  $("line-form").addEventListener("submit", (e) => {
    e.preventDefault(); setName($("line-name").value); shown.line = null; go("line");
  });
}

async function main() {
  readURL();
  wire();
  try {
    await loadWords();
    await loadCheckpoints();
    writeURL();
  } catch (e) { showError(e); }
  go(state.ch);
}
document.addEventListener("DOMContentLoaded", main);
