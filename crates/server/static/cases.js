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
