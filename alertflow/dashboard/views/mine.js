// My areas: the search combobox (WAI-ARIA combobox with a listbox popup), the chosen areas as
// chips, and the "all areas / only my areas" mode.

import { search, normalize } from "../catalog.js";
import { $, h, icon } from "../dom.js";
import { hasMine } from "../protocol.js";
import { announce } from "../reactions.js";
import { areaName, state, t, zoneName } from "../state.js";
import { stopHere } from "./here.js";

let prefsChanged = () => {};
let searchInput;
let resultsList;
let results = [];
let activeResult = -1;

export function renderResults() {
  const q = searchInput.value.trim();
  results = search(q);
  activeResult = results.length ? 0 : -1;
  resultsList.replaceChildren();
  if (!q) {
    closeResults();
    return;
  }
  if (!results.length) {
    const li = h("li", "result-empty", t("my.no_results", { q }));
    li.setAttribute("role", "option");
    li.setAttribute("aria-disabled", "true");
    resultsList.append(li);
  }
  results.forEach((res, i) => {
    const { entry } = res;
    const li = h("li", `result result-${entry.type}`);
    li.id = `result-${i}`;
    li.setAttribute("role", "option");
    const chosen = entry.type === "zone" ? state.prefs.zones.includes(entry.id) : state.prefs.locations.includes(entry.id);
    li.setAttribute("aria-selected", "false");
    if (chosen) li.classList.add("is-chosen");
    const iconBox = h("span", "result-icon");
    iconBox.append(icon(entry.type === "zone" ? "zone" : "pin"));
    const text = h("span", "result-text");
    const primary = entry.names[state.lang] || entry.names.he || entry.id;
    text.append(h("span", "result-name", primary));
    // Show the name that matched when it is in another language than the page's.
    const matchedName = entry.labels[res.matched];
    const details = [];
    if (matchedName && normalize(matchedName) !== normalize(primary)) details.push(matchedName);
    if (entry.type === "zone") {
      details.push(`${t("my.zone")} · ${t("my.zone_areas", { n: state.zones.get(entry.id)?.areas.length ?? 0 })}`);
    } else {
      const area = state.catalog.get(entry.id);
      details.push(zoneName(area.zoneId, area.zone));
    }
    if (chosen) details.push(t("my.already"));
    text.append(h("span", "result-detail", details.join(" · ")));
    li.append(iconBox, text);
    li.addEventListener("mousedown", (e) => e.preventDefault()); // keep focus in the input
    li.addEventListener("click", () => chooseResult(i));
    resultsList.append(li);
  });
  resultsList.hidden = false;
  searchInput.setAttribute("aria-expanded", "true");
  highlightResult();
}

function highlightResult() {
  [...resultsList.querySelectorAll(".result")].forEach((li, i) => {
    const on = i === activeResult;
    li.classList.toggle("is-active", on);
    li.setAttribute("aria-selected", on ? "true" : "false");
    if (on) li.scrollIntoView({ block: "nearest" });
  });
  if (activeResult >= 0) searchInput.setAttribute("aria-activedescendant", `result-${activeResult}`);
  else searchInput.removeAttribute("aria-activedescendant");
}

function closeResults() {
  resultsList.hidden = true;
  searchInput.setAttribute("aria-expanded", "false");
  searchInput.removeAttribute("aria-activedescendant");
}

export function resultsOpen() {
  return !resultsList.hidden;
}

function chooseResult(i) {
  const res = results[i];
  if (!res) return;
  const { entry } = res;
  const list = entry.type === "zone" ? state.prefs.zones : state.prefs.locations;
  const name = entry.names[state.lang] || entry.names.he || entry.id;
  if (!list.includes(entry.id)) {
    list.push(entry.id);
    announce(t("my.added", { name }), false);
    prefsChanged();
  }
  searchInput.value = "";
  closeResults();
}

export function toggleLocation(id) {
  const list = state.prefs.locations;
  const at = list.indexOf(id);
  const name = areaName(id);
  if (at >= 0) {
    list.splice(at, 1);
    announce(t("my.removed", { name }), false);
  } else {
    list.push(id);
    announce(t("my.added", { name }), false);
  }
  prefsChanged();
}

