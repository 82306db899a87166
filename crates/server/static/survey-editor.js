// The survey form builder. It edits the definition held in the form's
// `definition` textarea (which stays the source of truth: without this
// script a manager can still edit the JSON by hand) and shows a live
// preview. The server checks everything again on publish.
"use strict";
(() => {
  const form = document.getElementById("survey-form");
  const area = form && form.querySelector("textarea[name=definition]");
  const root = document.getElementById("editor");
  if (!area || !root) return;
  const T = JSON.parse(root.dataset.texts || "{}");
  const t = (k) => T[k.replace(/-/g, "_")] ?? k;
  let model;
  try { model = JSON.parse(area.value); } catch { root.textContent = t("json-invalid"); return; }
  const TYPES = ["nps", "scale", "single_choice", "multi_choice", "text", "consent", "photo", "voice"];

  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k in el && typeof el[k] !== "object") el[k] = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat(3)) if (kid != null && kid !== false) el.append(kid.nodeType ? kid : String(kid));
    return el;
  }

  // ---- the model ---------------------------------------------------------
  function textLangs() {
    const found = new Set();
    const scan = (x) => { if (x && typeof x === "object" && !Array.isArray(x)) Object.keys(x).forEach((l) => found.add(l)); };
    scan(model.title);
    for (const q of model.questions || []) {
      scan(q.text); scan(q.min_label); scan(q.max_label);
      for (const o of q.options || []) scan(o.text);
    }
    return found.size ? [...found] : ["ru", "en"];
  }
  let langs = textLangs();
  let previewLang = langs.includes(document.documentElement.lang) ? document.documentElement.lang : langs[0];
  const asMap = (x) => (x == null ? {} : typeof x === "string" ? { [langs[0]]: x } : { ...x });
  function changed(redraw) {
    model.questions = model.questions || [];
    area.value = JSON.stringify(model, null, 2);
    preview();
    if (redraw) draw();
  }
  const set = (obj, key, value, redraw) => {
    if (value === "" || value == null || (Array.isArray(value) && !value.length)) delete obj[key]; else obj[key] = value;
    changed(redraw);
  };
  const num = (v) => (v === "" ? "" : Number(v));

  // ---- fields ------------------------------------------------------------
  const field = (label, control, cls = "") => h("label", { class: `ed-field ${cls}` }, h("span", {}, label), control);
  function input(value, onchange, extra = {}) {
    return h("input", { value: value ?? "", oninput: (e) => onchange(e.target.value, e.target), ...extra });
  }
  // One input per language for a text that may be per language.
  function texts(label, value, onchange) {
    const map = asMap(value);
    return h("fieldset", { class: "ed-texts" }, h("legend", {}, label),
      // A listed language without its text is marked: publishing asks to confirm it.
      langs.map((l) => field(l, input(map[l], (v, el) => {
        if (v) map[l] = v; else delete map[l];
        el.classList.toggle("missing", !v.trim());
        onchange(Object.keys(map).length ? { ...map } : "");
      }, { class: map[l] && map[l].trim() ? "" : "missing", placeholder: t("missing-text") }), "ed-lang")));
  }
  const check = (label, on, onchange) => h("label", { class: "ed-check" }, h("input", { type: "checkbox", checked: !!on, onchange: (e) => onchange(e.target.checked) }), " ", label);
  const list = (arr) => (arr || []).join(", ");
  const unlist = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);

  // ---- drawing -----------------------------------------------------------
  function draw() {
    const qs = model.questions || [];
    root.replaceChildren(
      h("section", { class: "card" },
        h("h2", {}, t("survey")),
        field(t("name"), input(model.name, (v) => set(model, "name", v))),
        texts(t("title"), model.title, (v) => set(model, "title", v)),
        h("div", { class: "ed-row" },
          field(t("languages"), input(langs.join(", "), (v) => { const l = unlist(v); if (l.length) { langs = l; } }, { onchange: () => { previewLang = langs.includes(previewLang) ? previewLang : langs[0]; draw(); preview(); } })),
          field(t("timeout"), input(model.timeout_seconds, (v) => set(model, "timeout_seconds", num(v)), { type: "number", min: 1, placeholder: "—" }))),
        h("div", { class: "ed-row" }, check(t("inspection"), model.inspection, (v) => { if (v) model.inspection = true; else delete model.inspection; changed(true); })),
        model.inspection ? h("p", { class: "muted small" }, t("inspection-help")) : null,
        h("div", { class: "ed-row" },
          check(t("recording"), model.recording, (v) => { if (v) model.recording = { max_seconds: 300 }; else delete model.recording; changed(true); }),
          model.recording ? field(t("recording-minutes"), input(model.recording.max_seconds / 60, (v) => { const m = Number(v); if (m > 0) { model.recording.max_seconds = Math.round(m * 60); changed(); } }, { type: "number", min: 1, max: 30, step: 1 })) : null),
        model.recording ? h("p", { class: "muted small" }, t("recording-help")) : null,
        targeting(),
        review()),
      h("section", {}, qs.map((q, i) => questionCard(q, i))),
      h("section", { class: "card ed-add" }, h("h2", {}, t("add-question")),
        h("div", { class: "ed-types" }, TYPES.map((type) => h("button", { type: "button", "data-add": type, onclick: () => addQuestion(type) }, t(`type-${type}`))))));
  }

  function targeting() {
    const tg = model.targeting || {};
    const upd = (k, v) => { set(tg, k, v); model.targeting = tg; if (!Object.keys(tg).length) delete model.targeting; changed(); };
    const seg = (s) => check(t(`segment-${s}`), (tg.segments || []).includes(s), (on) => upd("segments", on ? [...(tg.segments || []), s] : (tg.segments || []).filter((x) => x !== s)));
    return h("fieldset", { class: "ed-group" }, h("legend", {}, t("targeting")),
      h("p", { class: "muted small" }, t("targeting-help")),
      h("div", { class: "ed-row" }, seg("new"), seg("repeat")),
      h("div", { class: "ed-row" },
        field(t("cities"), input(list(tg.cities), (v) => upd("cities", unlist(v)))),
        field(t("partners"), input(list(tg.partners), (v) => upd("partners", unlist(v))))),
      h("div", { class: "ed-row" },
        field(t("amount-min"), input(tg.amount_min, (v) => upd("amount_min", num(v)), { type: "number", min: 0 })),
        field(t("amount-max"), input(tg.amount_max, (v) => upd("amount_max", num(v)), { type: "number", min: 0 })),
        field(t("priority"), input(tg.priority, (v) => upd("priority", num(v)), { type: "number" })),
        field(t("sample"), input(tg.sample_one_in, (v) => upd("sample_one_in", num(v)), { type: "number", min: 1, placeholder: "1" }))));
  }

  function review() {
    const on = !!model.review;
    const rv = model.review;
    const body = on ? [
      field(t("review-min"), input(rv.min_score ?? 9, (v) => set(rv, "min_score", num(v)), { type: "number", min: 0, max: 10 })),
      (rv.links || []).map((l, i) => h("div", { class: "ed-option" },
        h("div", { class: "ed-row" },
          field("id", input(l.id, (v) => set(l, "id", v))),
          field(t("review-url"), input(l.url, (v) => set(l, "url", v), { type: "url", placeholder: "https://" })),
          h("button", { type: "button", class: "link", onclick: () => { rv.links.splice(i, 1); changed(true); } }, t("remove"))),
        texts(t("review-label"), l.label, (v) => set(l, "label", v)))),
      h("button", { type: "button", onclick: () => { rv.links = [...(rv.links || []), { id: `link${(rv.links || []).length + 1}`, label: "", url: "" }]; changed(true); } }, t("add-link")),
    ] : [];
    return h("fieldset", { class: "ed-group" }, h("legend", {}, t("review")),
      check(t("review-on"), on, (v) => { if (v) model.review = { min_score: 9, links: [{ id: "maps", label: "", url: "" }] }; else delete model.review; changed(true); }),
      body);
  }

  function addQuestion(type) {
    const qs = (model.questions = model.questions || []);
    let n = qs.length + 1;
    while (qs.some((q) => q.id === `q${n}`)) n++;
    const q = { id: type === "nps" && !qs.some((x) => x.id === "nps") ? "nps" : `q${n}`, type, text: "" };
    if (type === "scale") Object.assign(q, { min: 1, max: 5, measures: "csi" });
    if (type === "single_choice" || type === "multi_choice") q.options = [{ id: "a", text: "" }, { id: "b", text: "" }];
    qs.push(q);
    changed(true);
    const cards = root.querySelectorAll(".ed-question");
    if (cards.length) cards[cards.length - 1].scrollIntoView({ block: "center" });
  }

  function questionCard(q, i) {
    const qs = model.questions;
    const move = (d) => { const j = i + d; if (j < 0 || j >= qs.length) return; [qs[i], qs[j]] = [qs[j], qs[i]]; changed(true); };
    return h("section", { class: "card ed-question", "data-index": i },
      h("div", { class: "ed-head" },
        h("strong", {}, `${i + 1}.`),
        h("select", { onchange: (e) => retype(q, e.target.value), "aria-label": t("type") },
          TYPES.map((ty) => h("option", { value: ty, selected: q.type === ty }, t(`type-${ty}`)))),
        field("id", input(q.id, (v) => set(q, "id", v), { pattern: "[A-Za-z0-9_.\\-]{1,64}", required: true }), "ed-id"),
        h("span", { class: "ed-tools" },
          h("button", { type: "button", title: t("up"), "aria-label": t("up"), onclick: () => move(-1), disabled: i === 0 }, "↑"),
          h("button", { type: "button", title: t("down"), "aria-label": t("down"), onclick: () => move(1), disabled: i === qs.length - 1 }, "↓"),
          h("button", { type: "button", class: "danger", title: t("remove"), "aria-label": t("remove"), onclick: () => { qs.splice(i, 1); changed(true); } }, "✕"))),
      texts(t("question-text"), q.text, (v) => set(q, "text", v)),
      check(t("required"), q.required, (v) => set(q, "required", v || "")),
      q.type === "scale" ? scaleFields(q) : null,
      q.type === "single_choice" || q.type === "multi_choice" ? optionFields(q) : null,
      (q.type === "photo" || q.type === "voice") ? h("p", { class: "muted small" }, t("needs-consent")) : null,
      showIfFields(q, i));
  }

  // A new type keeps the text and the condition, and only the fields it uses.
  function retype(q, type) {
    q.type = type;
    if (type === "scale") Object.assign(q, { min: q.min ?? 1, max: q.max ?? 5, measures: q.measures ?? "csi" });
    else ["min", "max", "measures", "weight", "min_label", "max_label"].forEach((k) => delete q[k]);
    if (type === "single_choice" || type === "multi_choice") q.options = q.options || [{ id: "a", text: "" }, { id: "b", text: "" }];
    else delete q.options;
    if (type !== "multi_choice") delete q.other;
    changed(true);
  }

  function scaleFields(q) {
    const factor = (q.measures || "").startsWith("factor:");
    return h("div", {},
      h("div", { class: "ed-row" },
        field(t("min"), input(q.min, (v) => set(q, "min", num(v)), { type: "number" })),
        field(t("max"), input(q.max, (v) => set(q, "max", num(v)), { type: "number" })),
        field(t("measures"), h("select", { onchange: (e) => { set(q, "measures", e.target.value === "factor" ? "factor:" : e.target.value, true); } },
          ["csi", "csat", "ces", "factor"].map((m) => h("option", { value: m, selected: factor ? m === "factor" : q.measures === m }, t(`measure-${m}`))))),
        factor ? field(t("factor"), input(q.measures.slice(7), (v) => set(q, "measures", `factor:${v}`), { placeholder: "speed" })) : null,
        factor ? field(t("weight"), input(q.weight, (v) => set(q, "weight", num(v)), { type: "number", step: "0.05", min: 0 })) : null),
      texts(t("min-label"), q.min_label, (v) => set(q, "min_label", v)),
      texts(t("max-label"), q.max_label, (v) => set(q, "max_label", v)));
  }

  function optionFields(q) {
    q.options = q.options || [];
    return h("fieldset", { class: "ed-group" }, h("legend", {}, t("options")),
      q.options.map((o, j) => h("div", { class: "ed-option" },
        h("div", { class: "ed-row" },
          field("id", input(o.id, (v) => set(o, "id", v))),
          h("button", { type: "button", class: "link", onclick: () => { q.options.splice(j, 1); changed(true); } }, t("remove"))),
        texts(t("option-text"), o.text, (v) => set(o, "text", v)))),
      h("button", { type: "button", onclick: () => { q.options.push({ id: `o${q.options.length + 1}`, text: "" }); changed(true); } }, t("add-option")),
      q.type === "multi_choice" ? check(t("other"), q.other, (v) => set(q, "other", v || "")) : null);
  }

  function showIfFields(q, i) {
    const earlier = model.questions.slice(0, i).filter((x) => ["nps", "scale", "single_choice", "multi_choice", "consent"].includes(x.type));
    const rule = q.show_if;
    const on = rule && earlier.find((x) => x.id === rule.question);
    const pickQ = h("select", { onchange: (e) => { if (e.target.value) q.show_if = { question: e.target.value }; else delete q.show_if; changed(true); } },
      h("option", { value: "" }, t("always")),
      earlier.map((x) => h("option", { value: x.id, selected: on && on.id === x.id }, `${x.id}: ${pickText(x.text).slice(0, 40)}`)));
    let cond = null;
    if (on && (on.type === "nps" || on.type === "scale")) {
      cond = h("div", { class: "ed-row" },
        field(t("from"), input(rule.min, (v) => set(rule, "min", num(v)), { type: "number" })),
        field(t("to"), input(rule.max, (v) => set(rule, "max", num(v)), { type: "number" })));
    } else if (on && on.type === "consent") {
      cond = h("select", { onchange: (e) => set(rule, "equals", e.target.value === "yes") },
        h("option", { value: "yes", selected: rule.equals !== false }, t("yes")), h("option", { value: "no", selected: rule.equals === false }, t("no")));
      if (rule.equals === undefined) { rule.equals = true; area.value = JSON.stringify(model, null, 2); }
    } else if (on) {
      const chosen = rule.in || [];
      cond = h("div", { class: "ed-row" }, (on.options || []).map((o) => check(pickText(o.text) || o.id, chosen.includes(o.id),
        (v) => set(rule, "in", v ? [...chosen, o.id] : chosen.filter((x) => x !== o.id)))));
    }
    return h("fieldset", { class: "ed-group" }, h("legend", {}, t("show-if")), pickQ, cond);
  }
  const pickText = (x, lang = previewLang) => (x == null ? "" : typeof x === "string" ? x : x[lang] ?? Object.values(x)[0] ?? "");

  // ---- preview -----------------------------------------------------------
  const pane = document.getElementById("preview");
  function preview() {
    if (!pane) return;
    const qs = model.questions || [];
    pane.replaceChildren(...[
      h("div", { class: "ed-langs" }, langs.map((l) => h("button", { type: "button", class: l === previewLang ? "primary small" : "small", onclick: () => { previewLang = l; preview(); } }, l))),
      h("h3", {}, model.name || ""),
      // A survey that records asks the customer first, in the terminal's words.
      model.recording ? h("div", { class: "ed-preview-q" },
        h("p", { class: "muted small" }, t("recording-first")),
        h("p", { class: "lead" }, t("recording-ask")),
        h("ul", { class: "choices" }, h("li", {}, t("yes")), h("li", {}, t("no")))) : null,
      qs.map((q, i) => {
        let body = null;
        if (q.type === "nps" || q.type === "scale") {
          const lo = q.type === "nps" ? 0 : Number(q.min ?? 1);
          const hi = q.type === "nps" ? 10 : Number(q.max ?? 5);
          const pts = [];
          for (let n = lo; n <= hi && pts.length <= 101; n++) pts.push(h("span", { class: "point" }, n));
          body = [h("div", { class: "scale" }, pts), q.min_label || q.max_label ? h("div", { class: "scale-labels muted small" }, h("span", {}, pickText(q.min_label)), h("span", {}, pickText(q.max_label))) : null];
        } else if (q.options) {
          body = h("ul", { class: "choices" }, q.options.map((o) => h("li", {}, pickText(o.text) || o.id)), q.other ? h("li", {}, t("other-option")) : null);
        } else if (q.type === "consent") {
          body = h("ul", { class: "choices" }, h("li", {}, t("yes")), h("li", {}, t("no")));
        } else if (q.type === "text") {
          body = h("div", { class: "ed-fake-input" });
        } else {
          body = h("p", { class: "muted small" }, t(`type-${q.type}`));
        }
        return h("div", { class: "ed-preview-q" },
          h("p", { class: "muted small" }, `${i + 1}${q.required ? " · " + t("required") : ""}${q.show_if ? " · " + t("conditional") : ""}`),
          h("p", { class: "lead" }, pickText(q.text) || "…"), body);
      })].flat().filter(Boolean));
  }

  form.classList.add("with-editor");
  draw();
  preview();
})();
