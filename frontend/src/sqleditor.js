// pgdeck SQL editor: a CodeMirror 6 editor that replaces a <textarea>.
//
// Bundled by ../build.mjs into an IIFE at
// dbtools/static/dbtools/vendor/sqleditor.bundle.js, which defines
//
//   window.PgDeckSQLEditor = { create(textarea, options), version }
//
// options (all optional):
//   schema          {"public.users": ["id", "username"], "users": [...]}
//                   (lang-sql SQLNamespace; dotted keys = schema.table)
//   defaultSchema   e.g. "public": its tables complete without a prefix
//   onRun           function(editorApi), called on Ctrl-Enter / Cmd-Enter
//   onFormat        function(editorApi), called on Shift-Alt-F (Format SQL)
//   (the editor follows the admin's dark theme with @codemirror/theme-one-dark)
//   cspNonce        nonce for the <style> element CodeMirror injects
//                   (defaults to the nonce of the <script> that loaded
//                   this bundle, if any)
//   autofocus       focus the editor after creation
//   readOnly        make the editor read-only
//   placeholder     placeholder text (defaults to textarea.placeholder)
//   upperCaseKeywords  complete keywords in upper case
//   minHeight, maxHeight  CSS lengths for the editor (e.g. "12em", "60vh")

import { EditorState, Compartment, StateEffect, StateField, Prec } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLineGutter, highlightSpecialChars,
  drawSelection, dropCursor, rectangularSelection, crosshairCursor, highlightActiveLine,
  placeholder as placeholderExt, Decoration,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput, syntaxTree,
} from "@codemirror/language";
import {
  autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap,
} from "@codemirror/autocomplete";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { sql, PostgreSQL } from "@codemirror/lang-sql";
import { oneDark } from "@codemirror/theme-one-dark";
import { isDark, watchTheme } from "./theme.js";

// Nonce of the <script> element that is evaluating this bundle (only
// available during the initial synchronous evaluation).
const loaderNonce = (typeof document !== "undefined" && document.currentScript &&
  (document.currentScript.nonce || document.currentScript.getAttribute("nonce"))) || "";

// ---------------------------------------------------------------- errors

const setErrorEffect = StateEffect.define({
  map: (value, mapping) => value && {
    from: mapping.mapPos(value.from, 1),
    to: mapping.mapPos(value.to, -1),
  },
});

const errorMark = Decoration.mark({ class: "cm-pgdeck-error" });
const errorLine = Decoration.line({ class: "cm-pgdeck-error-line" });

const errorField = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setErrorEffect)) continue;
      if (!e.value) {
        deco = Decoration.none;
      } else {
        const { from, to } = e.value;
        const line = tr.state.doc.lineAt(from);
        const ranges = [errorLine.range(line.from)];
        if (to > from) ranges.push(errorMark.range(from, to));
        deco = Decoration.set(ranges, true);
      }
    }
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

// PostgreSQL reports 1-based *character* (code point) offsets; CodeMirror
// uses UTF-16 code unit offsets. Convert, clamping to the document.
function pgPositionToOffset(text, position) {
  let n = Math.max(0, (parseInt(position, 10) || 1) - 1);
  let i = 0;
  while (n > 0 && i < text.length) {
    const c = text.charCodeAt(i);
    i += (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) ? 2 : 1;
    n--;
  }
  return Math.min(i, text.length);
}

// Range to highlight for an error at `pos`: the innermost syntax token /
// word there, else a single character (the last one at end of input).
function errorRange(state, pos) {
  const len = state.doc.length;
  if (len === 0) return { from: 0, to: 0 };
  if (pos >= len) {
    // e.g. "syntax error at end of input": mark the last non-space char
    let p = len;
    const text = state.doc.toString();
    while (p > 0 && /\s/.test(text[p - 1])) p--;
    pos = Math.max(0, p - 1);
  }
  const word = state.wordAt(pos);
  if (word && word.to > word.from) return { from: word.from, to: word.to };
  const node = syntaxTree(state).resolveInner(pos, 1);
  if (node && node.from <= pos && node.to > pos && node.to - node.from <= 80 &&
      !node.firstChild) {
    return { from: node.from, to: node.to };
  }
  const line = state.doc.lineAt(pos);
  if (pos === line.to && line.to > line.from) pos--; // newline: previous char
  return { from: pos, to: Math.min(len, pos + 1) };
}

