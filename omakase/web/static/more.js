// Ming's kitchen, sections 4 to 7: tracing, turning a dial, comparing runs, the tour's questions.
// Loaded after web.js (it uses its state, words and API helpers).
"use strict";

const technique = (op) => (op === "leaf" ? "—" : t("tech." + op) + ` (${op})`);

// === 4. Tracing ====================================================================================
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
      say = t("trace.backward_step", {to: names[s.to], local: fmt(s.local, 2), from_influence: fmt(before, 2),
                                      flow: fmt(s.flow, 2), op: technique(s.op), influence: fmt(influence[s.to], 2)});
    }
  }
  if (worked.at === steps.length) say = t("trace.done", {salt: fmt(d.engine.salt, 2), sugar: fmt(d.engine.sugar, 2)});
  $("worked-say").textContent = say;
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

let traced = null;
function drawCourseTrace(revealed) {
  const d = traced, path = d.path.slice(0, revealed);
  $("course-out").replaceChildren(
    el("h3", {text: t("trace.course_title", {name: d.name})}),
    el("p", {text: t("trace.course", {context: d.context.map(course).join(" "), truth: course(d.truth), p: pct(d.p),
                                      penalty: fmt(d.penalty, 3), nodes: d.nodes.toLocaleString()})}),
    el("table", {class: "data"}, el("tbody", {}, Object.entries(d.techniques).map(([op, n]) =>
      el("tr", {}, el("td", {text: technique(op)}), el("td", {class: "num", text: n.toLocaleString()}))))),
    el("h3", {text: t("trace.path")}),
    el("div", {class: "row"},
      el("button", {type: "button", id: "path-step", class: "primary", disabled: revealed >= d.path.length,
                    onclick: () => drawCourseTrace(revealed + 1)}, t("trace.step")),
      el("button", {type: "button", onclick: () => drawCourseTrace(d.path.length)}, t("trace.all"))),
    el("div", {class: "scroll"}, el("table", {class: "data", id: "path-table"},
      el("thead", {}, el("tr", {}, el("th", {text: "#"}), ["trace.technique", "trace.value", "trace.influence"].map((k) =>
        el("th", {text: t(k)})))),
      el("tbody", {}, path.map((n, i) => el("tr", {class: i === revealed - 1 ? "now" : ""},
        el("td", {text: i === 0 ? t("trace.penalty") : i === d.path.length - 1 ? d.dials[0].dial : i + 1}),
        el("td", {text: technique(n.op)}), el("td", {class: "num", text: fmt(n.value, 4)}),
        el("td", {class: "num", text: fmt(n.influence, 4)})))))),
    ...(revealed < d.path.length ? [] : [dialsFound(d)]));
  const focus = $("path-step");
  if (focus && revealed > 0 && !focus.disabled) focus.focus();
}
function dialsFound(d) {
  return el("div", {},
    el("h3", {text: t("trace.dials", {params: d.params.toLocaleString()})}),
    el("div", {class: "scroll"}, el("table", {class: "data"},
      el("thead", {}, el("tr", {}, ["trace.dial", "trace.station", "trace.influence", "trace.predicted",
                                    "trace.measured"].map((k) => el("th", {text: t(k)})), el("th"))),
      el("tbody", {}, d.dials.map((x) => {
        const measured = el("td", {class: "num", text: "?"});
        return el("tr", {}, el("td", {text: x.dial}), el("td", {text: x.station}),
          el("td", {class: "num", text: fmt(x.influence, 4)}),
          el("td", {class: "num", text: (x.predicted >= 0 ? "+" : "") + x.predicted.toExponential(3)}), measured,
          el("td", {}, el("button", {type: "button", class: "small", onclick: (e) => {
            measured.textContent = (x.measured >= 0 ? "+" : "") + x.measured.toExponential(3);
            e.target.disabled = true;
          }}, t("trace.nudge", {nudge: d.nudge})),
          " ", el("button", {type: "button", class: "small", onclick: () => pickDial(x)}, t("trace.turn"))));
      })))));
}
SECTIONS.trace = async () => {
  worked.data = await api("/api/trace/worked");
  worked.at = 0;
  drawWorked();
  $("course-out").replaceChildren();
  if (!state.ckpt || !state.name) return;
  traced = await api("/api/trace/course", {checkpoint: state.ckpt, name: state.name});
  drawCourseTrace(0);
};

