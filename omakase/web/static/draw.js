// Drawing helpers for Ming's kitchen, written here (no library): elements, a line chart in SVG,
// vote bars, attention heatmaps. They draw what they are given; they compute nothing about the model.
"use strict";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) node.append(c);
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

const fmt = (x, d = 4) => (x === null || x === undefined ? "—" : Number(x).toFixed(d));
const pct = (p) => (100 * p).toFixed(1) + "%";

// At most `n` points of a long series (every k-th, and always the last): drawing stays cheap.
function thin(points, n = 800) {
  if (points.length <= n) return points;
  const every = Math.ceil(points.length / n), out = [];
  for (let i = 0; i < points.length; i += every) out.push(points[i]);
  if (out[out.length - 1] !== points[points.length - 1]) out.push(points[points.length - 1]);
  return out;
}

// series: [{points: [[x, y]], color, width, dots}]; the axes fit every point (x from 0).
function lineChart(svg, series, opts = {}) {
  // drawn at the size it is shown (so its text stays legible on a phone), at least 320 wide
  const W = Math.max(320, Math.round(svg.clientWidth || 640)), H = W < 500 ? 240 : 300, L = 44, R = 12, T = 12, B = 34;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const all = series.flatMap((s) => s.points);
  if (!all.length) return;
  const xmax = Math.max(opts.xmax || 0, ...all.map((p) => p[0]), 1);
  let ymin = Math.min(...all.map((p) => p[1])), ymax = Math.max(...all.map((p) => p[1]));
  if (ymax - ymin < 1e-9) { ymin -= 0.5; ymax += 0.5; }
  const pad = (ymax - ymin) * 0.05; ymin -= pad; ymax += pad;
  const X = (x) => L + (W - L - R) * x / xmax, Y = (y) => T + (H - T - B) * (1 - (y - ymin) / (ymax - ymin));
  for (let i = 0; i <= 4; i++) {  // horizontal grid with the loss values
    const y = ymin + (ymax - ymin) * i / 4;
    svg.append(svgEl("line", {x1: L, x2: W - R, y1: Y(y), y2: Y(y), stroke: "#eee"}));
    const label = svgEl("text", {x: L - 6, y: Y(y) + 4, "text-anchor": "end"}); label.textContent = y.toFixed(2);
    svg.append(label);
  }
  for (const [x, anchor] of [[0, "start"], [xmax / 2, "middle"], [xmax, "end"]]) {
    const label = svgEl("text", {x: X(x), y: H - B + 16, "text-anchor": anchor});
    label.textContent = Math.round(x).toLocaleString(); svg.append(label);
  }
  if (opts.xlabel) {
    const label = svgEl("text", {x: W - R, y: H - 4, "text-anchor": "end"}); label.textContent = opts.xlabel;
    svg.append(label);
  }
  for (const s of series) {
    const pts = thin(s.points);
    if (s.dots) {
      for (const [x, y] of pts) svg.append(svgEl("circle", {cx: X(x), cy: Y(y), r: 4, fill: s.color}));
    }
    if (pts.length > 1 && !s.dotsOnly) {
      const d = pts.map(([x, y], i) => (i ? "L" : "M") + X(x).toFixed(1) + " " + Y(y).toFixed(1)).join("");
      svg.append(svgEl("path", {d, fill: "none", stroke: s.color, "stroke-width": s.width || 1.5,
                                "stroke-dasharray": s.dash || ""}));
    }
  }
}

function legend(node, items) {
  node.replaceChildren(...items.map(([color, text]) => el("span", {}, el("i", {style: `background:${color}`}), text)));
}

// A vote as bars: [{course, p}], the course that truly came highlighted.
function bars(votes, label, truth) {
  return el("div", {class: "bars"}, votes.map((v) => [
    el("span", {text: label(v.course)}),
    el("div", {class: "bar" + (v.course === truth ? " truth" : ""), style: `width:${(100 * v.p).toFixed(1)}%`,
               title: pct(v.p)}),
    el("span", {class: "num", text: pct(v.p)}),
  ]));
}

// One head's attention over the whole name: row = the course being cooked, column = a course before it.
function heatmap(rows, labels, caption) {
  const head = el("tr", {}, el("th"), labels.map((l) => el("th", {scope: "col", text: l})));
  const body = rows.map((weights, i) => el("tr", {}, el("th", {scope: "row", text: labels[i]}),
    labels.map((_, j) => {
      const w = j < weights.length ? weights[j] : null;
      return el("td", w === null ? {} : {style: `background: rgba(122,62,157,${w.toFixed(3)})`,
                                         title: `${labels[i]} → ${labels[j]}: ${pct(w)}`});
    })));
  return el("figure", {class: "card"}, el("figcaption", {text: caption}),
            el("div", {class: "scroll"}, el("table", {class: "heat"}, el("thead", {}, head), el("tbody", {}, body))));
}

// A vector as a strip of coloured cells: blue below zero, orange above (the card of a course).
function strip(values) {
  const top = Math.max(...values.map(Math.abs), 1e-9);
  return el("div", {class: "strip"}, values.map((v) => el("span", {
    title: v.toFixed(3),
    style: `background:${v < 0 ? `rgba(33,102,172,${(-v / top).toFixed(3)})` : `rgba(210,105,30,${(v / top).toFixed(3)})`}`,
  })));
}
