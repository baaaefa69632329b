// What to do, per category of danger: ONE table, in the four languages, used by the banner, the
// rows, the notifications (and the push service worker). The identifiers are the taxonomy of
// alertflow/domain/categories.py; an event without a known `category` is `general`.
//
//   shelter  a protected-space countdown applies (the area's seconds to shelter)
//   look     how it is drawn: alert (red triangle), hazard (red square), early (amber),
//            info (blue), drill (neutral, dashed, labelled "Drill"), clear (green)
//   label    the category's name; action: the official kind of instruction

const T = (en, he, ru, ar) => ({ en, he, ru, ar });

const SHELTER_10_MIN = T(
  "Enter a protected space and stay there for 10 minutes.",
  "היכנסו למרחב המוגן ושהו בו 10 דקות.",
  "Войдите в защищённое помещение и оставайтесь там 10 минут.",
  "ادخلوا إلى الحيز المحمي وابقوا فيه 10 دقائق.",
);

export const GUIDANCE = {
  missiles: {
    shelter: true,
    look: "alert",
    label: T("Rocket and missile fire", "ירי רקטות וטילים", "Ракетный обстрел", "إطلاق صواريخ وقذائف"),
    action: SHELTER_10_MIN,
  },
  hostile_aircraft: {
    shelter: true,
    look: "alert",
    label: T("Hostile aircraft intrusion", "חדירת כלי טיס עוין", "Проникновение вражеского летательного аппарата", "تسلل طائرة معادية"),
    action: SHELTER_10_MIN,
  },
  infiltration: {
    shelter: true,
    look: "alert",
    label: T("Terrorist infiltration", "חדירת מחבלים", "Проникновение террористов", "تسلل مخربين"),
    action: T(
      "Go inside a building, lock the doors and windows, and keep away from them.",
      "היכנסו למבנה, נעלו את הדלתות והחלונות והתרחקו מהם.",
      "Зайдите в здание, заприте двери и окна и держитесь от них подальше.",
      "ادخلوا إلى مبنى، أقفلوا الأبواب والنوافذ وابتعدوا عنها.",
    ),
  },
  nonconventional: {
    shelter: false,
    look: "hazard",
    label: T("Non-conventional threat", "איום בלתי קונבנציונלי", "Неконвенциональная угроза", "تهديد غير تقليدي"),
    action: T(
      "Enter a protected space, close it, and follow the instructions in the media.",
      "היכנסו למרחב המוגן, סגרו אותו ופעלו לפי ההנחיות בכלי התקשורת.",
      "Войдите в защищённое помещение, закройте его и следуйте указаниям в СМИ.",
      "ادخلوا إلى الحيز المحمي، أغلقوه واتبعوا التعليمات في وسائل الإعلام.",
    ),
  },
  radiological: {
    shelter: false,
    look: "hazard",
    label: T("Radiological event", "אירוע רדיולוגי", "Радиологическое событие", "حدث إشعاعي"),
    action: T(
      "Go indoors, close the windows and doors, and follow the instructions in the media.",
      "היכנסו למבנה, סגרו חלונות ודלתות ופעלו לפי ההנחיות בכלי התקשורת.",
      "Зайдите в помещение, закройте окна и двери и следуйте указаниям в СМИ.",
      "ادخلوا إلى مبنى، أغلقوا النوافذ والأبواب واتبعوا التعليمات في وسائل الإعلام.",
    ),
  },
  hazmat: {
    shelter: false,
    look: "hazard",
    label: T("Hazardous materials", "חומרים מסוכנים", "Опасные вещества", "مواد خطرة"),
    action: T(
      "Go indoors, close the windows and doors, turn off the ventilation, and follow the authorities' instructions.",
      "היכנסו למבנה, סגרו חלונות ודלתות, כבו את האוורור ופעלו לפי הנחיות הרשויות.",
      "Зайдите в помещение, закройте окна и двери, выключите вентиляцию и следуйте указаниям властей.",
      "ادخلوا إلى مبنى، أغلقوا النوافذ والأبواب، أطفئوا التهوية واتبعوا تعليمات السلطات.",
    ),
  },
  tsunami: {
    shelter: false,
    look: "hazard",
    label: T("Tsunami", "צונאמי", "Цунами", "تسونامي"),
    action: T(
      "Leave the beach and the coast at once: move inland or to high ground.",
      "התרחקו מיד מהחוף ומהים: היכנסו לעומק היבשה או עלו לשטח גבוה.",
      "Немедленно покиньте пляж и побережье: уходите вглубь суши или на возвышенность.",
      "ابتعدوا فورًا عن الشاطئ والبحر: توجهوا إلى داخل اليابسة أو إلى مكان مرتفع.",
    ),
  },
  earthquake: {
    shelter: false,
    look: "hazard",
    label: T("Earthquake", "רעידת אדמה", "Землетрясение", "هزة أرضية"),
    action: T(
      "Leave the building for open ground. If you cannot, go to a protected space or a stairwell.",
      "צאו מהמבנה לשטח פתוח. אם אין אפשרות, היכנסו למרחב המוגן או לחדר המדרגות.",
      "Выйдите из здания на открытое место. Если это невозможно, перейдите в защищённое помещение или на лестничную клетку.",
      "اخرجوا من المبنى إلى منطقة مفتوحة. إن لم يكن ذلك ممكنًا، ادخلوا إلى الحيز المحمي أو إلى بيت الدرج.",
    ),
  },
  early_warning: {
    shelter: false,
    look: "early",
    label: T("Early warning", "התרעה מקדימה", "Раннее предупреждение", "إنذار مبكر"),
    action: T(
      "Alerts are expected soon: stay near a protected space.",
      "בדקות הקרובות צפויות התרעות: הישארו בקרבת מרחב מוגן.",
      "Вскоре ожидаются тревоги: оставайтесь рядом с защищённым помещением.",
      "من المتوقع صدور إنذارات قريبًا: ابقوا بالقرب من حيز محمي.",
    ),
  },
  general: {
    shelter: false,
    look: "info",
    label: T("Message from the authorities", "הודעה מהרשויות", "Сообщение властей", "رسالة من السلطات"),
    action: T(
      "Follow the authorities' instructions.",
      "פעלו לפי הנחיות הרשויות.",
      "Следуйте указаниям властей.",
      "اتبعوا تعليمات السلطات.",
    ),
  },
  drill: {
    shelter: false,
    look: "drill",
    label: T("Drill", "תרגיל", "Учения", "تمرين"),
    action: T(
      "This is a drill, not a real alert. Take part as the drill's organisers ask.",
      "זהו תרגיל ולא התרעה אמיתית. השתתפו בו לפי הנחיות המתרגלים.",
      "Это учения, а не настоящая тревога. Действуйте по указаниям организаторов.",
      "هذا تمرين وليس إنذارًا حقيقيًا. شاركوا فيه وفق تعليمات المنظمين.",
    ),
  },
  all_clear: {
    shelter: false,
    look: "clear",
    label: T("All clear", "האירוע הסתיים", "Отбой", "انتهى الحدث"),
    action: T(
      "The event has ended: you may leave the protected space.",
      "האירוע הסתיים: ניתן לצאת מהמרחב המוגן.",
      "Событие завершено: можно выйти из защищённого помещения.",
      "انتهى الحدث: يمكن الخروج من الحيز المحمي.",
    ),
  },
};

/** Most urgent first: the order the banner, the sounds and the operator's sort use. */
export const URGENCY = [
  "missiles", "hostile_aircraft", "infiltration", "nonconventional", "radiological", "hazmat",
  "tsunami", "earthquake", "early_warning", "general", "drill", "all_clear",
];

/** A category identifier as sent, or `general` for anything missing or unknown. */
export function categoryOf(value) {
  return typeof value === "string" && Object.hasOwn(GUIDANCE, value) ? value : "general";
}

export function urgency(category) {
  return URGENCY.indexOf(categoryOf(category));
}

/** The most urgent of several categories (`general` for none). */
export function mostUrgent(categories) {
  let best = null;
  for (const c of categories) if (best === null || urgency(c) < urgency(best)) best = categoryOf(c);
  return best ?? "general";
}

export function guidance(category) {
  return GUIDANCE[categoryOf(category)];
}

/** A category's name and instruction in a language (English when the language is unknown). */
export function guidanceText(category, lang) {
  const g = guidance(category);
  return { label: g.label[lang] ?? g.label.en, action: g.action[lang] ?? g.action.en };
}