// ----------------------------------------------------------------- theme

const pgdeckTheme = EditorView.baseTheme({
  "&": { border: "1px solid #ced4da", borderRadius: "4px" },
  "&light": { backgroundColor: "#fff" },
  "&dark": { borderColor: "#555" },
  "&.cm-focused": { outline: "2px solid rgba(13, 110, 253, .35)" },
  ".cm-scroller": {
    fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace",
    fontSize: "13px", lineHeight: "1.45",
  },
  ".cm-pgdeck-error": {
    textDecoration: "underline wavy #d00",
    textDecorationSkipInk: "none",
    backgroundColor: "rgba(220, 0, 0, .15)",
  },
  ".cm-pgdeck-error-line": { backgroundColor: "rgba(220, 0, 0, .06)" },
});

function sizeTheme(minHeight, maxHeight) {
  const spec = {};
  if (minHeight) {
    spec[".cm-content, .cm-gutter"] = { minHeight };
  }
  if (maxHeight) {
    spec["&"] = Object.assign(spec["&"] || {}, { maxHeight });
    spec[".cm-scroller"] = Object.assign(spec[".cm-scroller"] || {}, { overflow: "auto" });
  }
  return EditorView.theme(spec);
}

// ---------------------------------------------------------------- create

function sqlConfig(schema, opts) {
  const cfg = { dialect: PostgreSQL, upperCaseKeywords: !!opts.upperCaseKeywords };
  if (schema) cfg.schema = schema;
  if (opts.defaultSchema) cfg.defaultSchema = opts.defaultSchema;
  return cfg;
}

