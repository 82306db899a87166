"use strict";
// Puts an order's survey into the company's own page (seed 000):
//   <script src="https://doorstep.example/embed.js" data-token="TOKEN" async></script>
// where TOKEN is signed by the company's server for this customer's order
// (README, "Survey in the customer's account"). The survey opens in a
// frame right after the script's tag.
(() => {
  const script = document.currentScript;
  if (!script || !script.dataset.token) return;
  const frame = document.createElement("iframe");
  frame.src = new URL("/embed?token=" + encodeURIComponent(script.dataset.token), script.src).href;
  frame.title = script.dataset.title || "Survey";
  frame.loading = "lazy";
  frame.style.width = "100%";
  frame.style.maxWidth = "40rem";
  frame.style.height = script.dataset.height || "720px";
  frame.style.border = "0";
  script.after(frame);
})();
