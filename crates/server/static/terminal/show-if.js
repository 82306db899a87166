// Which questions a customer is shown, given the answers so far: the rule
// the server applies (domain::survey::shown_questions), shared by the
// courier terminal and the survey-by-link page, and tested against the same
// fixtures as the Rust rule (crates/domain/tests/show_if.json). Answers are
// typed as the API takes them: a number for nps and scale, an option id (or
// a list of them) for choices, true or false for a consent. Values compare
// strictly: publishing refuses a rule whose values are of the wrong type.
"use strict";
var DoorstepShowIf = (() => {
  // Whether `rule` holds on the answer `value` of the question it names.
  function holds(rule, value) {
    if (value === undefined || value === null) return false;
    if (typeof value === "number") {
      return (rule.min === undefined || value >= rule.min) && (rule.max === undefined || value <= rule.max)
        && (rule.in === undefined || rule.in.some((x) => x === value))
        && (rule.equals === undefined || rule.equals === value);
    }
    if (typeof value === "boolean") return rule.equals === undefined || rule.equals === value;
    const ids = typeof value === "string" ? [value] : Array.isArray(value) ? value : value.options || [];
    return ids.some((id) => (rule.in || []).some((x) => x === id) || (rule.equals !== undefined && rule.equals === id));
  }

  // Walks the survey in order: a question is shown when its show-if holds
  // on the answers kept so far (an answer to a hidden question does not
  // count), a photo or voice question only after a consent answered yes.
  // Returns the answers kept ({id: value}, and as [id, value] pairs in
  // order) and the questions shown.
  function shown(survey, answers) {
    const kept = {};
    const list = [];
    const questions = [];
    let consent = false;
    for (const q of survey.questions) {
      const visible = (!q.show_if || holds(q.show_if, kept[q.show_if.question]))
        && (!["photo", "voice"].includes(q.type) || consent);
      if (visible) {
        questions.push(q);
        if (answers[q.id] !== undefined) { kept[q.id] = answers[q.id]; list.push([q.id, answers[q.id]]); }
      }
      if (q.type === "consent") consent = kept[q.id] === true;
    }
    return { kept, list, shown: questions };
  }

  return { holds, shown };
})();