function create(textarea, options) {
  if (typeof textarea === "string") textarea = document.querySelector(textarea);
  if (!textarea || textarea.tagName !== "TEXTAREA") {
    throw new Error("PgDeckSQLEditor.create: a <textarea> element is required");
  }
  if (textarea.pgdeckEditor) return textarea.pgdeckEditor;
  const opts = Object.assign({}, options || {});
  const languageConf = new Compartment();
  const themeConf = new Compartment(); // one-dark while the admin is dark (toggle or prefers-color-scheme)
  const nonce = opts.cspNonce || loaderNonce;
  const rows = parseInt(textarea.getAttribute("rows"), 10);
  // Default height from the textarea's rows (13px font * 1.45 line height).
  const minHeight = opts.minHeight || ((rows > 0 ? rows : 8) * 19 + 8) + "px";

  let api = null;
  const runKeymap = Prec.highest(keymap.of([{
    key: "Mod-Enter",
    preventDefault: true,
    run: () => {
      if (typeof opts.onRun === "function") opts.onRun(api);
      return true;
    },
  }, {
    key: "Shift-Alt-f", // Format SQL (the page's handler, e.g. POST to the format endpoint)
    preventDefault: true,
    run: () => {
      if (typeof opts.onFormat !== "function") return false;
      opts.onFormat(api);
      return true;
    },
  }]));

  const extensions = [
    runKeymap,
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    bracketMatching(),
    closeBrackets(),
    autocompletion(),
    rectangularSelection(),
    crosshairCursor(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    keymap.of([
      ...closeBracketsKeymap,
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...completionKeymap,
      indentWithTab,
    ]),
    languageConf.of(sql(sqlConfig(opts.schema, opts))),
    themeConf.of([]),
    errorField,
    pgdeckTheme,
    sizeTheme(minHeight, opts.maxHeight),
    EditorView.lineWrapping,
    EditorView.updateListener.of((update) => {
      if (update.docChanged) {
        textarea.value = update.state.doc.toString();
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }),
  ];
  if (nonce) extensions.push(EditorView.cspNonce.of(nonce));
  const ph = opts.placeholder != null ? opts.placeholder : textarea.placeholder;
  if (ph) extensions.push(placeholderExt(ph));
  if (opts.readOnly || textarea.readOnly) {
    extensions.push(EditorState.readOnly.of(true), EditorView.editable.of(false));
  }
  const label = textarea.getAttribute("aria-label") ||
    (textarea.id && document.querySelector('label[for="' + CSS.escape(textarea.id) + '"]')
      ? document.querySelector('label[for="' + CSS.escape(textarea.id) + '"]').textContent.trim()
      : "SQL editor");
  extensions.push(EditorView.contentAttributes.of({ "aria-label": label }));

  const view = new EditorView({
    state: EditorState.create({ doc: textarea.value, extensions }),
  });
  view.dom.classList.add("pgdeck-sqleditor");
  const stopTheme = watchTheme((dark) => view.dispatch({ effects: themeConf.reconfigure(dark ? oneDark : []) }));
  textarea.parentNode.insertBefore(view.dom, textarea.nextSibling);
  // Hidden, but still part of the form, so a normal POST submits the SQL.
  // (CSSOM property assignment: not affected by CSP style-src.)
  textarea.style.display = "none";
  textarea.setAttribute("aria-hidden", "true");
  // A hidden `required` control blocks submission with an unfocusable
  // validation error, so move the check into a submit handler.
  const wasRequired = textarea.required;
  textarea.required = false;
  const form = textarea.form;
  const onSubmit = (ev) => {
    textarea.value = view.state.doc.toString();
    if (wasRequired && !textarea.value.trim()) {
      ev.preventDefault();
      view.focus();
    }
  };
  const onReset = () => {
    setTimeout(() => api.setValue(textarea.defaultValue), 0);
  };
  if (form) {
    form.addEventListener("submit", onSubmit);
    form.addEventListener("reset", onReset);
  }

  api = {
    view,
    textarea,
    getValue() {
      return view.state.doc.toString();
    },
    setValue(text) {
      text = text == null ? "" : String(text);
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: text },
        selection: { anchor: text.length },
        effects: setErrorEffect.of(null),
      });
      textarea.value = text; // also when unchanged
    },
    insertText(text) {
      text = text == null ? "" : String(text);
      view.dispatch(view.state.replaceSelection(text), { scrollIntoView: true, userEvent: "input" });
      view.focus();
    },
    markError(position) {
      const state = view.state;
      const pos = pgPositionToOffset(state.doc.toString(), position);
      const range = errorRange(state, pos);
      view.dispatch({
        effects: [setErrorEffect.of(range), EditorView.scrollIntoView(range.from, { y: "center" })],
        selection: { anchor: Math.min(pos, state.doc.length) },
      });
      view.focus();
      return range;
    },
    clearError() {
      view.dispatch({ effects: setErrorEffect.of(null) });
    },
    focus() {
      view.focus();
    },
    setSchema(schema) {
      opts.schema = schema || undefined;
      view.dispatch({ effects: languageConf.reconfigure(sql(sqlConfig(opts.schema, opts))) });
    },
    destroy() {
      if (form) {
        form.removeEventListener("submit", onSubmit);
        form.removeEventListener("reset", onReset);
      }
      textarea.value = view.state.doc.toString();
      textarea.required = wasRequired;
      textarea.removeAttribute("aria-hidden");
      textarea.style.display = "";
      stopTheme();
      view.destroy();
      delete textarea.pgdeckEditor;
    },
  };
  textarea.pgdeckEditor = api;
  if (opts.autofocus || textarea.autofocus) view.focus();
  return api;
}

// For an EditorView made without create() (from this bundle's CodeMirror): follow the admin's theme too.
// PgdeckEditorTheme.apply(view) returns stop(); editors made by create() already follow it.
const PgdeckEditorTheme = {
  apply(view) {
    const conf = new Compartment();
    view.dispatch({ effects: StateEffect.appendConfig.of(conf.of([])) });
    return watchTheme((dark) => view.dispatch({ effects: conf.reconfigure(dark ? oneDark : []) }));
  },
  isDark,
  oneDark,
};

const PgDeckSQLEditor = { create, version: "1" };
if (typeof window !== "undefined") {
  window.PgDeckSQLEditor = PgDeckSQLEditor;
  window.PgdeckEditorTheme = PgdeckEditorTheme;
}
export default PgDeckSQLEditor;
