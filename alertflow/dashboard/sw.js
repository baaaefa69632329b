// The dashboard's service worker: the page's own files offline, and Web Push notifications
// when the page is closed (the push role sends them; alertflow/push/).
//
// Registered as a module (push.js) so it imports the same guidance table as the page.

import { notificationFor } from "./push-notification.js";

const CACHE = "alertflow-v1";
// The shell; the page also hands over every file it loaded (push.js), whatever the modules are.
const SHELL = ["./", "index.html", "style.css", "app.js", "manifest.webmanifest", "favicon.svg", "icon-192.png"];
// Live data is never served from the cache: an old alert shown as current would be worse than none.
const LIVE = /\/(v1|api|socket\.io|healthz|readyz|metrics)(\/|$)/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

function cacheable(url) {
  return url.origin === self.location.origin && !LIVE.test(url.pathname);
}

self.addEventListener("message", (event) => {
  if (event.data?.type !== "cache-files" || !Array.isArray(event.data.urls)) return;
  const urls = event.data.urls.map((u) => new URL(u, self.location.href)).filter(cacheable);
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(urls.map(String))).catch(() => {}));
});

// Network first (the newest page when online), the cache when offline.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !cacheable(url)) return;
  event.respondWith((async () => {
    try {
      const response = await fetch(event.request);
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(event.request, copy)).catch(() => {});
      }
      return response;
    } catch (err) {
      const cached = await caches.match(event.request, { ignoreSearch: event.request.mode === "navigate" });
      if (cached) return cached;
      throw err;
    }
  })());
});

self.addEventListener("push", (event) => {
  let data = null;
  try {
    data = event.data?.json();
  } catch {
    data = null;
  }
  const shown = notificationFor(data);
  if (!shown) return;
  event.waitUntil(self.registration.showNotification(shown.title, shown.options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url ?? "./", self.registration.scope);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      if (new URL(client.url).origin === target.origin && "focus" in client) {
        await client.focus();
        return client.navigate(target.href);
      }
    }
    return self.clients.openWindow(target.href);
  })());
});
