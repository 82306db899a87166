"use strict";
// A page that follows the event stream: the element marked data-live names
// the stream, the events to follow, the regions to redraw in place and the
// events that chime and count in the tab's title while it is not looked at.
//   <span id="live" data-live="/dispatch/events"
//         data-live-events="incident.created incident.claimed"
//         data-live-regions="#queue-rows #queue-count"
//         data-live-chime="incident.created">
(() => {
  const live = document.querySelector("[data-live]");
  if (!live || !window.EventSource) return;
  const words = (name) => (live.dataset[name] || "").split(/\s+/).filter(Boolean);
  const regions = words("liveRegions");
  const chiming = words("liveChime");
  const title = document.title;
  let unseen = 0;
  let timer = 0;
  const chime = () => {
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.4);
    } catch (_) { /* no sound before the page was touched: the badge still counts */ }
  };
  const badge = () => {
    document.title = unseen > 0 ? `(${unseen}) ${title}` : title;
  };
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) { unseen = 0; badge(); }
  });
  const refresh = async () => {
    const r = await fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-store" });
    if (!r.ok) return;
    const fresh = new DOMParser().parseFromString(await r.text(), "text/html");
    // A form being filled in is never redrawn under the person's hands:
    // its region waits for the next event; the others are redrawn. A
    // field that has the focus but nothing typed is redrawn and keeps it.
    const active = document.activeElement;
    for (const selector of regions) {
      const now = document.querySelector(selector);
      const next = fresh.querySelector(selector);
      if (!now || !next) continue;
      const inside = active && now.contains(active);
      const typed = inside && active.closest("form") && (active.value || "").trim() !== "";
      if (typed) continue;
      const refocus = inside && active.id ? active.id : null;
      now.replaceWith(next);
      if (refocus) document.getElementById(refocus)?.focus();
    }
    for (const empty of document.querySelectorAll("[data-empty-of]")) {
      empty.hidden = document.querySelectorAll(`${empty.dataset.emptyOf} > *`).length > 0;
    }
    live.classList.add("pulse");
    setTimeout(() => live.classList.remove("pulse"), 1200);
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 200); };
  const source = new EventSource(live.dataset.live);
  for (const name of words("liveEvents")) {
    source.addEventListener(name, () => {
      if (chiming.includes(name)) {
        chime();
        if (document.hidden) { unseen += 1; badge(); }
      }
      later();
    });
  }
  // Signals (someone typing) redraw nothing: they are handed to the
  // page's own script as a "live-signal" event with their name and data.
  for (const name of words("liveSignals")) {
    source.addEventListener(name, (e) => {
      let data = {};
      try { data = JSON.parse(e.data); } catch (_) { /* a signal without data */ }
      document.dispatchEvent(new CustomEvent("live-signal", { detail: { name, data } }));
    });
  }
  source.onopen = () => live.classList.add("on");
  source.onerror = () => live.classList.remove("on");
  // Times that come due without an event ("call again at"): look each minute.
  setInterval(refresh, 60000);
})();
