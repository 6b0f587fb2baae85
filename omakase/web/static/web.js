// Ming's kitchen: the page's core (words, the URL's state, the API) and sections 1 to 4, which follow
// the tour's chapters 1 to 4. The page only asks the server (same origin) and draws the answers;
// every number comes from it.
"use strict";

// Everything a view depends on lives here and in the URL, so a link reopens the very same moment.
const state = {lang: "en", ckpt: "", name: "emma", t: 0.5, seed: "", ch: "records", course: 1, dial: "", turn: 0,
               a: "", b: "", path: 0};
const URL_KEYS = {lang: "lang", ckpt: "checkpoint", name: "name", t: "temperature", seed: "seed", ch: "chapter",
                  course: "course", dial: "dial", turn: "turn", a: "a", b: "b", path: "path"};
let T = {};  // the catalogue: the model's parts in kitchen words and the page's own words, in the chosen language
let CHECKPOINTS = [];
let MODEL = null;  // the open checkpoint as /api/model describes it
const shown = {};  // section -> the state it was last drawn for (so a section redraws only when needed)

function t(key, vars) {
  const text = T[key] === undefined ? key : T[key];
  return text.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? vars[k] : m));
}
const course = (label) => (label === "<bell>" ? t("bell.label") : label === " " ? "␣" : label);
// A dial in kitchen words, from the parts the server sends (anatomy.dial_parts): as the tour names it.
function dialName(parts) {
  const name = t(parts.key, {...parts, course: parts.course === undefined ? "" : course(parts.course)});
  return parts.layer ? t("dial.in_line", {line: parts.layer, dial: name}) : name;
}

// --- the URL holds the view ------------------------------------------------------------------------
function readURL() {
  const q = new URLSearchParams(location.search);
  for (const [k, key] of Object.entries(URL_KEYS)) if (q.has(key)) state[k] = q.get(key);
  state.t = Math.min(2, Math.max(0, Number(state.t) || 0));
  state.seed = state.seed === "" || !Number.isFinite(Number(state.seed)) ? "" : Math.max(0, Math.floor(Number(state.seed)));
  state.course = Math.max(1, Math.floor(Number(state.course) || 1));
  state.turn = Math.min(2, Math.max(-2, Number(state.turn) || 0));
  state.path = Math.min(4, Math.max(0, Math.floor(Number(state.path) || 0)));  // which top dial's path is traced
  if (!["en", "zh"].includes(state.lang)) state.lang = "en";
}
function writeURL() {
  const q = new URLSearchParams();
  for (const [k, key] of Object.entries(URL_KEYS)) if (state[k] !== "" && state[k] !== null) q.set(key, state[k]);
  history.replaceState(null, "", "?" + q.toString());
}

// --- the API -----------------------------------------------------------------------------------------
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

