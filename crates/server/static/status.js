"use strict";
// The customer's status page: a chat message is sent without leaving the
// page. The answer to the send is the page itself (the server redirects
// back to it): its conversation and form replace the ones shown, so the
// message appears at once and the form carries a fresh message id (the
// same message sent twice is taken once). Other people's messages arrive
// through the event stream (live.js).
(() => {
  if (!window.fetch) return;
  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "chat-form") return;
    e.preventDefault();
    const text = form.elements.namedItem("text");
    if (!text.value.trim()) { text.focus(); return; }
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const r = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "text/html" },
      });
      if (!r.ok) { form.submit(); return; }
      const fresh = new DOMParser().parseFromString(await r.text(), "text/html");
      for (const selector of ["#messages", "#after", "#stage", "[role=alert]"]) {
        const now = document.querySelector(selector);
        const next = fresh.querySelector(selector);
        if (now && next) now.replaceWith(next);
      }
      const list = document.getElementById("messages");
      if (list && list.lastElementChild) list.lastElementChild.scrollIntoView({ block: "nearest" });
      const again = document.getElementById("chat-text");
      if (again) again.focus();
    } catch (_) {
      // Offline or refused: send it the plain way (the server keeps it once).
      form.submit();
    } finally {
      button.disabled = false;
    }
  });
})();
