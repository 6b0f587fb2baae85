// Ming's kitchen, sections 5 to 8 (the tour's chapters 5 to 8): tracing and turning a dial, live training,
// graduation, comparing runs. Loaded after web.js (it uses its state, words and API helpers).
"use strict";

const technique = (op) => (op === "leaf" ? "—" : t("tech." + op) + ` (${op})`);  // a leaf is made by no technique

// === 5. Tracing "too salty" ===========================================================================
const worked = {data: null, at: 0};
function workedSteps() {
  const d = worked.data;
  return [...d.forward.map((f) => ({kind: "forward", ...f})), ...d.backward.map((b) => ({kind: "backward", ...b}))];
}
function drawWorked() {
  const d = worked.data, steps = workedSteps(), done = steps.slice(0, worked.at);
  const value = {}, influence = {};
  let say = "";
  const names = d.forward.map((f) => t("node." + f.name));
  for (const s of done) {
    if (s.kind === "forward") {
      value[s.node] = s.value;
      say = t("trace.forward_step", {name: names[s.node], value: fmt(s.value, 2), op: technique(s.op)});
    } else {
      if (influence[s.from] === undefined) influence[s.from] = 1;  // the end's influence on itself
      const before = influence[s.from];
      influence[s.to] = (influence[s.to] || 0) + s.flow;
      say = t("trace.backward_step", {to: names[s.to], from: names[s.from], local: fmt(s.local, 2),
                                      from_influence: fmt(before, 2), flow: fmt(s.flow, 2), op: technique(s.op),
                                      influence: fmt(influence[s.to], 2)});
    }
  }
  $("worked-say").textContent = say;  // the last step's own words stay; the end is said on a line of its own
  const end = worked.at === steps.length;
  $("worked-done").hidden = !end;
  $("worked-done").textContent = end ? t("trace.done", {salt: fmt(d.engine.salt, 2), sugar: fmt(d.engine.sugar, 2)}) : "";
  const current = done.length ? done[done.length - 1] : null;
  const now = current ? (current.kind === "forward" ? current.node : current.to) : -1;
  $("worked-table").replaceChildren(el("table", {class: "data"},
    el("thead", {}, el("tr", {}, ["trace.node", "trace.technique", "trace.value", "trace.influence"].map((k) =>
      el("th", {text: t(k)})))),
    el("tbody", {}, d.forward.map((f, i) => el("tr", {class: i === now ? "now" : value[i] === undefined ? "pending" : ""},
      el("td", {text: names[i]}), el("td", {text: technique(f.op)}),
      el("td", {class: "num", text: value[i] === undefined ? "·" : fmt(value[i], 2)}),
      el("td", {class: "num", text: influence[i] === undefined ? "·" : fmt(influence[i], 2)}))))));
  $("worked-step").disabled = worked.at >= steps.length;
}

