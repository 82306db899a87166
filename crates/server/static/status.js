"use strict";
// The customer's status page: a chat message is sent without leaving the
// page. The answer to the send is the page itself (the server redirects
// back to it): its conversation and form replace the ones shown, so the
// message appears at once and the form carries a fresh message id (the
// same message sent twice is taken once). Other people's messages arrive
// through the event stream (live.js).
(() => {
  if (!window.fetch) return;
  // Typing: told at most every 3 s while the customer types; the
  // operator's shown for 6 s after each signal.
  let told = 0;
  document.addEventListener("input", (e) => {
    if (e.target.id !== "chat-text" || Date.now() - told < 3000) return;
    told = Date.now();
    const form = e.target.form;
    fetch(form.action.replace(/\/messages$/, "/typing"), { method: "POST" }).catch(() => {});
  });
  let hide = 0;
  document.addEventListener("live-signal", (e) => {
    const { name, data } = e.detail;
    const line = document.getElementById("typing");
    if (name !== "case.typing" || data.who !== "operator" || !line) return;
    line.hidden = false;
    clearTimeout(hide);
    hide = setTimeout(() => { line.hidden = true; }, 6000);
  });
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
  // Photos: only with this script (the file's bytes are posted as they
  // are); the server checks what they are and how large.
  const redraw = async () => {
    const r = await fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-store" });
    if (!r.ok) return;
    const fresh = new DOMParser().parseFromString(await r.text(), "text/html");
    for (const selector of ["#messages", "#after", "#stage"]) {
      const now = document.querySelector(selector);
      const next = fresh.querySelector(selector);
      if (now && next) now.replaceWith(next);
    }
    showPhotoButton();
  };
  const showPhotoButton = () => {
    const button = document.querySelector(".photo-button");
    if (button) button.hidden = false;
  };
  showPhotoButton();
  document.addEventListener("change", async (e) => {
    const input = e.target;
    if (input.id !== "chat-photo" || !input.files || !input.files[0]) return;
    const form = input.form;
    const r = await fetch(input.dataset.url, {
      method: "POST",
      body: input.files[0],
      headers: {
        "content-type": input.files[0].type || "application/octet-stream",
        "x-message-id": form.elements.namedItem("message_id").value,
      },
    });
    input.value = "";
    if (r.ok) {
      await redraw();
    } else {
      const alert = document.createElement("p");
      alert.className = "alert error";
      alert.setAttribute("role", "alert");
      alert.textContent = await r.text();
      form.before(alert);
    }
  });
})();
