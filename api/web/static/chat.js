// The copilot chat panel: POST /chat, read the Server-Sent Events stream with fetch + ReadableStream,
// show steps and tokens as they come, then the answer with links to the items it mentions.
(function () {
  "use strict";

  const REVIEW_ID = /\b(rev_[0-9a-f]{20})\b/g;

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // Answer text as HTML: escaped, review item ids and linkable sources turned into links.
  function linked(text, sources) {
    let html = escapeHtml(text).replace(REVIEW_ID, '<a href="/ui/reviews/$1">$1</a>');
    (sources || []).forEach(function (source) {
      if (!source.href || source.kind === "review") return;
      const id = escapeHtml(source.id);
      html = html.split(id).join('<a href="' + escapeHtml(source.href) + '">' + id + "</a>");
    });
    return html;
  }

  function sourcesHtml(sources) {
    const linkable = (sources || []).filter(function (s) { return s.href; });
    if (!linkable.length) return "";
    return '<span class="chat-sources">Open: ' + linkable.map(function (s) {
      return '<a href="' + escapeHtml(s.href) + '">' + escapeHtml(s.label || s.id) + "</a>";
    }).join(", ") + "</span>";
  }

  function parseEvents(buffer, onEvent) {
    const blocks = buffer.split("\n\n");
    const rest = blocks.pop();
    blocks.forEach(function (block) {
      let name = "message";
      const data = [];
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) name = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).trim());
      });
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    });
    return rest;
  }

  function setup(panel) {
    const log = panel.querySelector(".chat-log");
    const form = panel.querySelector(".chat-form");
    const input = form.querySelector("textarea");
    const button = form.querySelector("button");
    const csrf = document.querySelector('meta[name="csrf-token"]');

    function add(role, html) {
      const item = document.createElement("li");
      item.className = role;
      item.innerHTML = html;
      log.appendChild(item);
      log.scrollTop = log.scrollHeight;
      return item;
    }

    function showAnswer(item, answer) {
      item.innerHTML = linked(answer.answer, answer.sources) + sourcesHtml(answer.sources);
    }

    fetch(panel.dataset.historyUrl, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (turns) {
        turns.forEach(function (turn) {
          const item = add(turn.role, escapeHtml(turn.content));
          if (turn.answer) showAnswer(item, turn.answer);
        });
      })
      .catch(function () {});

    async function ask(question) {
      add("user", escapeHtml(question));
      const item = add("assistant", '<span class="chat-steps">Thinking…</span>');
      const steps = item.querySelector(".chat-steps");
      let text = "";
      button.disabled = true;
      try {
        const response = await fetch(panel.dataset.chatUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "X-CSRF-Token": csrf ? csrf.content : "",
          },
          body: JSON.stringify({ question: question }),
        });
        if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          buffer = parseEvents(buffer + decoder.decode(chunk.value, { stream: true }), function (name, data) {
            if (name === "step" && data.node === "tool_call") steps.textContent = "Looking up " + data.tool.replace(/_/g, " ") + "…";
            else if (name === "token") {
              text += data.text;
              item.innerHTML = escapeHtml(text);
            } else if (name === "answer") showAnswer(item, data);
            else if (name === "error") {
              item.className = "error";
              item.textContent = data.detail;
            }
            log.scrollTop = log.scrollHeight;
          });
        }
      } catch (error) {
        item.className = "error";
        item.textContent = "The copilot could not answer (" + error.message + ").";
      } finally {
        button.disabled = false;
        input.focus();
      }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      const question = input.value.trim();
      if (!question) return;
      input.value = "";
      ask(question);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const panel = document.getElementById("chat-panel");
    if (panel) setup(panel);
  });
})();
