// What a background notification says, from a push payload (alertflow/domain/push_messages.py):
// pure, so node --test checks it and the service worker (sw.js) shows exactly this.
//
// Payload: {v, lang, tag, sent_at, more, items: [{phase, incident_id, location, name, zone,
// category, type, shelter_seconds, started_at, ends_at}]}, phase "open" | "early_warning" |
// "all_clear". One notification per payload (a barrage over many of the user's areas is one),
// tagged per incident so the all-clear replaces the alarm.

import { guidance, guidanceText, mostUrgent } from "./guidance.js";
import { pushText } from "./push-text.js";

const RTL = new Set(["he", "ar"]);
const SHOWN_NAMES = 6;

function categoryOfItem(item) {
  if (item.phase === "all_clear") return "all_clear";
  if (item.phase === "early_warning") return "early_warning";
  return item.category ?? "general";
}

/** {title, options} for `registration.showNotification`, or null for an unusable payload. */
export function notificationFor(data) {
  const items = Array.isArray(data?.items) ? data.items.filter((i) => i && typeof i === "object") : [];
  if (!items.length) return null;
  const lang = ["he", "en", "ru", "ar"].includes(data.lang) ? data.lang : "en";
  const warnings = items.filter((i) => i.phase !== "all_clear");
  const category = warnings.length ? mostUrgent(warnings.map(categoryOfItem)) : "all_clear";
  const text = guidanceText(category, lang);
  const names = items.slice(0, SHOWN_NAMES).map((i) => i.name ?? i.location);
  const extra = items.length - names.length + (Number(data.more) || 0);
  const lines = [names.join(", ") + (extra > 0 ? ` ${pushText("more", lang, { n: extra })}` : "")];
  const shelters = warnings.map((i) => i.shelter_seconds).filter((s) => Number.isFinite(s));
  if (guidance(category).shelter && shelters.length) {
    lines.push(pushText("shelter", lang, { n: Math.min(...shelters) }));
  }
  lines.push(text.action);
  const first = warnings[0] ?? items[0];
  return {
    title: text.label,
    options: {
      body: lines.join("\n"),
      tag: typeof data.tag === "string" ? data.tag : `alertflow-${first.incident_id}`,
      renotify: true, // a replacement (the all-clear) must be noticed too
      requireInteraction: true,
      lang,
      dir: RTL.has(lang) ? "rtl" : "ltr",
      icon: "icon-192.png",
      badge: "icon-192.png",
      timestamp: Number(data.sent_at) || undefined,
      data: { url: `./?alert=${encodeURIComponent(first.incident_id)}&area=${encodeURIComponent(first.location)}#active-section` },
    },
  };
}
