// Dispatch → Calls: the "waiting now" table asked for again every five
// seconds while the page is open and seen (no reload, no lost scroll).
(function () {
  "use strict";
  var box = document.getElementById("waiting");
  if (!box) return;
  var url = box.getAttribute("data-refresh");
  function refresh() {
    if (document.hidden) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) box.innerHTML = html; })
      .catch(function () {});
  }
  setInterval(refresh, 5000);
  document.addEventListener("visibilitychange", refresh);
})();