// === 5. Turn a dial ================================================================================
let wall = null, foundDials = [];
function pickDial(x) {
  foundDials = [x, ...foundDials.filter((y) => y.dial !== x.dial)].slice(0, 8);
  dial.station = x.station; dial.matrix = x.matrix; dial.row = x.row; dial.col = x.col; dial.delta = 0;
  go("dial");
  fillDialForm();
  turnDial();
}
const dial = {station: "", matrix: "", row: 0, col: 0, delta: 0};
function fillDialForm() {
  const stations = [...new Set(wall.matrices.map((m) => m.station))];
  if (!stations.includes(dial.station)) dial.station = stations[0];
  $("dial-station").replaceChildren(...stations.map((s) => el("option", {value: s, text: s})));
  $("dial-station").value = dial.station;
  const matrices = wall.matrices.filter((m) => m.station === dial.station);
  if (!matrices.some((m) => m.matrix === dial.matrix)) dial.matrix = matrices[0].matrix;
  $("dial-matrix").replaceChildren(...matrices.map((m) => el("option", {value: m.matrix, text: `${m.matrix} (${m.rows}×${m.cols})`})));
  $("dial-matrix").value = dial.matrix;
  const shape = wall.matrices.find((m) => m.matrix === dial.matrix);
  dial.row = Math.min(dial.row, shape.rows - 1); dial.col = Math.min(dial.col, shape.cols - 1);
  $("dial-row").max = shape.rows - 1; $("dial-col").max = shape.cols - 1;
  $("dial-row").value = dial.row; $("dial-col").value = dial.col;
  $("dial-delta").value = dial.delta; $("dial-delta-value").textContent = Number(dial.delta).toFixed(2);
  $("dial-name").value = state.name;
  $("dial-found").replaceChildren(...foundDials.map((x) => el("button", {type: "button", class: "small",
    onclick: () => pickDial(x)}, x.dial)));
}
let turnSeq = 0;
async function turnDial() {
  if (!state.ckpt || !state.name) return;
  const seq = ++turnSeq;
  const got = await api("/api/turn", {}, {checkpoint: state.ckpt, matrix: dial.matrix, row: dial.row, col: dial.col,
                                          delta: dial.delta, name: state.name});
  if (seq !== turnSeq) return;  // a later turn is on its way: show only the newest
  const change = got.after.mean_loss - got.before.mean_loss;
  $("dial-out").replaceChildren(
    el("p", {class: "big"}, t("dial.value", {dial: `${got.matrix}[${got.row}][${got.col}]`, value: fmt(got.value, 4),
                                             turned: fmt(got.turned, 4)})),
    el("p", {class: "big", id: "dial-score"}, t("dial.score", {name: state.name, before: fmt(got.before.mean_loss),
      after: fmt(got.after.mean_loss)}), " ", Number.isFinite(change) ? el("span", {class: change > 0 ? "up" :
      change < 0 ? "down" : "", text: `(${change >= 0 ? "+" : ""}${change.toFixed(4)})`}) : null),
    el("h3", {text: t("dial.next", {name: state.name})}),
    el("div", {class: "side"},
      el("div", {class: "card"}, el("h4", {text: t("dial.before")}), bars(got.before.next, course)),
      el("div", {class: "card"}, el("h4", {text: t("dial.after")}), bars(got.after.next, course))));
}
let dialTimer = null;
function dialChanged() { clearTimeout(dialTimer); dialTimer = setTimeout(() => turnDial().catch(showError), 80); }
SECTIONS.dial = async () => {
  wall = await api("/api/dials", {checkpoint: state.ckpt});
  fillDialForm();
  await turnDial();
};

