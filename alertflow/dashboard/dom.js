// DOM helpers shared by the views: element builders, the icon set, time formatting.

export const $ = (selector) => document.querySelector(selector);

export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const ICONS = {
  alert:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 2.5 L22.5 21 H1.5 Z" fill="currentColor"/><path class="ink-stroke" d="M12 9v5.5" stroke-width="2.4" stroke-linecap="round"/><circle class="ink-fill" cx="12" cy="17.6" r="1.4"/></svg>',
  early:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 1.5 L22.5 12 L12 22.5 L1.5 12 Z" fill="currentColor"/><path class="ink-stroke" d="M12 7v6" stroke-width="2.4" stroke-linecap="round"/><circle class="ink-fill" cx="12" cy="16.5" r="1.4"/></svg>',
  hazard:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><rect x="2.5" y="2.5" width="19" height="19" rx="3" fill="currentColor"/><path class="ink-stroke" d="M12 7v6" stroke-width="2.4" stroke-linecap="round"/><circle class="ink-fill" cx="12" cy="16.8" r="1.4"/></svg>',
  drill:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="9.5" fill="none" stroke="currentColor" stroke-width="2.2" stroke-dasharray="3 2.4"/><path d="M8 12h8" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>',
  info:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="10.5" fill="currentColor"/><path class="ink-stroke" d="M12 10.5v6.5" stroke-width="2.4" stroke-linecap="round"/><circle class="ink-fill" cx="12" cy="7.2" r="1.4"/></svg>',
  clear:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="10.5" fill="currentColor"/><path class="ink-stroke" d="M7 12.5l3.2 3.2L17 9" fill="none" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>',
  ended:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="9.5" fill="none" stroke="currentColor" stroke-width="2.2"/><path d="M7.5 12h9" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>',
  star:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 2.8l2.8 6 6.5.7-4.9 4.4 1.4 6.4L12 17l-5.8 3.3 1.4-6.4-4.9-4.4 6.5-.7z" fill="currentColor"/></svg>',
  remove:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>',
  zone:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 6l5-2 6 2 5-2v14l-5 2-6-2-5 2z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/></svg>',
  here:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="6.5" fill="none" stroke="currentColor" stroke-width="2"/><path d="M12 2v4M12 18v4M2 12h4M18 12h4" stroke="currentColor" stroke-width="2" stroke-linecap="round"/><circle cx="12" cy="12" r="2.2" fill="currentColor"/></svg>',
  pin:
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 22s7-6.2 7-12a7 7 0 0 0-14 0c0 5.8 7 12 7 12z" fill="none" stroke="currentColor" stroke-width="2"/><circle cx="12" cy="10" r="2.5" fill="currentColor"/></svg>',
};

const iconCache = {};

/** A fresh copy of an icon; parsed once, then cloned (a barrage draws hundreds). */
export function icon(name) {
  if (!iconCache[name]) {
    const tpl = document.createElement("template");
    tpl.innerHTML = ICONS[name] ?? ICONS.alert;
    iconCache[name] = tpl.content.firstElementChild;
  }
  return iconCache[name].cloneNode(true);
}

/** m:ss (or h:mm:ss). Countdowns round up so "0:00" only shows when the time is really up. */
export function formatDuration(ms, roundUp = false) {
  const total = Math.max(0, roundUp ? Math.ceil(ms / 1000) : Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const timeFormats = {};
const formattedTimes = new Map(); // a barrage shares a handful of timestamps: format each once

export function formatTime(ms, locale) {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  const key = `${locale}:${today}`;
  const memo = `${key}:${Math.floor(ms / 1000)}`;
  let text = formattedTimes.get(memo);
  if (text === undefined) {
    timeFormats[key] ??= new Intl.DateTimeFormat(locale, {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      ...(today ? {} : { day: "numeric", month: "short" }),
    });
    text = timeFormats[key].format(d);
    if (formattedTimes.size > 2000) formattedTimes.clear();
    formattedTimes.set(memo, text);
  }
  return text;
}
