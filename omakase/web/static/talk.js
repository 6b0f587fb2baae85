// Ming's kitchen, the last section: talking to an assistant (`omakase web --assistant DIR`). The reply comes
// from /api/talk as lines of JSON, one event each (omakase/assistant/skills/stream.py), and is drawn as it
// comes: its words token by token, each tool call as the model writes it, then its result. The page keeps
// the conversation and sends all of it back with each message. Loaded after web.js (its words and helpers).
"use strict";

const talk = {about: null, messages: [], reading: null};  // reading: the AbortController of a reply underway

SECTIONS.talk = async () => {
  if (!talk.about) talk.about = await api("/api/talk");
  const a = talk.about;
  $("talk-none").hidden = a.loaded;
  $("talk-box").hidden = !a.loaded;
  $("talk-input").placeholder = t("talk.placeholder");
  if (a.loaded) {
    $("talk-about").textContent = t("talk.about", {model: a.model, parameters: a.parameters.toLocaleString(),
      block: a.block, tools: a.tools.map((x) => t("talk.tool." + x)).join(", ")});
  }
};

// A token's bytes as text, with its spaces and line breaks made visible.
const shownPiece = (piece) => piece.replace(/ /g, "␣").replace(/\n/g, "↵");
function tokenChips(title, tokens) {  // tokens: [id, piece, written?]
  return el("div", {class: "tokens"}, el("p", {class: "muted", text: title}),
    el("div", {class: "chips"}, tokens.map(([id, piece, written]) => el("span", {
      class: written === undefined ? "chip" : written ? "chip written" : "chip tool", title: String(id)},
      shownPiece(piece), el("small", {text: String(id)})))));
}

// Draws one reply's events into its bubble; returns the handler, which returns the end event when it comes.
function replyView(bubble, turn) {
  let said = null, call = null, block = 0, words = "";
  const toolName = (tool) => t("talk.tool." + tool);
  const openCall = (tool) => {
    call = {tool: el("span", {class: "tool", text: toolName(tool)}), expr: el("code", {class: "expr"}),
            result: el("span", {class: "result", text: "…"})};
    call.box = el("div", {class: "call"}, call.tool, ": ", call.expr, " → ", call.result);
    bubble.append(call.box);
    said = null;  // words after the call start a new paragraph
  };
  return (e) => {
    if (e.kind === "error") throw new Error(e.error);
    if (e.kind === "prompt") {
      block = e.block;
      if (e.pieces) turn.before(tokenChips(t("talk.prompt", {tokens: e.tokens, block: e.block}), e.pieces));
    } else if (e.kind === "call_start") {
      openCall(e.tool);
    } else if (e.kind === "call_text") {
      if (call) call.expr.textContent += e.text;
    } else if (e.kind === "call") {
      if (!call) openCall(e.tool);
      call.tool.textContent = toolName(e.tool);
      call.expr.textContent = e.query;
      call.result.textContent = e.result;
      call.box.classList.add("done");
      call = null;
    } else if (e.kind === "text") {
      if (!said) { said = el("p", {class: "said"}); bubble.append(said); }
      said.append(el("span", {class: "tok", "data-id": e.id === null ? "" : e.id, text: e.text}));
      words += e.text;
    } else if (e.kind === "end") {
      for (const box of bubble.querySelectorAll(".call:not(.done)")) {
        box.classList.add("unfinished");
        box.querySelector(".result").textContent = t("talk.unfinished");
      }
      if (!words.trim()) bubble.append(el("p", {class: "muted", text: t("talk.nothing")}));
      bubble.append(el("p", {class: "muted end", text: t("talk.end." + e.reason, {tokens: e.tokens, block})}));
      if (e.reply) bubble.append(tokenChips(t("talk.reply"), e.reply));
      return e;
    }
    return null;
  };
}

async function send(text) {
  if (talk.reading) return;
  if (!text.trim()) {
    $("talk-log").append(el("p", {class: "notice talk-empty", text: t("talk.empty")}));
    return;
  }
  for (const note of document.querySelectorAll("#talk-log .talk-empty")) note.remove();
  talk.messages.push({role: "user", content: text});
  const bubble = el("div", {class: "msg assistant"}, el("b", {text: t("talk.assistant")}));
  const turn = el("div", {class: "turn"}, el("div", {class: "msg user"}, el("b", {text: t("talk.you")}),
                                                  el("p", {text})), bubble);
  $("talk-log").append(turn);
  $("talk-input").value = "";
  const reading = new AbortController();
  talk.reading = reading;
  $("talk-send").disabled = true;
  try {
    const response = await fetch("/api/talk", {method: "POST", signal: reading.signal,
      headers: {"content-type": "application/json"},
      body: JSON.stringify({messages: talk.messages, temperature: Number($("talk-temperature").value),
                            show_tokens: $("talk-tokens").checked})});
    if (!response.ok) {
      const data = await response.json().catch(() => ({error: response.statusText}));
      // a conversation grows with every turn: when it no longer fits the model's context, say how to go on
      const more = response.status === 422 && talk.messages.length > 1 ? " " + t("talk.start_over") : "";
      throw new Error((data.error || response.statusText) + more);
    }
    const draw = replyView(bubble, turn), reader = response.body.getReader(), bytes = new TextDecoder();
    let buffer = "", end = null;
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += bytes.decode(value, {stream: true});
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line) end = draw(JSON.parse(line)) || end;
      }
    }
    if (!end) throw new Error("the reply ended before its end");
    talk.messages.push({role: "assistant", content: end.written});  // what the next turn reads, calls included
    hideError();
  } catch (e) {
    if (reading.signal.aborted) return;  // a new conversation began: this one is gone
    talk.messages.pop();  // unanswered: the question leaves the conversation and goes back in the box
    turn.remove();
    $("talk-input").value = text;
    showError(e);
  } finally {
    if (talk.reading === reading) { talk.reading = null; $("talk-send").disabled = false; }
  }
}

function newConversation() {
  if (talk.reading) talk.reading.abort();  // the server stops writing at its next token
  talk.reading = null;
  talk.messages = [];
  $("talk-log").replaceChildren();
  $("talk-send").disabled = false;
  hideError();
}

document.addEventListener("DOMContentLoaded", () => {
  $("talk-form").addEventListener("submit", (e) => { e.preventDefault(); send($("talk-input").value); });
  $("talk-new").addEventListener("click", newConversation);
  $("talk-temperature").addEventListener("input", (e) => {
    $("talk-temperature-value").textContent = Number(e.target.value).toFixed(2);
  });
  $("talk-tokens").addEventListener("change", (e) => $("talk-log").classList.toggle("show-tokens", e.target.checked));
});