export function renderMine() {
  document.body.classList.toggle("has-mine", hasMine(state.prefs));
  $("#mode-all").checked = state.prefs.mode === "all";
  $("#mode-mine").checked = state.prefs.mode === "mine";
  const status = $("#my-status");
  let text;
  let warn = false;
  if (state.subError) {
    text = t("my.error", { msg: state.subError });
    warn = true;
  } else if (!hasMine(state.prefs)) {
    text = state.prefs.mode === "mine" ? t("my.empty_mine") : t("my.empty");
    warn = state.prefs.mode === "mine";
  } else text = state.prefs.mode === "mine" ? t("my.subscribed_mine") : t("my.subscribed_all");
  status.textContent = text;
  status.classList.toggle("is-warning", warn);

  const list = $("#my-areas-list");
  list.replaceChildren();
  const chip = (kind, id, label, detail) => {
    const li = h("li", `chip chip-${kind}`);
    li.dataset[kind === "zone" ? "zone" : "location"] = id;
    if (kind === "here") li.dataset.here = "true";
    const iconBox = h("span", "chip-icon");
    iconBox.append(icon(kind === "zone" ? "zone" : kind === "here" ? "here" : "pin"));
    const text = h("span", "chip-text");
    text.append(h("span", "chip-name", label));
    if (detail) text.append(h("span", "chip-detail", detail));
    const remove = h("button", "chip-remove");
    remove.type = "button";
    remove.append(icon("remove"));
    // A located area goes by stopping "where I am" (it would come back at the next position).
    const removeLabel = kind === "here" ? t("here.stop") : t("my.remove", { name: label });
    remove.setAttribute("aria-label", removeLabel);
    remove.title = removeLabel;
    remove.addEventListener("click", () => {
      if (kind === "here") {
        stopHere();
        searchInput.focus();
        return;
      }
      const from = kind === "zone" ? state.prefs.zones : state.prefs.locations;
      from.splice(from.indexOf(id), 1);
      announce(t("my.removed", { name: label }), false);
      prefsChanged();
      searchInput.focus();
    });
    li.append(iconBox, text, remove);
    list.append(li);
  };
  for (const zone of state.prefs.zones) {
    const z = state.zones.get(zone);
    chip("zone", zone, zoneName(zone, z?.names), z ? `${t("my.zone")} · ${t("my.zone_areas", { n: z.areas.length })}` : t("my.zone"));
  }
  for (const id of state.prefs.locations) {
    const area = state.catalog.get(id);
    chip("location", id, areaName(id), area ? zoneName(area.zoneId, area.zone) : "");
  }
  for (const id of state.prefs.here.areas) {
    if (state.prefs.locations.includes(id)) continue; // picked by hand too: it stays anyway
    const area = state.catalog.get(id);
    chip("here", id, areaName(id), [t("here.chip"), area ? zoneName(area.zoneId, area.zone) : ""].filter(Boolean).join(" · "));
  }
}

export function initMine(onPrefsChanged) {
  prefsChanged = onPrefsChanged;
  searchInput = $("#area-search");
  resultsList = $("#area-results");
  searchInput.addEventListener("input", renderResults);
  searchInput.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (resultsList.hidden) renderResults();
      if (!results.length) return;
      const step = e.key === "ArrowDown" ? 1 : -1;
      activeResult = (activeResult + step + results.length) % results.length;
      highlightResult();
      e.preventDefault();
    } else if (e.key === "Enter") {
      if (activeResult >= 0) {
        chooseResult(activeResult);
        e.preventDefault();
      }
    } else if (e.key === "Escape") {
      if (!resultsList.hidden) {
        closeResults();
        e.preventDefault();
      } else searchInput.value = "";
    }
  });
  searchInput.addEventListener("blur", () => setTimeout(closeResults, 150));
  searchInput.addEventListener("focus", () => {
    if (searchInput.value.trim()) renderResults();
  });
  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener("change", () => {
      state.prefs.mode = radio.value === "mine" ? "mine" : "all";
      prefsChanged();
    });
  }
}