// Where a node of the traced path was made, in kitchen words (tracing.py names it from the kitchen's trace).
function where(w, d) {
  if (w.what === "dial") return dialName(d.dials[d.path_to].dial);
  const text = w.what === "inside" ? t("where.inside", {station: t("station." + w.station)})
    : t(`where.${w.station === "penalty" ? "penalty" : w.station + "." + w.what}`,
        {...w, course: w.course === undefined ? "" : course(w.course), for: w.for === undefined ? "" : course(w.for)});
  return w.line ? t("station.in_line", {line: w.line, station: text}) : text;
}
let traced = null;
function drawCourseTrace(revealed) {
  const d = traced, path = d.path.slice(0, revealed);
  $("course-out").replaceChildren(
    el("h3", {text: t("trace.course_title", {name: d.name})}),
    el("p", {text: t("trace.course", {context: d.context.map(course).join(" "), truth: course(d.truth), p: pct(d.p),
                                      penalty: fmt(d.penalty, 3), nodes: d.nodes.toLocaleString()})}),
    el("table", {class: "data"}, el("tbody", {}, Object.entries(d.techniques).map(([op, n]) =>
      el("tr", {}, el("td", {text: technique(op)}), el("td", {class: "num", text: n.toLocaleString()}))))),
    el("h3", {text: t(d.path_to ? "trace.path_to" : "trace.path", {dial: dialName(d.dials[d.path_to].dial)})}),
    el("div", {class: "row"},
      el("button", {type: "button", id: "path-step", class: "primary", disabled: revealed >= d.path.length,
                    onclick: () => drawCourseTrace(revealed + 1)}, t("trace.step")),
      el("button", {type: "button", id: "path-all", onclick: () => drawCourseTrace(d.path.length)}, t("trace.all"))),
    el("div", {class: "scroll"}, el("table", {class: "data", id: "path-table"},
      el("thead", {}, el("tr", {}, el("th", {text: "#"}), ["trace.where", "trace.technique", "trace.value",
                                                           "trace.influence"].map((k) => el("th", {text: t(k)})))),
      el("tbody", {}, path.map((n, i) => el("tr", {class: i === revealed - 1 ? "now" : ""},
        el("td", {class: "num", text: i + 1}), el("td", {class: "where", text: where(n.where, d)}),
        el("td", {text: technique(n.op)}), el("td", {class: "num", text: fmt(n.value, 4)}),
        el("td", {class: "num", text: fmt(n.influence, 4)})))))),
    ...(revealed < d.path.length ? [] : [dialsFound(d)]));
  const focus = $("path-step");
  if (focus && revealed > 0 && !focus.disabled) focus.focus();
}
function dialsFound(d) {
  return el("div", {},
    el("h3", {text: t("trace.dials", {params: d.params.toLocaleString()})}),
    el("div", {class: "scroll"}, el("table", {class: "data", id: "found-table"},
      el("thead", {}, el("tr", {}, ["trace.dial", "trace.influence", "trace.predicted", "trace.measured"].map((k) =>
        el("th", {text: t(k)})), el("th"))),
      el("tbody", {}, d.dials.map((x, k) => {
        const measured = el("td", {class: "num", text: "?"});
        return el("tr", {class: k === d.path_to ? "now" : ""}, el("td", {text: dialName(x.dial)}),
          el("td", {class: "num", text: fmt(x.influence, 4)}),
          el("td", {class: "num", text: (x.predicted >= 0 ? "+" : "") + x.predicted.toExponential(3)}), measured,
          el("td", {}, el("button", {type: "button", class: "small nudge", onclick: (e) => {
            measured.textContent = (x.measured >= 0 ? "+" : "") + x.measured.toExponential(3);
            e.target.disabled = true;
          }}, t("trace.nudge", {nudge: d.nudge})),
          " ", el("button", {type: "button", class: "small path-to", disabled: k === d.path_to,
                             onclick: () => followPath(k)}, t("trace.follow")),
          " ", el("button", {type: "button", class: "small turn-it", onclick: () => pickDial(x)}, t("trace.turn"))));
      })))));
}

