// The header's controls: sound and notifications on/off, and the language.

import { $ } from "../dom.js";
import { LANGUAGES } from "../i18n.js";
import { sounds } from "../reactions.js";
import { KEYS, load, state, store, t } from "../state.js";

let soundButton;
let notifyButton;

export function renderSound() {
  const on = sounds.enabled;
  const label = on ? (sounds.blocked ? t("sound.blocked") : t("sound.on")) : t("sound.off");
  soundButton.setAttribute("aria-pressed", on ? "true" : "false");
  soundButton.classList.toggle("is-on", on);
  soundButton.querySelector(".btn-label").textContent = label;
  // Near the banner: whether this page will make a sound for my areas.
  const hint = $("#sound-state");
  hint.dataset.on = on && !sounds.blocked ? "true" : "false";
  hint.querySelector(".sound-state-text").textContent =
    on && !sounds.blocked ? t("sound.state_on") : t("sound.state_off");
  hint.querySelector(".sound-state-action").textContent = on && !sounds.blocked ? t("sound.turn_off") : t("sound.turn_on");
}

async function toggleSound() {
  if (sounds.enabled && !sounds.blocked) {
    sounds.disable();
    store(KEYS.sound, false);
  } else {
    await sounds.enable();
    store(KEYS.sound, true);
    sounds.play("clear"); // a calm confirmation that sound works
  }
  renderSound();
}

export function renderNotify() {
  if (!("Notification" in window)) return;
  notifyButton.hidden = false;
  const permission = Notification.permission;
  const on = permission === "granted" && load(KEYS.notify, true);
  notifyButton.disabled = permission === "denied";
  notifyButton.setAttribute("aria-pressed", on ? "true" : "false");
  notifyButton.classList.toggle("is-on", on);
  notifyButton.querySelector(".btn-label").textContent =
    permission === "denied" ? t("notify.denied") : on ? t("notify.on") : t("notify.enable");
}

export function initControls(onLanguage) {
  soundButton = $("#sound-toggle");
  notifyButton = $("#notify-toggle");
  soundButton.addEventListener("click", toggleSound);
  $("#sound-state .sound-state-action").addEventListener("click", toggleSound);
  if (load(KEYS.sound, false)) {
    // Remembered as on; browsers still need a gesture on this page before audio may start.
    sounds.enable().then(renderSound);
    const unlock = async () => {
      if (!sounds.enabled) return;
      await sounds.enable();
      renderSound();
      if (!sounds.blocked) {
        window.removeEventListener("pointerdown", unlock, true);
        window.removeEventListener("keydown", unlock, true);
      }
    };
    window.addEventListener("pointerdown", unlock, true);
    window.addEventListener("keydown", unlock, true);
  }
  notifyButton.addEventListener("click", async () => {
    if (Notification.permission === "granted") {
      store(KEYS.notify, !load(KEYS.notify, true));
    } else if (Notification.permission === "default") {
      const result = await Notification.requestPermission();
      if (result === "granted") store(KEYS.notify, true);
    }
    renderNotify();
  });

  const langSelect = $("#lang-select");
  for (const [code, info] of Object.entries(LANGUAGES)) {
    const option = new Option(info.name, code);
    option.lang = code;
    langSelect.append(option);
  }
  langSelect.addEventListener("change", () => {
    state.lang = langSelect.value in LANGUAGES ? langSelect.value : "en";
    store(KEYS.lang, state.lang);
    onLanguage();
  });
}

/** Every static string of the page in the current language, and the direction. */
export function translatePage() {
  const lang = state.lang;
  const root = document.documentElement;
  root.lang = lang;
  root.dir = LANGUAGES[lang].dir;
  const langSelect = $("#lang-select");
  langSelect.value = lang;
  langSelect.setAttribute("aria-label", t("lang.label"));
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of document.querySelectorAll("[data-i18n-aria-label]")) node.setAttribute("aria-label", t(node.dataset.i18nAriaLabel));
  for (const node of document.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
  if (state.catalog.size) $("#catalogue-size").textContent = t("footer.catalogue", { n: state.catalog.size });
}
