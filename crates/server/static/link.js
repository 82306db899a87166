// The survey-by-link page: a question is shown only when its condition on
// an earlier answer holds — the terminal's rule (show-if.js), which the
// server applies too; without scripts every question shows, and the server
// keeps only the answers to questions that were shown.
"use strict";
(() => {
  const form = document.getElementById("survey");
  if (!form) return;
  const fields = [...form.querySelectorAll("[data-question]")];
  const survey = {
    questions: fields.map((f) => ({
      id: f.dataset.question,
      type: f.dataset.control === "consent" ? "consent" : f.dataset.control,
      show_if: f.dataset.showIf ? JSON.parse(f.dataset.showIf) : undefined,
    })),
  };
  // An answer typed as the API takes it (free text: nothing depends on it).
  const answer = (f) => {
    const checked = [...f.querySelectorAll("input:checked")].map((i) => i.value);
    switch (f.dataset.control) {
      case "points": return checked.length ? Number(checked[0]) : undefined;
      case "one": return checked[0];
      case "many": return checked.length ? checked : undefined;
      case "consent": return checked.length ? checked[0] === "yes" : undefined;
      default: return undefined;
    }
  };
  const update = () => {
    const answers = {};
    for (const f of fields) {
      const value = answer(f);
      if (value !== undefined) answers[f.dataset.question] = value;
    }
    const visible = new Set(DoorstepShowIf.shown(survey, answers).shown.map((q) => q.id));
    for (const f of fields) {
      const on = visible.has(f.dataset.question);
      f.hidden = !on;
      for (const input of f.querySelectorAll("input, textarea")) input.disabled = !on;
    }
  };
  form.addEventListener("change", update);
  update();
})();
