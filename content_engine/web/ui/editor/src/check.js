// The check as the editor types: the body goes to the workbench (POST .../check-body), which
// runs what saving runs; its marks come back with lines and columns and are underlined here.
// In: the form (for its CSRF token) and the URLs. Out: a CodeMirror lint source.

// Lines and columns from the server count code points; CodeMirror counts UTF-16 units.
function offset(doc, line, column) {
  const at = doc.line(Math.min(Math.max(line, 1), doc.lines));
  const units = Array.from(at.text).slice(0, Math.max(column - 1, 0)).join("").length;
  return at.from + units;
}

export function diagnosticsOf(doc, marks) {
  return marks.map((m) => {
    const from = offset(doc, m.line, m.column);
    const to = Math.max(offset(doc, m.end_line, m.end_column), from);
    return { from, to, severity: m.severity, message: m.message, source: m.code };
  });
}

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (all, name) => (name in values ? values[name] : all));
}

export function bodyCheck({ form, url, key, limit, say, messages }) {
  return async (view) => {
    const body = view.state.doc.toString();
    if (body.length > limit) {
      say(messages.tooLong, "warning");
      return [];
    }
    const token = form.querySelector("input[name=csrf_token]");
    const fields = new URLSearchParams({ csrf_token: token ? token.value : "", key: key(), body });
    let answer;
    try {
      answer = await fetch(url, {
        method: "POST",
        body: fields,
        credentials: "same-origin",
        redirect: "manual",
        headers: { Accept: "application/json" },
      });
    } catch (error) {
      say(messages.offline, "warning");
      return [];
    }
    if (answer.type === "opaqueredirect" || answer.status === 0) {
      say(messages.signedOut, "warning");
      return [];
    }
    if (!answer.ok) {
      let reason = String(answer.status);
      try { reason = (await answer.json()).error.message; } catch (error) { /* not JSON */ }
      say(fill(messages.failed, { reason }), "warning");
      return [];
    }
    const marks = (await answer.json()).marks || [];
    if (view.state.doc.toString() !== body) return []; // typed on meanwhile: the next run says
    const errors = marks.filter((m) => m.severity === "error").length;
    say(marks.length ? fill(messages.problems, { errors, warnings: marks.length - errors }) : messages.ok,
      errors ? "error" : marks.length ? "warning" : "ok");
    return diagnosticsOf(view.state.doc, marks);
  };
}
