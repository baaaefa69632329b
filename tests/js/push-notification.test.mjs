// The text of background notifications (alertflow/dashboard/push-notification.js), as the
// service worker shows it. Run: node --experimental-detect-module --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { notificationFor } from "../../alertflow/dashboard/push-notification.js";

const item = (over) => ({
  phase: "open", incident_id: "41", location: "a1", name: "Sderot", zone: "Gaza Envelope",
  category: "missiles", type: "missiles", shelter_seconds: 15, ends_at: 0, ...over,
});

test("a barrage over several areas is one notification, most urgent shelter time first", () => {
  const shown = notificationFor({ lang: "en", tag: "alertflow-41", sent_at: 5, more: 0,
    items: [item(), item({ incident_id: "42", location: "a2", name: "Ashkelon", shelter_seconds: 30 })] });
  assert.equal(shown.title, "Rocket and missile fire");
  assert.equal(shown.options.body.split("\n")[0], "Sderot, Ashkelon");
  assert.equal(shown.options.body.split("\n")[1], "Shelter within 15 s.");
  assert.match(shown.options.body, /protected space/);
  assert.equal(shown.options.tag, "alertflow-41");
  assert.equal(shown.options.requireInteraction, true);
  assert.match(shown.options.data.url, /alert=41/);
});

test("in the user's language and direction, with the areas left out counted", () => {
  const items = Array.from({ length: 8 }, (_, i) => item({ incident_id: String(i), name: `שם${i}` }));
  const shown = notificationFor({ lang: "he", items, more: 2 });
  assert.equal(shown.title, "ירי רקטות וטילים");
  assert.equal(shown.options.dir, "rtl");
  assert.match(shown.options.body, /ועוד 4/);
  assert.match(shown.options.body, /תוך 15 שניות/);
});

test("an all-clear and an early warning say so; nothing usable shows nothing", () => {
  const clear = notificationFor({ lang: "en", items: [item({ phase: "all_clear" })] });
  assert.doesNotMatch(clear.options.body, /Shelter within/);
  const early = notificationFor({ lang: "ru", items: [item({ phase: "early_warning", category: "missiles" })] });
  assert.notEqual(early.title, notificationFor({ lang: "ru", items: [item()] }).title);
  assert.equal(notificationFor(null), null);
  assert.equal(notificationFor({ items: [] }), null);
});
