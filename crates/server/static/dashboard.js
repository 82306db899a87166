"use strict";
// Live: a new answer refreshes the figures in place (Server-Sent Events),
// a quarter of a second after the last one of a burst.
(() => {
  document.getElementById("print").addEventListener("click", () => window.print());
  if (!window.EventSource) return;
  const live = document.getElementById("live");
  const source = new EventSource("/dashboard/events");
  let timer = 0;
  const refresh = async () => {
    const r = await fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-store" });
    if (!r.ok) return;
    const fresh = new DOMParser().parseFromString(await r.text(), "text/html");
    for (const selector of [".tiles", ".trend .chart", "table.breakdown tbody"]) {
      const now = document.querySelector(selector);
      const next = fresh.querySelector(selector);
      if (now && next) now.replaceWith(next);
    }
    live.dataset.updated = new Date().toISOString();
    live.classList.add("pulse");
    setTimeout(() => live.classList.remove("pulse"), 1200);
  };
  source.addEventListener("response.created", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  source.onopen = () => live.classList.add("on");
  source.onerror = () => live.classList.remove("on");
})();