// --- words -------------------------------------------------------------------------------------------
async function loadWords() {
  T = await api("/api/catalogue/" + state.lang);
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("web.title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  $("lang").textContent = t("web.language");
  $("cook-seed").placeholder = t("grad.run_stream");
}

// --- checkpoints -------------------------------------------------------------------------------------
async function loadCheckpoints(select) {
  const got = await api("/api/checkpoints");
  CHECKPOINTS = got.checkpoints.map((c) => c.id);
  if (select) state.ckpt = select;
  if (!CHECKPOINTS.includes(state.ckpt)) state.ckpt = got.default || "";
  for (const id of ["checkpoint", "cmp-a", "cmp-b"]) {
    $(id).replaceChildren(...CHECKPOINTS.map((c) => el("option", {value: c, text: c})));
  }
  $("checkpoint").value = state.ckpt;
  // the two runs compared (kept in the URL as a and b): the oldest and the newest unless chosen
  if (!CHECKPOINTS.includes(state.a)) state.a = CHECKPOINTS[0] || "";
  if (!CHECKPOINTS.includes(state.b)) state.b = CHECKPOINTS[CHECKPOINTS.length - 1] || "";
  $("cmp-a").value = state.a; $("cmp-b").value = state.b;
  await describeModel();
}
async function describeModel() {
  MODEL = null;
  if (!state.ckpt) { $("model-line").textContent = t("web.none"); $("held-out").textContent = ""; return; }
  const m = await api("/api/model", {checkpoint: state.ckpt});
  MODEL = m;
  $("model-line").textContent = t("web.describe", {...m, params: m.params.toLocaleString(),
                                                   steps: (m.steps || m.step).toLocaleString()});
  const h = m.held_out;
  $("held-out").textContent = h ? t("web.held_out", {documents: h.documents.toLocaleString(),
    records: h.records.toLocaleString(), studied: h.studied_from.toLocaleString(), data: h.data, loss: fmt(h.loss)})
    : t("web.no_records");
}

// --- names as typed ------------------------------------------------------------------------------------
// A name is lowercased as it is typed when the model's courses are lowercase letters only (names.txt):
// "Emma" becomes "emma". A model with capitals in its vocabulary (Shakespeare) keeps what is typed.
function lowercases() {
  const vocab = MODEL ? MODEL.vocab : "abcdefghijklmnopqrstuvwxyz";
  return vocab !== vocab.toUpperCase() && vocab === vocab.toLowerCase();
}
function typed(input) {
  if (!lowercases() || input.value === input.value.toLowerCase()) return;
  const at = input.selectionStart;
  input.value = input.value.toLowerCase();
  input.setSelectionRange(at, at);
}
function setName(name) { state.name = name.trim(); state.course = 1; state.path = 0; writeURL(); }
// The section's own message for an empty name (no request is sent): true when there is a name to serve.
function needName(out) {
  if (state.name) return true;
  $(out).replaceChildren(el("p", {class: "notice", text: t("name.empty")}));
  return false;
}

// --- chapters ------------------------------------------------------------------------------------------
const SECTIONS = {};  // id -> function drawing it for the current state (registered by each section)
function go(ch) {
  if (!SECTIONS[ch]) ch = "records";
  state.ch = ch;
  for (const b of document.querySelectorAll("#chapters button")) b.setAttribute("aria-selected", b.dataset.ch === ch);
  for (const s of document.querySelectorAll("main section")) s.hidden = s.id !== ch;
  for (const input of document.querySelectorAll(`#${ch} .name-input`)) input.value = state.name;
  writeURL();
  const key = [state.lang, state.ckpt, state.name, state.t, state.seed].join("|");
  if (shown[ch] !== key) {
    shown[ch] = key;
    return Promise.resolve(SECTIONS[ch]()).catch(showError);
  }
  return Promise.resolve();
}
function redraw() { for (const k of Object.keys(shown)) delete shown[k]; return go(state.ch); }

// === 1. The records ====================================================================================
SECTIONS.records = async () => {
  if (!state.ckpt || !needName("records-out")) return;
  const got = await api("/api/records", {checkpoint: state.ckpt, name: state.name});
  const h = MODEL && MODEL.held_out;
  const where = got.where === "studied" ? (got.dish ? "records.studied_seen" : "records.studied_not_yet") : "records." + got.where;
  $("records-out").replaceChildren(
    el("p", {class: "big", text: t(where, {name: got.name, studied: h ? h.studied_from.toLocaleString() : "",
                                           documents: h ? h.documents.toLocaleString() : "",
                                           dish: got.dish ? got.dish.toLocaleString() : "",
                                           dishes: got.dishes.toLocaleString()})}),
    el("div", {class: "scroll"}, el("table", {class: "data"},
      el("thead", {}, el("tr", {}, el("th", {text: t("records.menu")}), el("th", {text: t("records.mean")}))),
      el("tbody", {}, [[got.name, got.loss], [got.backwards, got.backwards_loss]].map(([n, loss]) =>
        el("tr", {}, el("td", {text: n}), el("td", {class: "num", text: fmt(loss, 2)})))))),
    el("p", {text: t(got.loss < got.backwards_loss ? "records.order_kept" : got.loss > got.backwards_loss
      ? "records.order_reversed" : "records.order_same", {name: got.name, backwards: got.backwards})}));
};

// === 2. Courses and numbers ============================================================================
SECTIONS.courses = async () => {
  if (!state.ckpt || !needName("courses-out")) return;
  const got = await api("/api/courses", {checkpoint: state.ckpt, name: state.name});
  const cells = (values, matrix, row) => el("div", {class: "strip"}, values.map((v, j) => el("button", {
    type: "button", class: "cell", title: `${j + 1}: ${v.toFixed(3)}`, "aria-label": `${j + 1}: ${v.toFixed(3)}`,
    style: `background:${v < 0 ? `rgba(33,102,172,${Math.min(1, -v / 0.3).toFixed(3)})` : `rgba(210,105,30,${Math.min(1, v / 0.3).toFixed(3)})`}`,
    onclick: () => pickDial({matrix, row, col: j})})));
  $("courses-out").replaceChildren(
    el("p", {text: t("courses.numbers", {name: state.name, numbers: got.courses.map((c) => `${course(c.course)} → ${c.number}`).join(" · ")})}),
    el("div", {class: "scroll"}, el("table", {class: "data cards-table"},
      el("thead", {}, el("tr", {}, ["courses.pos", "courses.course", "courses.number", "courses.card", "courses.tag"].map((k) =>
        el("th", {text: t(k)})))),
      el("tbody", {}, got.courses.map((c, pos) => el("tr", {},
        el("td", {class: "num", text: pos + 1}), el("td", {text: course(c.course)}), el("td", {class: "num", text: c.number}),
        el("td", {}, cells(c.card, "wte", c.number)), el("td", {}, c.tag ? cells(c.tag, "wpe", pos) : "—")))))),
    el("p", {class: "muted", text: t("courses.click")}));
};

// === 3. The assembly line ==============================================================================
let lineData = null;
function drawCourse(pos) {
  const step = lineData.steps[pos];
  state.course = pos + 1; writeURL();
  for (const b of document.querySelectorAll("#line-steps button")) b.setAttribute("aria-pressed", Number(b.dataset.pos) === pos);
  const layers = step.layers.map((layer, i) => el("div", {class: "card"},
    el("h4", {text: t("line.filter", {layer: i + 1, passed: layer.passed.filter(Boolean).length,
                                      width: layer.passed.length})}),
    el("div", {class: "units"}, layer.passed.map((p, u) => el("span", {class: p ? "pass" : "",
                                                                      title: `${u + 1}: ${layer.hidden[u].toFixed(3)}`}))),
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
SECTIONS.line = async () => {
  lineData = null;
  $("line-out").replaceChildren();
  if (!state.ckpt || !needName("line-out")) return;
  const got = await api("/api/assembly", {checkpoint: state.ckpt, name: state.name});
  lineData = got;
  const labels = got.courses.map(course);
  const maps = [];
  for (let l = 0; l < got.n_layer; l++) {
    maps.push(el("h3", {text: t("line.attention", {layer: l + 1})}), el("div", {class: "heads"},
      Array.from({length: got.n_head}, (_, h) => heatmap(got.steps.map((s) => s.layers[l].attention[h]), labels,
                                                          t("chef", {number: h + 1})))));
  }
  $("line-out").replaceChildren(...maps,
    el("div", {class: "steps", id: "line-steps"}, got.steps.map((s, i) =>
      el("button", {type: "button", "data-pos": i, onclick: () => drawCourse(i)}, `${i + 1}: ${course(s.course)}`))),
    el("div", {id: "line-course"}));
  drawCourse(Math.min(state.course, got.steps.length) - 1);
};

// === 4. The diner's scorecard ==========================================================================
SECTIONS.scorecard = async () => {
  if (!state.ckpt || !needName("score-out")) return;
  const got = await api("/api/score", {checkpoint: state.ckpt, name: state.name});
  const served = ["<bell>", ...state.name];
  $("score-out").replaceChildren(
    el("div", {class: "scroll"}, el("table", {class: "data", id: "score-table"},
      el("thead", {}, el("tr", {}, ["score.after", "score.came", "score.share", "score.penalty"].map((k) =>
        el("th", {text: t(k)})))),
      el("tbody", {}, got.courses.map((c, i) => el("tr", {},
        el("td", {text: served.slice(0, i + 1).map(course).join(" ")}), el("td", {text: course(c.truth)}),
        el("td", {class: "num", text: pct(c.p)}), el("td", {class: "num", text: fmt(c.penalty, 2)})))))),
    el("p", {class: "big", text: t("score.mean", {name: state.name, loss: fmt(got.mean_loss, 2)})}),
    el("p", {class: "muted", text: t("score.blind", {n: MODEL ? MODEL.vocab_size : "", blind: fmt(got.blind, 2)})}));
};

// --- wiring ------------------------------------------------------------------------------------------
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
    try { await loadWords(); await describeModel(); drawTraining(); await redraw(); } catch (e) { showError(e); }
  });
  $("checkpoint").addEventListener("change", async (e) => {
    state.ckpt = e.target.value;
    try { await describeModel(); await redraw(); } catch (err) { showError(err); }
  });
  for (const input of document.querySelectorAll(".name-input")) input.addEventListener("input", () => typed(input));
  for (const form of document.querySelectorAll(".name-form")) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      setName(form.querySelector(".name-input").value);
      shown[state.ch] = null;
      go(state.ch);
    });
  }
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
