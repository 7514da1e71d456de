// The body editor: CodeMirror 6 over the variant page's textarea, as progressive enhancement.
// In: <textarea data-body-editor> with the URLs and the page's translated messages in data-*.
// Out: an editor with XML highlighting, completions (complete.js) and the check as one types
// (check.js), writing every change back into the textarea, which the form still posts.
// Without JavaScript, or if anything here fails, the plain textarea is what the editor uses.
import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars, MatchDecorator, ViewPlugin, Decoration,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput } from "@codemirror/language";
import { xml, xmlLanguage } from "@codemirror/lang-xml";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { linter, lintGutter, lintKeymap } from "@codemirror/lint";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { attributeValues, placeholders, schema } from "./complete.js";
import { bodyCheck } from "./check.js";

// Placeholders and statements stand out from the markup around them.
const placeholderMarks = new MatchDecorator({
  regexp: /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g,
  decoration: Decoration.mark({ class: "cm-placeholder" }),
});
const showPlaceholders = ViewPlugin.define((view) => ({
  decorations: placeholderMarks.createDeco(view),
  update(update) { this.decorations = placeholderMarks.updateDeco(update, this.decorations); },
}), { decorations: (plugin) => plugin.decorations });

async function loadHints(url) {
  try {
    const answer = await fetch(url, { credentials: "same-origin", redirect: "manual", headers: { Accept: "application/json" } });
    if (answer.ok) return await answer.json();
  } catch (error) { /* completions are a help: without them the editor still works */ }
  return { components: [], conditions: {}, names: [], fields: {}, filters: [], elements: [] };
}

function messagesOf(area) {
  const d = area.dataset;
  return {
    ok: d.msgOk, problems: d.msgProblems, failed: d.msgFailed, offline: d.msgOffline,
    signedOut: d.msgSignedOut, tooLong: d.msgTooLong, checking: d.msgChecking,
  };
}

function enhance(area, hints) {
  const form = area.form;
  const status = document.getElementById(area.dataset.statusId);
  const caret = document.querySelector(`[data-caret-for="${area.id}"]`);
  const messages = messagesOf(area);
  const say = (text, kind) => {
    if (!status) return;
    status.hidden = false;
    status.textContent = text || "";
    status.dataset.state = kind;
  };
  const keyField = form.elements.namedItem("key");
  const key = () => area.dataset.key || (keyField && keyField.value) || "";
  const label = document.querySelector(`label[for="${area.id}"]`);

  const sync = EditorView.updateListener.of((update) => {
    if (update.docChanged) {
      area.value = update.state.doc.toString();
      area.dispatchEvent(new Event("input", { bubbles: true })); // the page's unsaved-changes guard
    }
    if (caret && (update.selectionSet || update.docChanged)) {
      const head = update.state.selection.main.head;
      const line = update.state.doc.lineAt(head);
      caret.textContent = `L${line.number}:${head - line.from + 1}`;
    }
  });

  // A "Show the place in the text" clicked before the editor was ready moved the textarea's
  // caret (ui.js): the editor starts where it left it, and keeps the focus.
  const carried = document.activeElement === area;
  const view = new EditorView({
    parent: area.parentNode,
    state: EditorState.create({
      doc: area.value,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), history(),
        drawSelection(), indentOnInput(), bracketMatching(), closeBrackets(), highlightActiveLine(),
        highlightSelectionMatches(), syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        xml({ elements: schema(hints) }),
        xmlLanguage.data.of({ autocomplete: attributeValues(hints) }),
        xmlLanguage.data.of({ autocomplete: placeholders(hints) }),
        autocompletion({ activateOnTyping: true }),
        linter(bodyCheck({ form, url: area.dataset.checkUrl, key, limit: Number(area.dataset.maxChars), say, messages }), { delay: 600 }),
        lintGutter(), showPlaceholders, sync,
        EditorView.contentAttributes.of({
          "aria-label": label ? label.textContent : "",
          "aria-describedby": area.getAttribute("aria-describedby") || "",
          spellcheck: "false", autocapitalize: "off", autocorrect: "off",
        }),
        keymap.of([
          ...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap,
          ...completionKeymap, ...lintKeymap, indentWithTab,
        ]),
      ],
    }),
  });
  area.parentNode.insertBefore(view.dom, area);
  area.hidden = true;
  area.dataset.enhanced = "true";
  if (label) label.addEventListener("click", () => view.focus());
  if (carried) {
    const selection = { anchor: area.selectionStart, head: area.selectionEnd };
    view.dispatch({ selection, scrollIntoView: true });
  }
  if (carried || area.getAttribute("aria-invalid") === "true") view.focus();
  say(messages.checking, "checking");

  // "Show the place in the text" buttons move the editor's cursor, not the hidden textarea's.
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-goto-line]");
    if (!button || button.getAttribute("aria-controls") !== area.id) return;
    event.stopPropagation();
    const doc = view.state.doc;
    const line = doc.line(Math.min(Math.max(parseInt(button.dataset.gotoLine, 10) || 1, 1), doc.lines));
    const column = parseInt(button.dataset.gotoColumn, 10) || 1;
    const at = Math.min(line.from + column - 1, line.to);
    view.dispatch({ selection: { anchor: line.from, head: at }, scrollIntoView: true });
    view.focus();
  }, true);
  return view;
}

document.querySelectorAll("textarea[data-body-editor]").forEach(async (area) => {
  try {
    enhance(area, await loadHints(area.dataset.hintsUrl));
  } catch (error) {
    area.hidden = false; // the plain textarea, as without JavaScript
    if (window.console) console.warn("body editor not started:", error);
  }
});
