"use strict";
// Keyboard shortcuts of the inbox and the case page (never while typing):
//   /  search        n  new case        j / k  next / previous case
//   Enter  open the selected case      t  take the case (case page)
//   r  reply    i  internal note (case page)
(() => {
  const typing = (e) => e.target.closest("input, textarea, select, [contenteditable]");
  let selected = -1;
  const rows = () => [...document.querySelectorAll("#case-rows tr[data-href]")];
  const select = (i) => {
    const all = rows();
    if (all.length === 0) return;
    selected = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((r, k) => r.classList.toggle("selected", k === selected));
    all[selected].scrollIntoView({ block: "nearest" });
  };
  const focus = (selector) => {
    const el = document.querySelector(selector);
    if (el) { el.focus(); return true; }
    return false;
  };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
    const all = rows();
    switch (e.key) {
      case "/": if (focus("#case-search")) e.preventDefault(); break;
      case "n": location.href = "/cases/new"; break;
      case "j": select(selected + 1); break;
      case "k": select(selected - 1); break;
      case "Enter": if (all[selected]) location.href = all[selected].dataset.href; break;
      case "t": { const b = document.querySelector("#take-case"); if (b) b.click(); break; }
      case "r": if (focus("#reply-text")) e.preventDefault(); break;
      case "i": if (focus("#note-text")) e.preventDefault(); break;
      default: return;
    }
  });
  // A row is a link to its case.
  document.addEventListener("click", (e) => {
    const row = e.target.closest("#case-rows tr[data-href]");
    if (row && !e.target.closest("a, button, form")) location.href = row.dataset.href;
  });
})();

// The case page: the customer's typing on the status page is shown for
// 6 s after each signal; the operator's typing of a reply is told to the
// customer's page at most every 3 s.
(() => {
  const line = document.getElementById("typing");
  if (!line || !window.fetch) return;
  const caseId = line.dataset.caseId;
  let hide = 0;
  document.addEventListener("live-signal", (e) => {
    const { name, data } = e.detail;
    if (name !== "case.typing" || data.id !== caseId || data.who !== "customer") return;
    line.hidden = false;
    clearTimeout(hide);
    hide = setTimeout(() => { line.hidden = true; }, 6000);
  });
  let told = 0;
  document.addEventListener("input", (e) => {
    if (e.target.id !== "reply-text" || Date.now() - told < 3000) return;
    const form = e.target.form;
    if (!form || form.elements.namedItem("kind")?.value !== "reply") return;
    told = Date.now();
    const body = new URLSearchParams({ csrf: form.elements.namedItem("csrf").value });
    fetch(line.dataset.typingUrl, { method: "POST", body }).catch(() => {});
  });
})();
