// Completions for a body: component ids in <ce-include component="...">, the vocabulary's
// values in data-* conditions, and names, fields and filters inside {{ ... }} and {% ... %}.
// In: the hints the workbench sends (GET /body-hints). Out: CodeMirror completion sources.

// An attribute value being typed: <tag ... name="value-so-far   (the quote still open)
const OPEN_VALUE = /<([A-Za-z][\w.-]*)(?:\s+[^\s=<>"']+(?:\s*=\s*(?:"[^"]*"|'[^']*'))?)*\s+([^\s=<>"']+)\s*=\s*(["'])([^"'<>]*)$/;
const OPEN_PLACEHOLDER = /\{[{%]((?:(?![}%]\}).)*)$/s;
const LOOK_BACK = 4000;

function textBefore(context) {
  return context.state.sliceDoc(Math.max(0, context.pos - LOOK_BACK), context.pos);
}

export function attributeValues(hints) {
  const ids = hints.components.map((c) => ({
    label: c.id,
    detail: c.type,
    info: c.title || undefined,
    type: "constant",
  }));
  return (context) => {
    const found = OPEN_VALUE.exec(textBefore(context));
    if (!found) return null;
    const [, tag, name, , value] = found;
    if (tag === "ce-include" && name === "component") {
      return { from: context.pos - value.length, options: ids, validFor: /^[\w.-]*$/ };
    }
    const known = hints.conditions[name];
    if (!known) return null;
    // A list of names separated by spaces; a leading "-" excludes.
    const word = /-?[^\s-]*$/.exec(value)[0];
    const negated = word.startsWith("-");
    const options = known.map((v) => ({
      label: (negated ? "-" : "") + v,
      type: "enum",
      detail: negated ? "not" : undefined,
    }));
    return { from: context.pos - word.length, options, validFor: /^-?[\w.-]*$/ };
  };
}

export function placeholders(hints) {
  const names = hints.names.map((n) => ({ label: n.name, detail: n.detail, type: "variable" }));
  const filters = hints.filters.map((f) => ({
    label: f.name,
    type: "function",
    detail: f.locale ? "reader's locale" : undefined,
  }));
  const fields = {};
  for (const [base, list] of Object.entries(hints.fields)) {
    fields[base] = list.map((f) => ({ label: f, type: "property" }));
  }
  return (context) => {
    const open = OPEN_PLACEHOLDER.exec(textBefore(context));
    if (!open) return null;
    const inside = open[1];
    let m = /\|\s*(\w*)$/.exec(inside);
    if (m) return { from: context.pos - m[1].length, options: filters, validFor: /^\w*$/ };
    m = /\b(\w+)\.(\w*)$/.exec(inside);
    if (m) {
      const options = fields[m[1]];
      if (!options) return null;
      return { from: context.pos - m[2].length, options, validFor: /^\w*$/ };
    }
    m = /(?:^|[^\w.'"])(\w*)$/.exec(inside);
    if (!m || (!m[1] && !context.explicit && !/[\s(]$/.test(inside))) return null;
    return { from: context.pos - m[1].length, options: names, validFor: /^\w*$/ };
  };
}

export function schema(hints) {
  return hints.elements.map((e) => ({ name: e.name, top: true, attributes: e.attributes }));
}