// --- turning a dial (the nudge, by hand) ---
let wall = null, wallFor = "", foundDials = [];
const dial = {matrix: "", row: 0, col: 0};
async function loadWall() {
  if (wall && wallFor === state.ckpt) return wall;
  wall = await api("/api/dials", {checkpoint: state.ckpt});
  wallFor = state.ckpt;
  return wall;
}
function readDial() {  // state.dial is "matrix.row.col" (a layer's matrix has a dot of its own)
  const parts = String(state.dial).split(".");
  const m = wall.matrices.find((x) => x.matrix === parts.slice(0, -2).join(".")) || wall.matrices[0];
  dial.matrix = m.matrix;
  dial.row = Math.min(m.rows - 1, Math.max(0, Math.floor(Number(parts[parts.length - 2]) || 0)));
  dial.col = Math.min(m.cols - 1, Math.max(0, Math.floor(Number(parts[parts.length - 1]) || 0)));
  state.dial = `${dial.matrix}.${dial.row}.${dial.col}`;
}
async function pickDial(x) {  // from tracing's table, or a card's number in section 2
  await loadWall();  // the wall first: the form is filled from it
  if (x.dial) foundDials = [x, ...foundDials.filter((y) => y.matrix !== x.matrix || y.row !== x.row || y.col !== x.col)].slice(0, 8);
  state.dial = `${x.matrix}.${x.row}.${x.col}`;
  state.turn = 0;
  if (state.ch !== "trace") await go("trace");
  readDial();
  writeURL();
  fillDialForm();
  $("dial-box").scrollIntoView({block: "start"});
  await turnDial();
}
const stationKey = (m) => `${m.station}:${m.layer === null ? "" : m.layer}`;
function stationLabel(m) {
  const name = t("station." + m.station);
  return m.layer !== null && wall.n_layer > 1 ? t("station.in_line", {line: m.layer + 1, station: name}) : name;
}
function fillDialForm() {
  const here = wall.matrices.find((m) => m.matrix === dial.matrix);
  const stations = [...new Map(wall.matrices.map((m) => [stationKey(m), m])).values()];
  $("dial-station").replaceChildren(...stations.map((m) => el("option", {value: stationKey(m), text: stationLabel(m)})));
  $("dial-station").value = stationKey(here);
  const parts = wall.matrices.filter((m) => stationKey(m) === stationKey(here));
  $("dial-part").replaceChildren(...parts.map((m) => el("option", {value: m.matrix, text: t("part." + m.kind)})));
  $("dial-part").value = dial.matrix;
  $("dial-part").disabled = parts.length < 2;
  $("dial-row").replaceChildren(...here.row_parts.map((p, i) => el("option", {value: i,
    text: t("row." + here.kind, {...p, course: p.course === undefined ? "" : course(p.course)})})));
  $("dial-row").value = dial.row;
  $("dial-col").replaceChildren(...here.col_parts.map((p, j) => el("option", {value: j, text: t("col." + here.kind, p)})));
  $("dial-col").value = dial.col;
  $("dial-delta").value = state.turn; $("dial-delta-value").textContent = Number(state.turn).toFixed(2);
  $("dial-found").replaceChildren(...foundDials.map((x) => el("button", {type: "button", class: "small",
    onclick: () => pickDial(x)}, dialName(x.dial))));
}
let turnSeq = 0;
async function turnDial() {
  if (!state.ckpt || !state.name) return;
  const seq = ++turnSeq;
  const got = await api("/api/turn", {}, {checkpoint: state.ckpt, matrix: dial.matrix, row: dial.row, col: dial.col,
                                          delta: Number(state.turn), name: state.name});
  if (seq !== turnSeq) return;  // a later turn is on its way: show only the newest
  $("dial-name").textContent = dialName(got.dial);
  const change = got.after.mean_loss - got.before.mean_loss;
  $("dial-out").replaceChildren(
    el("p", {class: "big"}, t("dial.value", {value: fmt(got.value, 4), turned: fmt(got.turned, 4)})),
    el("p", {class: "big", id: "dial-score"}, t("dial.score", {name: state.name, before: fmt(got.before.mean_loss),
      after: fmt(got.after.mean_loss)}), " ", Number.isFinite(change) ? el("span", {class: change > 0 ? "up" :
      change < 0 ? "down" : "", text: `(${change >= 0 ? "+" : ""}${change.toFixed(4)})`}) : null),
    el("h3", {text: t("dial.next", {name: state.name})}),
    el("div", {class: "side"},
      el("div", {class: "card"}, el("h4", {text: t("dial.before")}), bars(got.before.next, course)),
      el("div", {class: "card"}, el("h4", {text: t("dial.after")}), bars(got.after.next, course))));
}
let dialTimer = null;
function dialChanged() { writeURL(); clearTimeout(dialTimer); dialTimer = setTimeout(() => turnDial().catch(showError), 80); }
async function traceCourse() {
  traced = await api("/api/trace/course", {checkpoint: state.ckpt, name: state.name, path: state.path});
}
async function followPath(k) {  // the path from the penalty to another of the dials that matter most
  state.path = k; writeURL();
  try { await traceCourse(); drawCourseTrace(traced.path.length); } catch (e) { showError(e); }
}
SECTIONS.trace = async () => {
  worked.data = await api("/api/trace/worked");
  worked.at = 0;
  drawWorked();
  $("course-out").replaceChildren();
  if (!state.ckpt) return;
  await loadWall();
  readDial();
  writeURL();
  fillDialForm();
  if (!needName("course-out")) { $("dial-out").replaceChildren(); return; }
  await Promise.all([traceCourse(), turnDial()]);
  drawCourseTrace(state.path ? traced.path.length : 0);
};

