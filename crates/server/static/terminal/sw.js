// Doorstep terminal service worker: keeps the app's few files so that the
// terminal opens with no network at all. The API is never cached: answers
// live in IndexedDB and the page sends them itself.
const CACHE = "doorstep-terminal-__VERSION__";
const SHELL = ["./", "show-if.js", "app.js", "terminal.css", "texts.json", "manifest.webmanifest", "icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("doorstep-terminal-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/terminal/")) return;
  // The app's files: from the cache (this version's), else the network.
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(event.request, { ignoreSearch: true }).then((hit) => hit || fetch(event.request))
    )
  );
});
