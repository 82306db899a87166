"use strict";
// The live queue: an incident raised anywhere (on any server) chimes,
// counts in the tab's title until the tab is looked at, and the queue is
// redrawn in place; claims, attempts and closes redraw it too.
(() => {
  if (!window.EventSource) return;
  const live = document.getElementById("live");
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
    for (const selector of ["#queue-rows", "#queue-count", "#closed"]) {
      const now = document.querySelector(selector);
      const next = fresh.querySelector(selector);
      if (now && next) now.replaceWith(next);
    }
    const empty = document.querySelector(".empty-queue");
    if (empty) empty.hidden = document.querySelectorAll("#queue-rows tr").length > 0;
    live.classList.add("pulse");
    setTimeout(() => live.classList.remove("pulse"), 1200);
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 200); };
  const source = new EventSource("/dispatch/events");
  source.addEventListener("incident.created", () => {
    chime();
    if (document.hidden) { unseen += 1; badge(); }
    later();
  });
  for (const name of ["incident.claimed", "incident.updated", "incident.closed"]) {
    source.addEventListener(name, later);
  }
  source.onopen = () => live.classList.add("on");
  source.onerror = () => live.classList.remove("on");
  // "Call again at" times come due without an event: look again each minute.
  setInterval(refresh, 60000);
})();