// === 6. The sensei's training method: live training ====================================================
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
  const heldWords = t("train.held_out", {n: s.snapshot_docs});
  legend($("train-legend"), [[COLORS.loss, t("train.loss")], [COLORS.running, t("train.running")],
                             [COLORS.held, heldWords]]);
  const now = performance.now();
  live.times = live.times.filter((x) => now - x < 1000);
  const parts = [t("train.state", {state: t("state." + s.state)}), t("train.progress", {step: s.step.toLocaleString(),
                                                                          steps: s.steps.toLocaleString()})];
  if (s.steps_per_s) parts.push(t("train.speed", {rate: Math.round(s.steps_per_s).toLocaleString()}));
  if (live.stream) parts.push(t("train.updates", {rate: live.times.length}));
  if (live.loss.length) parts.push(t("train.loss") + " " + fmt(live.loss[live.loss.length - 1], 3) + " · " +
                                   t("train.running") + " " + fmt(live.running[live.running.length - 1], 3));
  if (s.held_out) parts.push(t("train.final_held_out", {loss: fmt(s.held_out.loss), documents: s.held_out.n_docs.toLocaleString()}));
  if (s.checkpoint) parts.push(t("train.saved", {id: s.checkpoint}));
  if (s.error) parts.push(s.error);
  $("train-status").textContent = parts.join(" · ");
  $("train-snapshots").replaceChildren(...live.snapshots.map((x) => el("li", {},
    el("b", {text: `${t("train.x")} ${x.step.toLocaleString()}`}), ` (${heldWords} ${fmt(x.held_out, 3)}): `,
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
  if (ended && status.checkpoint) loadCheckpoints(status.checkpoint).then(() => { writeURL(); return redraw(); })
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

// === 7. Graduation: the risk dial reshapes one course's vote ==========================================
const VOTE_SHOWN = 8;  // candidates drawn; the rest are summed in one line
let cookTimer = null, voteSeq = 0;
async function cookNames() {
  if (!state.ckpt) return;
  const got = await api("/api/cook", {checkpoint: state.ckpt, n: 20, temperature: state.t, seed: state.seed});
  $("cook-line").textContent = t(state.seed === "" ? "grad.cooked_run" : "grad.cooked_seed",
                                 {t: Number(state.t).toFixed(2), seed: state.seed});
  $("dishes").replaceChildren(...got.dishes.map((d) => {
    const kind = d.kind === "invented" ? "invented" : d.kind === "from the records" ? "records" : "unknown";
    return el("li", {class: "kind-" + kind}, el("button", {type: "button", "data-name": d.name,
      "aria-pressed": String(d.name === state.name), onclick: () => followDish(d.name)},
      el("span", {text: d.name || "∅"}), el("small", {text: t("grad." + kind)})));
  }));
}
function followDish(name) {
  if (!name) return;
  state.name = name; state.course = 1; writeURL();
  for (const b of document.querySelectorAll("#dishes button")) b.setAttribute("aria-pressed", b.dataset.name === name);
  showVote().catch(showError);
}
// One course's vote at the current temperature, redrawn in place as the slider moves. The candidates keep
// their order (a temperature rescales every score alike, so the order never changes); only the shares move.
async function showVote() {
  if (!state.ckpt || !state.name) { $("votes").replaceChildren(); return; }
  const seq = ++voteSeq, temperature = state.t;
  const got = await api("/api/votes", {checkpoint: state.ckpt, name: state.name, temperature});
  if (seq !== voteSeq) return;
  const served = ["<bell>", ...state.name];
  state.course = Math.min(state.course, got.courses.length);
  const c = got.courses[state.course - 1];
  const order = got.labels.map((label, i) => i).sort((a, b) => c.shares[b] - c.shares[a]);
  const truth = got.labels.indexOf(c.truth);
  const top = order.slice(0, VOTE_SHOWN);
  if (!top.includes(truth)) top.push(truth);  // the course the records serve is always drawn, marked
  const rest = order.filter((i) => !top.includes(i)).reduce((s, i) => s + c.shares[i], 0);
  const shown = top.map((i) => ({course: got.labels[i], p: c.shares[i]}));
  $("votes").replaceChildren(
    el("h3", {id: "vote-title", text: t("grad.votes", {name: state.name, pos: state.course,
                                                       after: served.slice(0, state.course).map(course).join(" "),
                                                       t: Number(temperature).toFixed(2)})}),
    el("div", {class: "steps", id: "vote-courses"}, got.courses.map((x, i) => el("button", {type: "button",
      "data-pos": i + 1, "aria-pressed": String(i + 1 === state.course),
      onclick: () => { state.course = i + 1; writeURL(); showVote().catch(showError); }},
      `${i + 1}: ${t("grad.after_short", {course: course(served[i])})}`))),
    el("div", {class: "card vote-card"}, bars(shown, course, c.truth),
       el("p", {class: "muted", text: t("grad.rest", {n: order.length - top.length, p: pct(rest)})}),
       el("p", {id: "vote-truth", text: t("grad.came", {course: course(c.truth), p: pct(c.truth_share),
                                                        t: Number(temperature).toFixed(2)})})));
}
SECTIONS.graduate = async () => {
  $("temperature").value = state.t; $("temperature-value").textContent = Number(state.t).toFixed(2);
  $("cook-seed").value = state.seed;
  await Promise.all([cookNames(), showVote()]);
};

// === 8. From cart to Michelin: two runs side by side =================================================
SECTIONS.compare = async () => {
  const a = state.a, b = state.b;
  if (!a || !b) return;
  const got = await api("/api/compare", {a, b, temperature: state.t, seed: state.seed});
  const colors = [COLORS.running, COLORS.b];
  const svg = svgEl("svg", {class: "chart", viewBox: "0 0 640 300", role: "img"});
  const series = got.runs.flatMap((r, i) => [
    {points: r.curve.running, color: colors[i], width: 2},
    {points: r.val.map((v) => [v.step, v.loss]), color: colors[i], dots: true, dotsOnly: true}]);
  const runs = [a, b];
  $("cmp-out").replaceChildren(svg, el("div", {class: "legend"}, got.runs.map((r, i) =>
    el("span", {}, el("i", {style: `background:${colors[i]}`}), `${runs[i]}: ${t("train.running")}, ● ${t("cmp.held_out_dots")}`))),
    el("div", {class: "side"}, got.runs.map((r, i) => el("div", {class: "card"},
      el("h4", {text: runs[i]}),
      el("p", {text: t("web.describe", {...r, params: r.params.toLocaleString(), steps: (r.steps || r.step).toLocaleString()})}),
      el("p", {text: r.held_out ? t("cmp.held_out", {loss: fmt(r.held_out.loss), documents: r.held_out.documents.toLocaleString()})
                                : t("cmp.no_val")}),
      el("p", {text: t(got.seed === null ? "cmp.names_run" : "cmp.names", {t: got.temperature, seed: got.seed})}),
      el("p", {text: r.names.map((d) => d.name + (d.kind === "invented" ? "*" : "")).join(", ")})))),
    el("p", {class: "muted", text: "* " + t("grad.invented")}));
  lineChart(svg, series, {xlabel: t("train.x")});
};

// --- wiring ------------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  $("worked-step").addEventListener("click", () => { worked.at++; drawWorked(); });
  $("worked-restart").addEventListener("click", () => { worked.at = 0; drawWorked(); });
  $("dial-station").addEventListener("change", (e) => {
    const m = wall.matrices.find((x) => stationKey(x) === e.target.value);
    state.dial = `${m.matrix}.${dial.row}.${dial.col}`; readDial(); fillDialForm(); dialChanged();
  });
  $("dial-part").addEventListener("change", (e) => {
    state.dial = `${e.target.value}.${dial.row}.${dial.col}`; readDial(); fillDialForm(); dialChanged();
  });
  for (const key of ["row", "col"]) {
    $("dial-" + key).addEventListener("change", (e) => {
      dial[key] = Number(e.target.value); state.dial = `${dial.matrix}.${dial.row}.${dial.col}`; dialChanged();
    });
  }
  $("dial-delta").addEventListener("input", (e) => {
    state.turn = Number(e.target.value); $("dial-delta-value").textContent = state.turn.toFixed(2); dialChanged();
  });
  $("dial-reset").addEventListener("click", () => {
    state.turn = 0; $("dial-delta").value = 0; $("dial-delta-value").textContent = "0.00"; dialChanged();
  });
  $("train-reference").addEventListener("click", () => {
    const reference = {n_layer: 1, n_embd: 16, n_head: 4, steps: 1000, lr: 0.01, batch_size: 1, seed: 42};
    for (const input of $("train-form").elements) input.value = reference[input.name];
  });
  for (const action of ["start", "pause", "resume", "stop"]) $("train-" + action).addEventListener("click", () => trainControl(action));
  $("temperature").addEventListener("input", (e) => {
    state.t = Number(e.target.value); $("temperature-value").textContent = state.t.toFixed(2); writeURL();
    shown.graduate = [state.lang, state.ckpt, state.name, state.t, state.seed].join("|");
    showVote().catch(showError);  // the vote reshapes at once; the names are cooked again when the hand rests
    clearTimeout(cookTimer);
    cookTimer = setTimeout(() => cookNames().catch(showError), 150);
  });
  $("cook-seed").addEventListener("change", (e) => {
    const v = e.target.value.trim();
    state.seed = v === "" ? "" : Math.max(0, Math.floor(Number(v) || 0)); e.target.value = state.seed; writeURL();
  });
  $("cook").addEventListener("click", () => cookNames().catch(showError));
  for (const side of ["a", "b"]) {
    $("cmp-" + side).addEventListener("change", (e) => { state[side] = e.target.value; writeURL(); });
  }
  $("cmp-show").addEventListener("click", () => SECTIONS.compare().catch(showError));
});
