// Every console page: the language switch takes effect as soon as a
// language is chosen, coming back to the same page (without scripts, its
// button does it).
"use strict";
(() => {
  const select = document.getElementById("lang-select");
  if (!select) return;
  select.addEventListener("change", () => {
    select.form.back.value = location.pathname + location.search;
    select.form.submit();
  });
})();