// === 6. Compare runs ===============================================================================
SECTIONS.compare = async () => {
  const a = $("cmp-a").value, b = $("cmp-b").value;
  if (!a || !b) return;
  const got = await api("/api/compare", {a, b, temperature: state.t, seed: state.seed});
  const colors = [COLORS.running, COLORS.b];
  const svg = svgEl("svg", {class: "chart", viewBox: "0 0 640 300", role: "img"});
  const series = got.runs.flatMap((r, i) => [
    {points: r.curve.running, color: colors[i], width: 2},
    {points: r.val.map((v) => [v.step, v.loss]), color: colors[i], dots: true, dotsOnly: true}]);
  const runs = [a, b];
  $("cmp-out").replaceChildren(svg, el("div", {class: "legend"}, got.runs.map((r, i) =>
    el("span", {}, el("i", {style: `background:${colors[i]}`}), `${runs[i]}: ${t("train.running")}, ● ${t("train.held_out")}`))),
    el("div", {class: "side"}, got.runs.map((r, i) => el("div", {class: "card"},
      el("h4", {text: runs[i]}),
      el("p", {text: t("web.describe", {...r, params: r.params.toLocaleString(), steps: (r.steps || r.step).toLocaleString()})}),
      el("p", {text: r.val.length ? t("web.held_out", {...r.val[r.val.length - 1], loss: fmt(r.val[r.val.length - 1].loss)})
                                  : t("cmp.no_val")}),
      el("p", {text: t("cmp.names", {t: got.temperature, seed: got.seed})}),
      el("p", {text: r.names.map((d) => d.name + (d.kind === "invented" ? "*" : "")).join(", ")})))),
    el("p", {class: "muted", text: "* " + t("grad.invented")}));
  lineChart(svg, series, {xlabel: t("train.x")});
};

// === 7. Questions ==================================================================================
SECTIONS.questions = async () => {
  const list = $("q-list");
  list.replaceChildren();
  if (!state.ckpt) return;
  for (let chapter = 1; chapter <= 8; chapter++) {
    const box = el("div", {class: "question"}, el("p", {class: "muted", text: t(`ch${chapter}.title`)}));
    list.append(box);
    const q = await api("/api/question", {checkpoint: state.ckpt, chapter, lang: state.lang});
    const guess = el("input", {id: `q${chapter}-guess`, autocomplete: "off"});
    const reveal = el("button", {type: "button", class: "primary", disabled: true}, t("q.reveal"));
    const out = el("div", {});
    guess.addEventListener("input", () => { reveal.disabled = !guess.value.trim(); });
    reveal.addEventListener("click", async () => {
      try {
        const a = await api("/api/answer", {checkpoint: state.ckpt, chapter, lang: state.lang, guess: guess.value.trim()});
        out.replaceChildren(el("p", {text: t("q.your_guess", {guess: a.guess})}),
                            el("p", {}, el("strong", {text: t("q.answer") + " "}), a.answer));
        guess.disabled = reveal.disabled = true;
      } catch (e) { showError(e); }
    });
    box.append(el("p", {text: q.question}),
               el("div", {class: "row"}, el("label", {}, el("span", {text: t("q.guess")}), guess), reveal), out);
  }
};

// --- wiring ---------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  $("worked-step").addEventListener("click", () => { worked.at++; drawWorked(); });
  $("worked-restart").addEventListener("click", () => { worked.at = 0; drawWorked(); });
  $("dial-station").addEventListener("change", (e) => { dial.station = e.target.value; fillDialForm(); dialChanged(); });
  $("dial-matrix").addEventListener("change", (e) => { dial.matrix = e.target.value; fillDialForm(); dialChanged(); });
  for (const key of ["row", "col"]) {
    $("dial-" + key).addEventListener("change", (e) => {
      dial[key] = Math.max(0, Math.min(Number(e.target.max), Math.floor(Number(e.target.value) || 0)));
      e.target.value = dial[key]; dialChanged();
    });
  }
  $("dial-name").addEventListener("change", (e) => { setName(e.target.value); dialChanged(); });
  $("dial-delta").addEventListener("input", (e) => {
    dial.delta = Number(e.target.value); $("dial-delta-value").textContent = dial.delta.toFixed(2); dialChanged();
  });
  $("dial-reset").addEventListener("click", () => {
    dial.delta = 0; $("dial-delta").value = 0; $("dial-delta-value").textContent = "0.00"; dialChanged();
  });
  $("cmp-show").addEventListener("click", () => SECTIONS.compare().catch(showError));
});
