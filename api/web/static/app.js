// Fovea web UI: keyboard shortcuts, evidence highlighting and live re-validation. Plain JS, no framework.
(function () {
  "use strict";

  document.documentElement.classList.replace("no-js", "js");
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.content : "";

  function typingIn(target) {
    if (!target || !target.closest) return false;
    return Boolean(target.closest("input, textarea, select, [contenteditable='true']"));
  }

  function onShortcut(handlers) {
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      if (typingIn(event.target)) {
        // Escape leaves a field so the single-key shortcuts work again.
        if (event.key === "Escape") event.target.blur();
        return;
      }
      const handler = handlers[event.key];
      if (handler) {
        event.preventDefault();
        handler(event);
      }
    });
  }

  // The queue: j/k move the selection, Enter (or o) opens the selected item.
  function setupQueue(table) {
    const rows = Array.from(table.querySelectorAll("tbody tr[data-href]"));
    if (!rows.length) return;
    let index = 0;
    function select(next, focus) {
      index = Math.max(0, Math.min(rows.length - 1, next));
      rows.forEach(function (row, i) {
        row.classList.toggle("is-selected", i === index);
        row.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      const link = rows[index].querySelector("a.item-link");
      if (focus && link) link.focus();
      rows[index].scrollIntoView({ block: "nearest" });
    }
    rows.forEach(function (row, i) {
      row.addEventListener("click", function (event) {
        if (event.target.closest("a")) return;
        window.location.href = row.dataset.href;
      });
      row.addEventListener("focusin", function () { select(i, false); });
    });
    select(0, false);
    function open() { window.location.href = rows[index].dataset.href; }
    onShortcut({
      j: function () { select(index + 1, true); },
      k: function () { select(index - 1, true); },
      ArrowDown: function () { select(index + 1, true); },
      ArrowUp: function () { select(index - 1, true); },
      Enter: open,
      o: open,
    });
  }

  // The item page: a code line and its evidence light up together.
  function setupEvidence(root) {
    const marks = Array.from(root.querySelectorAll("mark[data-codes]"));
    const lines = Array.from(root.querySelectorAll("[data-code]"));
    function activate(code, on) {
      marks.forEach(function (mark) {
        if (mark.dataset.codes.split(" ").indexOf(code) >= 0) mark.classList.toggle("is-active", on);
      });
      lines.forEach(function (line) {
        if (line.dataset.code === code) line.classList.toggle("is-active", on);
      });
    }
    lines.forEach(function (line) {
      const code = line.dataset.code;
      ["mouseenter", "focusin"].forEach(function (name) {
        line.addEventListener(name, function () { activate(code, true); });
      });
      ["mouseleave", "focusout"].forEach(function (name) {
        line.addEventListener(name, function () { activate(code, false); });
      });
    });
    marks.forEach(function (mark) {
      const codes = mark.dataset.codes.split(" ");
      mark.addEventListener("mouseenter", function () { codes.forEach(function (c) { activate(c, true); }); });
      mark.addEventListener("mouseleave", function () { codes.forEach(function (c) { activate(c, false); }); });
    });
  }

  function readEdit(form) {
    const diagnoses = Array.from(form.querySelectorAll("input[name='dx']")).map(function (input) {
      return input.value.trim();
    });
    const lines = Array.from(form.querySelectorAll("tr[data-line]")).map(function (row) {
      function value(field) {
        const input = row.querySelector("[name$='-" + field + "']");
        return input ? input.value.trim() : "";
      }
      return { code: value("code"), modifiers: value("modifiers"), units: value("units"), pointers: value("pointers") };
    });
    return { diagnoses: diagnoses, lines: lines };
  }

  function showStatus(region, text) {
    region.replaceChildren();
    const status = document.createElement("p");
    status.className = "status";
    status.textContent = text;
    region.appendChild(status);
    return status;
  }

  function renderFindings(region, answer) {
    if (answer.error) {
      showStatus(region, answer.error);
      return;
    }
    const errors = answer.findings.filter(function (f) { return f.severity === "error"; }).length;
    showStatus(
      region,
      answer.findings.length
        ? "Re-validated: " + answer.findings.length + " finding(s), " + errors + " error(s)."
        : "Re-validated: no findings on the edited codes."
    );
    if (!answer.findings.length) return;
    const list = document.createElement("ul");
    list.className = "findings";
    answer.findings.forEach(function (finding) {
      const item = document.createElement("li");
      item.className = finding.severity;
      const code = document.createElement("span");
      code.className = "finding-code";
      code.textContent = finding.code + (finding.lines.length ? " · line " + finding.lines.join(", ") : "");
      const message = document.createElement("div");
      message.textContent = finding.message;
      item.append(code, message);
      if (finding.fix) {
        const fix = document.createElement("span");
        fix.className = "fix";
        fix.textContent = "Fix: " + finding.fix;
        item.appendChild(fix);
      }
      list.appendChild(item);
    });
    region.appendChild(list);
  }

  function setupEditing(form) {
    const panel = document.getElementById("edit-panel");
    const region = document.getElementById("validation-results");
    const url = form.dataset.validateUrl;
    const approve = document.getElementById("approve-button");
    let timer = null;
    let sequence = 0;
    let dirty = false;

    function markDirty() {
      if (dirty) return;
      dirty = true;
      if (approve) {
        approve.querySelector(".label").textContent = "Approve with edits";
        approve.value = "edit";
      }
    }

    function revalidate() {
      const mine = ++sequence;
      showStatus(region, "Checking the edited codes…");
      const body = JSON.stringify({ review_id: form.dataset.reviewId, edit: readEdit(form) });
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
        body: body,
      })
        .then(function (response) {
          return response.json().then(function (answer) {
            if (!response.ok) return { error: answer.detail || "Re-validation failed (" + response.status + ")." };
            return answer;
          });
        })
        .catch(function () { return { error: "Re-validation is unavailable; the server checks again on submit." }; })
        .then(function (answer) { if (mine === sequence) renderFindings(region, answer); });
    }

    form.addEventListener("input", function (event) {
      if (!event.target.closest("#edit-panel")) return;
      markDirty();
      clearTimeout(timer);
      timer = setTimeout(revalidate, 250);
    });
    return {
      open: function () {
        panel.open = true;
        const first = panel.querySelector("input");
        if (first) first.focus();
      },
      isDirty: function () { return dirty; },
    };
  }

  function setupItem(root) {
    setupEvidence(root);
    const form = document.getElementById("decision-form");
    const editing = form && document.getElementById("edit-panel") ? setupEditing(form) : null;
    const reject = document.getElementById("reject-panel");
    const approve = document.getElementById("approve-button");
    onShortcut({
      a: function () { if (approve) approve.click(); },
      e: function () { if (editing) editing.open(); },
      r: function () {
        if (!reject) return;
        reject.open = true;
        const reason = reject.querySelector("textarea");
        if (reason) reason.focus();
      },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const queue = document.querySelector("table.queue-table");
    if (queue) setupQueue(queue);
    const item = document.querySelector("[data-page='item']");
    if (item) setupItem(item);
  });
})();
