// The workbench's progressive enhancement; every page works without it.
// - "Show the place in the text": moves the caret to an error's line and column.
// - The caret's line and column under the body, to match the error messages.
// - Ctrl+S / Cmd+S saves the editor's form; leaving it with unsaved changes asks first.
// - A form sent back with errors puts the keyboard on the first field to correct.
(function () {
  "use strict";

  var invalid = document.querySelector("form [aria-invalid=true]");
  if (invalid) invalid.focus();

  function offsetOf(text, line, column) {
    var offset = 0;
    for (var i = 1; i < line; i++) {
      var next = text.indexOf("\n", offset);
      if (next < 0) return text.length;
      offset = next + 1;
    }
    return Math.min(offset + Math.max(column - 1, 0), text.length);
  }

  function lineAndColumn(text, offset) {
    var before = text.slice(0, offset);
    var line = before.split("\n").length;
    return [line, offset - before.lastIndexOf("\n")];
  }

  document.querySelectorAll("[data-goto-line]").forEach(function (button) {
    button.addEventListener("click", function () {
      var area = document.getElementById(button.getAttribute("aria-controls"));
      if (!area) return;
      var line = parseInt(button.dataset.gotoLine, 10) || 1;
      var column = parseInt(button.dataset.gotoColumn, 10) || 1;
      // Select the line up to the reported column: where the parser stopped reading.
      var start = offsetOf(area.value, line, 1);
      var end = area.value.indexOf("\n", start);
      var at = offsetOf(area.value, line, column);
      area.focus();
      area.setSelectionRange(start, Math.min(at, end < 0 ? area.value.length : end));
      var height = parseFloat(getComputedStyle(area).lineHeight) || 20;
      area.scrollTop = Math.max(0, (line - 4) * height);
    });
  });

  document.querySelectorAll("[data-caret-for]").forEach(function (out) {
    var area = document.getElementById(out.dataset.caretFor);
    if (!area) return;
    function show() {
      var lc = lineAndColumn(area.value, area.selectionStart);
      out.textContent = "L" + lc[0] + ":" + lc[1];
    }
    out.hidden = false;
    ["keyup", "click", "focus", "input"].forEach(function (name) {
      area.addEventListener(name, show);
    });
    show();
  });

  document.querySelectorAll("form[data-editor]").forEach(function (form) {
    var dirty = false;
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
    form.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && event.key === "s") {
        event.preventDefault();
        dirty = false;
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    });
  });
})();
