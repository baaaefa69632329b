// Interface strings in Hebrew, English, Russian and Arabic.
//
// A value is either a string with {placeholders} or, for counted phrases, an object keyed by the
// Intl.PluralRules category of the language (zero/one/two/few/many/other).

export const LANGUAGES = {
  he: { name: "עברית", dir: "rtl", locale: "he-IL" },
  en: { name: "English", dir: "ltr", locale: "en-GB" },
  ru: { name: "Русский", dir: "ltr", locale: "ru-RU" },
  // Latin digits: the rest of the page (countdowns, times) uses them too.
  ar: { name: "العربية", dir: "rtl", locale: "ar-u-nu-latn" },
};

export const DEFAULT_LANGUAGE = "en";

const en = {
  "app.title": "alertflow — live alerts",
  "app.tagline": "Live emergency alerts",
  "skip": "Skip to active alerts",
  "lang.label": "Language",

  "conn.connecting": "Connecting…",
  "conn.live": "Live",
  "conn.reconnecting": "Connection lost — reconnecting…",
  "conn.attempt": "attempt {n}",
  "conn.resumed_pending": "Reconnected — recovering missed events…",
  "conn.resumed": {
    one: "Live — resumed, {n} missed event recovered",
    other: "Live — resumed, {n} missed events recovered",
  },
  "conn.resumed_none": "Live — resumed, no events were missed",
  "conn.resynced": "Live — resynchronised with the server",
  "offline.notice":
    "Connection lost. The alerts shown may be out of date — follow official instructions and sirens.",

  "sound.off": "Sound off",
  "sound.on": "Sound on",
  "sound.blocked": "Sound on — tap to allow",
  "sound.hint": "Distinct sounds for alerts, early warnings and all-clears",
  "notify.enable": "Enable notifications",
  "notify.on": "Notifications on",
  "notify.denied": "Notifications blocked",

  "active.title": "Active alerts",
  "active.count": { one: "{n} area under alert", other: "{n} areas under alert" },
  "active.count_zones": { one: "in {n} zone", other: "in {n} zones" },
  "active.quiet": "All quiet",
  "active.quiet_all": "No active alerts anywhere right now.",
  "active.quiet_mine": "No active alerts in your areas right now.",

  "row.mine": "My area",
  "row.unknown": "Area not in the catalogue",
  "row.siren": "Siren {t} ago",
  "row.shelter": "Reach shelter",
  "row.shelter_now": "Now",
  "row.shelter_passed": "Stay sheltered",
  "row.window": "Ends in",
  "row.window_ending": "Ending…",
  "row.locate": "Show {name} on the map",

  "kind.alert": "Alert",
  "kind.early": "Early warning",
  "kind.ended": "Ended",
  "kind.clear": "All clear",

  "type.missiles": "Rocket and missile fire",
  "type.hostile_aircraft": "Hostile aircraft intrusion",
  "type.earthquake": "Earthquake",
  "type.tsunami": "Tsunami",
  "type.infiltration": "Terrorist infiltration",
  "type.radiological": "Radiological event",
  "type.hazmat": "Hazardous materials",
  "type.unconventional": "Non-conventional missile",
  "type.early_warning": "Early warning",
  "type.drill": "Drill",

  "map.title": "Map",
  "map.label": "Map of the alert areas",
  "map.zoom_in": "Zoom in",
  "map.zoom_out": "Zoom out",
  "map.reset": "Whole country",
  "map.show_alerts": "Show alerts",
  "map.loading": "Loading the area catalogue…",
  "map.error": "The area catalogue could not be loaded. Retrying…",
  "map.legend.alert": "Alert",
  "map.legend.early": "Early warning",
  "map.legend.clear": "All clear",
  "map.legend.none": "No alert",
  "map.legend.mine": "My area",
  "map.status_none": "No alert",
  "map.add": "Add to my areas",
  "map.remove": "Remove from my areas",
  "map.close": "Close",
  "map.hint": "Drag to move, scroll or pinch to zoom, tap an area for details.",

  "my.title": "My areas",
  "my.mode_legend": "Show alerts for",
  "my.mode_all": "All areas",
  "my.mode_mine": "Only my areas",
  "my.search_label": "Add an area or a whole zone",
  "my.search_placeholder": "Search in any language…",
  "my.no_results": "No area or zone matches “{q}”",
  "my.zone": "Zone",
  "my.zone_areas": { one: "{n} area", other: "{n} areas" },
  "my.already": "Already in your areas",
  "my.empty":
    "You have not chosen any areas yet. Alerts for your areas get a banner, a sound and a notification.",
  "my.empty_mine": "Choose at least one area — until then alerts for all areas are shown.",
  "my.remove": "Remove {name}",
  "my.added": "Added {name}",
  "my.removed": "Removed {name}",
  "my.error": "The server refused this subscription: {msg}",
  "my.subscribed_all": "Receiving alerts for all areas.",
  "my.subscribed_mine": "Receiving alerts only for the areas and zones you chose.",

  "history.title": "History",
  "history.empty": "No events yet.",
  "history.error": "History could not be loaded.",

  "banner.alert": "Alert in your area",
  "banner.early": "Early warning for your area",
  "banner.clear": "All clear in your area",
  "banner.shelter": "Reach shelter within",
  "banner.shelter_passed": "Stay in the shelter until told otherwise",
  "banner.dismiss": "Dismiss",
  "banner.more": "+{n} more",

  "announce.alert": "Alert: {names}. {type}.",
  "announce.alert_mine": "Alert in your area: {names}. {type}. Go to the shelter.",
  "announce.early": "Early warning: {names}.",
  "announce.early_mine": "Early warning for your area: {names}.",
  "announce.clear": "All clear: {names}.",
  "announce.ended": "Alert ended: {names}.",
  "announce.more": "and {n} more",

  "footer.note": "This page complements sirens and official instructions; it does not replace them.",
  "footer.catalogue": { one: "{n} alert area", other: "{n} alert areas" },
};

const he = {
  "app.title": "alertflow — התרעות בזמן אמת",
  "app.tagline": "התרעות חירום בזמן אמת",
  "skip": "דילוג להתרעות הפעילות",
  "lang.label": "שפה",

  "conn.connecting": "מתחבר…",
  "conn.live": "מחובר — בזמן אמת",
  "conn.reconnecting": "החיבור נותק — מתחבר מחדש…",
  "conn.attempt": "ניסיון {n}",
  "conn.resumed_pending": "החיבור חודש — משחזר אירועים שהוחמצו…",
  "conn.resumed": {
    one: "מחובר — החיבור חודש, שוחזר אירוע אחד שהוחמץ",
    two: "מחובר — החיבור חודש, שוחזרו שני אירועים שהוחמצו",
    many: "מחובר — החיבור חודש, שוחזרו {n} אירועים שהוחמצו",
    other: "מחובר — החיבור חודש, שוחזרו {n} אירועים שהוחמצו",
  },
  "conn.resumed_none": "מחובר — החיבור חודש, לא הוחמצו אירועים",
  "conn.resynced": "מחובר — בוצע סנכרון מחדש מול השרת",
  "offline.notice":
    "החיבור נותק. ייתכן שההתרעות המוצגות אינן עדכניות — פעלו לפי הנחיות פיקוד העורף והצופרים.",

  "sound.off": "צליל כבוי",
  "sound.on": "צליל פעיל",
  "sound.blocked": "צליל פעיל — הקישו כדי לאפשר",
  "sound.hint": "צלילים שונים להתרעה, להתרעה מוקדמת ולסיום אירוע",
  "notify.enable": "הפעלת התראות",
  "notify.on": "התראות פעילות",
  "notify.denied": "ההתראות חסומות",

  "active.title": "התרעות פעילות",
  "active.count": {
    one: "אזור אחד תחת התרעה",
    two: "{n} אזורים תחת התרעה",
    many: "{n} אזורים תחת התרעה",
    other: "{n} אזורים תחת התרעה",
  },
  "active.count_zones": { one: "במרחב אחד", two: "ב־{n} מרחבים", many: "ב־{n} מרחבים", other: "ב־{n} מרחבים" },
  "active.quiet": "שקט",
  "active.quiet_all": "אין כרגע התרעות פעילות.",
  "active.quiet_mine": "אין כרגע התרעות פעילות באזורים שלך.",

  "row.mine": "האזור שלי",
  "row.unknown": "אזור שאינו בקטלוג",
  "row.siren": "צופר לפני {t}",
  "row.shelter": "הגעה למרחב מוגן",
  "row.shelter_now": "מיד",
  "row.shelter_passed": "הישארו במרחב המוגן",
  "row.window": "מסתיים בעוד",
  "row.window_ending": "מסתיים…",
  "row.locate": "הצגת {name} במפה",

  "kind.alert": "התרעה",
  "kind.early": "התרעה מוקדמת",
  "kind.ended": "הסתיים",
  "kind.clear": "ניתן לצאת",

  "type.missiles": "ירי רקטות וטילים",
  "type.hostile_aircraft": "חדירת כלי טיס עוין",
  "type.earthquake": "רעידת אדמה",
  "type.tsunami": "צונאמי",
  "type.infiltration": "חדירת מחבלים",
  "type.radiological": "אירוע רדיולוגי",
  "type.hazmat": "אירוע חומרים מסוכנים",
  "type.unconventional": "טילים לא קונבנציונליים",
  "type.early_warning": "התרעה מוקדמת",
  "type.drill": "תרגיל",

  "map.title": "מפה",
  "map.label": "מפת אזורי ההתרעה",
  "map.zoom_in": "הגדלה",
  "map.zoom_out": "הקטנה",
  "map.reset": "כל הארץ",
  "map.show_alerts": "הצגת ההתרעות",
  "map.loading": "טוען את קטלוג האזורים…",
  "map.error": "לא ניתן לטעון את קטלוג האזורים. מנסה שוב…",
  "map.legend.alert": "התרעה",
  "map.legend.early": "התרעה מוקדמת",
  "map.legend.clear": "ניתן לצאת",
  "map.legend.none": "אין התרעה",
  "map.legend.mine": "האזור שלי",
  "map.status_none": "אין התרעה",
  "map.add": "הוספה לאזורים שלי",
  "map.remove": "הסרה מהאזורים שלי",
  "map.close": "סגירה",
  "map.hint": "גררו להזזה, גללו או צבטו להגדלה, הקישו על אזור לפרטים.",

  "my.title": "האזורים שלי",
  "my.mode_legend": "הצגת התרעות עבור",
  "my.mode_all": "כל האזורים",
  "my.mode_mine": "רק האזורים שלי",
  "my.search_label": "הוספת אזור או מרחב שלם",
  "my.search_placeholder": "חיפוש בכל שפה…",
  "my.no_results": "לא נמצא אזור או מרחב התואם ל„{q}”",
  "my.zone": "מרחב",
  "my.zone_areas": { one: "אזור אחד", two: "{n} אזורים", many: "{n} אזורים", other: "{n} אזורים" },
  "my.already": "כבר באזורים שלך",
  "my.empty": "עדיין לא בחרת אזורים. התרעות באזורים שלך יוצגו בבאנר, עם צליל והתראה.",
  "my.empty_mine": "בחרו לפחות אזור אחד — עד אז מוצגות התרעות בכל האזורים.",
  "my.remove": "הסרת {name}",
  "my.added": "{name} נוסף",
  "my.removed": "{name} הוסר",
  "my.error": "השרת דחה את המינוי: {msg}",
  "my.subscribed_all": "מתקבלות התרעות לכל האזורים.",
  "my.subscribed_mine": "מתקבלות התרעות רק לאזורים ולמרחבים שבחרת.",

  "history.title": "היסטוריה",
  "history.empty": "אין עדיין אירועים.",
  "history.error": "לא ניתן לטעון את ההיסטוריה.",

  "banner.alert": "התרעה באזור שלך",
  "banner.early": "התרעה מוקדמת לאזור שלך",
  "banner.clear": "ניתן לצאת מהמרחב המוגן באזור שלך",
  "banner.shelter": "הגיעו למרחב מוגן תוך",
  "banner.shelter_passed": "הישארו במרחב המוגן עד להודעה חדשה",
  "banner.dismiss": "סגירה",
  "banner.more": "ועוד {n}",

  "announce.alert": "התרעה: {names}. {type}.",
  "announce.alert_mine": "התרעה באזור שלך: {names}. {type}. היכנסו למרחב המוגן.",
  "announce.early": "התרעה מוקדמת: {names}.",
  "announce.early_mine": "התרעה מוקדמת לאזור שלך: {names}.",
  "announce.clear": "ניתן לצאת מהמרחב המוגן: {names}.",
  "announce.ended": "ההתרעה הסתיימה: {names}.",
  "announce.more": "ועוד {n}",

  "footer.note": "דף זה משלים את הצופרים ואת הנחיות פיקוד העורף ואינו מחליף אותם.",
  "footer.catalogue": { one: "אזור התרעה אחד", two: "{n} אזורי התרעה", many: "{n} אזורי התרעה", other: "{n} אזורי התרעה" },
};

const ru = {
  "app.title": "alertflow — тревоги в реальном времени",
  "app.tagline": "Экстренные оповещения в реальном времени",
  "skip": "Перейти к активным тревогам",
  "lang.label": "Язык",

  "conn.connecting": "Подключение…",
  "conn.live": "На связи",
  "conn.reconnecting": "Связь потеряна — переподключение…",
  "conn.attempt": "попытка {n}",
  "conn.resumed_pending": "Связь восстановлена — загрузка пропущенных событий…",
  "conn.resumed": {
    one: "На связи — связь восстановлена, получено {n} пропущенное событие",
    few: "На связи — связь восстановлена, получено {n} пропущенных события",
    many: "На связи — связь восстановлена, получено {n} пропущенных событий",
    other: "На связи — связь восстановлена, получено {n} пропущенного события",
  },
  "conn.resumed_none": "На связи — связь восстановлена, пропущенных событий нет",
  "conn.resynced": "На связи — данные заново синхронизированы с сервером",
  "offline.notice":
    "Связь потеряна. Показанные тревоги могут быть устаревшими — следуйте указаниям Командования тыла и сиренам.",

  "sound.off": "Звук выкл.",
  "sound.on": "Звук вкл.",
  "sound.blocked": "Звук вкл. — нажмите, чтобы разрешить",
  "sound.hint": "Разные звуки для тревоги, раннего предупреждения и отбоя",
  "notify.enable": "Включить уведомления",
  "notify.on": "Уведомления включены",
  "notify.denied": "Уведомления заблокированы",

  "active.title": "Активные тревоги",
  "active.count": {
    one: "{n} район под тревогой",
    few: "{n} района под тревогой",
    many: "{n} районов под тревогой",
    other: "{n} района под тревогой",
  },
  "active.count_zones": { one: "в {n} зоне", few: "в {n} зонах", many: "в {n} зонах", other: "в {n} зоны" },
  "active.quiet": "Всё спокойно",
  "active.quiet_all": "Сейчас активных тревог нет.",
  "active.quiet_mine": "Сейчас в ваших районах активных тревог нет.",

  "row.mine": "Мой район",
  "row.unknown": "Района нет в каталоге",
  "row.siren": "Сирена {t} назад",
  "row.shelter": "До укрытия",
  "row.shelter_now": "Немедленно",
  "row.shelter_passed": "Оставайтесь в укрытии",
  "row.window": "Окончание через",
  "row.window_ending": "Завершается…",
  "row.locate": "Показать {name} на карте",

  "kind.alert": "Тревога",
  "kind.early": "Раннее предупреждение",
  "kind.ended": "Завершено",
  "kind.clear": "Отбой",

  "type.missiles": "Ракетный обстрел",
  "type.hostile_aircraft": "Проникновение вражеского летательного аппарата",
  "type.earthquake": "Землетрясение",
  "type.tsunami": "Цунами",
  "type.infiltration": "Проникновение террористов",
  "type.radiological": "Радиационная угроза",
  "type.hazmat": "Опасные вещества",
  "type.unconventional": "Неконвенциональное оружие",
  "type.early_warning": "Раннее предупреждение",
  "type.drill": "Учения",

  "map.title": "Карта",
  "map.label": "Карта районов оповещения",
  "map.zoom_in": "Приблизить",
  "map.zoom_out": "Отдалить",
  "map.reset": "Вся страна",
  "map.show_alerts": "Показать тревоги",
  "map.loading": "Загрузка каталога районов…",
  "map.error": "Не удалось загрузить каталог районов. Повторная попытка…",
  "map.legend.alert": "Тревога",
  "map.legend.early": "Раннее предупреждение",
  "map.legend.clear": "Отбой",
  "map.legend.none": "Нет тревоги",
  "map.legend.mine": "Мой район",
  "map.status_none": "Нет тревоги",
  "map.add": "Добавить в мои районы",
  "map.remove": "Убрать из моих районов",
  "map.close": "Закрыть",
  "map.hint": "Перетаскивайте карту, масштаб — колесом или щипком, нажмите на район для подробностей.",

  "my.title": "Мои районы",
  "my.mode_legend": "Показывать тревоги для",
  "my.mode_all": "всех районов",
  "my.mode_mine": "только моих районов",
  "my.search_label": "Добавить район или целую зону",
  "my.search_placeholder": "Поиск на любом языке…",
  "my.no_results": "Нет района или зоны по запросу «{q}»",
  "my.zone": "Зона",
  "my.zone_areas": { one: "{n} район", few: "{n} района", many: "{n} районов", other: "{n} района" },
  "my.already": "Уже в ваших районах",
  "my.empty":
    "Вы ещё не выбрали районы. Тревоги в ваших районах выделяются баннером, звуком и уведомлением.",
  "my.empty_mine": "Выберите хотя бы один район — до тех пор показываются тревоги во всех районах.",
  "my.remove": "Убрать {name}",
  "my.added": "Добавлено: {name}",
  "my.removed": "Убрано: {name}",
  "my.error": "Сервер отклонил подписку: {msg}",
  "my.subscribed_all": "Вы получаете тревоги для всех районов.",
  "my.subscribed_mine": "Вы получаете тревоги только для выбранных районов и зон.",

  "history.title": "История",
  "history.empty": "Событий пока нет.",
  "history.error": "Не удалось загрузить историю.",

  "banner.alert": "Тревога в вашем районе",
  "banner.early": "Раннее предупреждение для вашего района",
  "banner.clear": "Отбой в вашем районе",
  "banner.shelter": "Войдите в укрытие в течение",
  "banner.shelter_passed": "Оставайтесь в укрытии до новых указаний",
  "banner.dismiss": "Закрыть",
  "banner.more": "и ещё {n}",

  "announce.alert": "Тревога: {names}. {type}.",
  "announce.alert_mine": "Тревога в вашем районе: {names}. {type}. Войдите в укрытие.",
  "announce.early": "Раннее предупреждение: {names}.",
  "announce.early_mine": "Раннее предупреждение для вашего района: {names}.",
  "announce.clear": "Отбой: {names}.",
  "announce.ended": "Тревога завершена: {names}.",
  "announce.more": "и ещё {n}",

  "footer.note": "Эта страница дополняет сирены и указания Командования тыла, но не заменяет их.",
  "footer.catalogue": {
    one: "{n} район оповещения",
    few: "{n} района оповещения",
    many: "{n} районов оповещения",
    other: "{n} района оповещения",
  },
};

const ar = {
  "app.title": "alertflow — إنذارات مباشرة",
  "app.tagline": "إنذارات الطوارئ لحظة بلحظة",
  "skip": "انتقل إلى الإنذارات النشطة",
  "lang.label": "اللغة",

  "conn.connecting": "جارٍ الاتصال…",
  "conn.live": "متصل — مباشر",
  "conn.reconnecting": "انقطع الاتصال — جارٍ إعادة الاتصال…",
  "conn.attempt": "المحاولة {n}",
  "conn.resumed_pending": "أُعيد الاتصال — جارٍ استرجاع الأحداث الفائتة…",
  "conn.resumed": {
    zero: "متصل — استؤنف الاتصال، لم تفت أي أحداث",
    one: "متصل — استؤنف الاتصال، استُرجع حدث فائت واحد",
    two: "متصل — استؤنف الاتصال، استُرجع حدثان فائتان",
    few: "متصل — استؤنف الاتصال، استُرجعت {n} أحداث فائتة",
    many: "متصل — استؤنف الاتصال، استُرجع {n} حدثًا فائتًا",
    other: "متصل — استؤنف الاتصال، استُرجع {n} حدث فائت",
  },
  "conn.resumed_none": "متصل — استؤنف الاتصال، لم تفت أي أحداث",
  "conn.resynced": "متصل — أُعيدت المزامنة مع الخادم",
  "offline.notice":
    "انقطع الاتصال. قد تكون الإنذارات المعروضة غير محدّثة — اتبعوا تعليمات الجبهة الداخلية وصفارات الإنذار.",

  "sound.off": "الصوت مغلق",
  "sound.on": "الصوت مفعّل",
  "sound.blocked": "الصوت مفعّل — انقر للسماح",
  "sound.hint": "أصوات مختلفة للإنذار والإنذار المبكر وزوال الخطر",
  "notify.enable": "تفعيل الإشعارات",
  "notify.on": "الإشعارات مفعّلة",
  "notify.denied": "الإشعارات محظورة",

  "active.title": "الإنذارات النشطة",
  "active.count": {
    zero: "لا توجد مناطق تحت الإنذار",
    one: "منطقة واحدة تحت الإنذار",
    two: "منطقتان تحت الإنذار",
    few: "{n} مناطق تحت الإنذار",
    many: "{n} منطقة تحت الإنذار",
    other: "{n} منطقة تحت الإنذار",
  },
  "active.count_zones": {
    zero: "",
    one: "في قطاع واحد",
    two: "في قطاعين",
    few: "في {n} قطاعات",
    many: "في {n} قطاعًا",
    other: "في {n} قطاع",
  },
  "active.quiet": "هدوء",
  "active.quiet_all": "لا توجد إنذارات نشطة حاليًا.",
  "active.quiet_mine": "لا توجد إنذارات نشطة في مناطقك حاليًا.",

  "row.mine": "منطقتي",
  "row.unknown": "منطقة غير موجودة في الفهرس",
  "row.siren": "صفارة قبل {t}",
  "row.shelter": "الوصول إلى الملجأ",
  "row.shelter_now": "فورًا",
  "row.shelter_passed": "ابقوا في الملجأ",
  "row.window": "ينتهي خلال",
  "row.window_ending": "ينتهي…",
  "row.locate": "عرض {name} على الخريطة",

  "kind.alert": "إنذار",
  "kind.early": "إنذار مبكر",
  "kind.ended": "انتهى",
  "kind.clear": "زال الخطر",

  "type.missiles": "إطلاق قذائف وصواريخ",
  "type.hostile_aircraft": "تسلل طائرة معادية",
  "type.earthquake": "هزة أرضية",
  "type.tsunami": "تسونامي",
  "type.infiltration": "تسلل مخربين",
  "type.radiological": "حدث إشعاعي",
  "type.hazmat": "مواد خطرة",
  "type.unconventional": "صواريخ غير تقليدية",
  "type.early_warning": "إنذار مبكر",
  "type.drill": "تمرين",

  "map.title": "الخريطة",
  "map.label": "خريطة مناطق الإنذار",
  "map.zoom_in": "تكبير",
  "map.zoom_out": "تصغير",
  "map.reset": "كل البلاد",
  "map.show_alerts": "عرض الإنذارات",
  "map.loading": "جارٍ تحميل فهرس المناطق…",
  "map.error": "تعذّر تحميل فهرس المناطق. تتم إعادة المحاولة…",
  "map.legend.alert": "إنذار",
  "map.legend.early": "إنذار مبكر",
  "map.legend.clear": "زال الخطر",
  "map.legend.none": "لا إنذار",
  "map.legend.mine": "منطقتي",
  "map.status_none": "لا إنذار",
  "map.add": "إضافة إلى مناطقي",
  "map.remove": "إزالة من مناطقي",
  "map.close": "إغلاق",
  "map.hint": "اسحب للتحريك، مرّر أو اقرص للتكبير، وانقر على منطقة للتفاصيل.",

  "my.title": "مناطقي",
  "my.mode_legend": "عرض الإنذارات لـ",
  "my.mode_all": "كل المناطق",
  "my.mode_mine": "مناطقي فقط",
  "my.search_label": "أضف منطقة أو قطاعًا كاملًا",
  "my.search_placeholder": "ابحث بأي لغة…",
  "my.no_results": "لا توجد منطقة أو قطاع يطابق «{q}»",
  "my.zone": "قطاع",
  "my.zone_areas": {
    zero: "لا مناطق",
    one: "منطقة واحدة",
    two: "منطقتان",
    few: "{n} مناطق",
    many: "{n} منطقة",
    other: "{n} منطقة",
  },
  "my.already": "موجودة في مناطقك",
  "my.empty": "لم تختر أي مناطق بعد. تظهر إنذارات مناطقك في شريط بارز مع صوت وإشعار.",
  "my.empty_mine": "اختر منطقة واحدة على الأقل — حتى ذلك الحين تُعرض الإنذارات لكل المناطق.",
  "my.remove": "إزالة {name}",
  "my.added": "أُضيفت {name}",
  "my.removed": "أُزيلت {name}",
  "my.error": "رفض الخادم هذا الاشتراك: {msg}",
  "my.subscribed_all": "تصلك الإنذارات لكل المناطق.",
  "my.subscribed_mine": "تصلك الإنذارات للمناطق والقطاعات التي اخترتها فقط.",

  "history.title": "السجل",
  "history.empty": "لا توجد أحداث بعد.",
  "history.error": "تعذّر تحميل السجل.",

  "banner.alert": "إنذار في منطقتك",
  "banner.early": "إنذار مبكر لمنطقتك",
  "banner.clear": "زال الخطر في منطقتك",
  "banner.shelter": "ادخلوا الملجأ خلال",
  "banner.shelter_passed": "ابقوا في الملجأ حتى إشعار آخر",
  "banner.dismiss": "إغلاق",
  "banner.more": "و{n} أخرى",

  "announce.alert": "إنذار: {names}. {type}.",
  "announce.alert_mine": "إنذار في منطقتك: {names}. {type}. ادخلوا الملجأ.",
  "announce.early": "إنذار مبكر: {names}.",
  "announce.early_mine": "إنذار مبكر لمنطقتك: {names}.",
  "announce.clear": "زال الخطر: {names}.",
  "announce.ended": "انتهى الإنذار: {names}.",
  "announce.more": "و{n} أخرى",

  "footer.note": "هذه الصفحة تكمّل صفارات الإنذار وتعليمات الجبهة الداخلية ولا تحل محلها.",
  "footer.catalogue": {
    zero: "لا مناطق إنذار",
    one: "منطقة إنذار واحدة",
    two: "منطقتا إنذار",
    few: "{n} مناطق إنذار",
    many: "{n} منطقة إنذار",
    other: "{n} منطقة إنذار",
  },
};

const STRINGS = { en, he, ru, ar };

const pluralRules = {};

/** The string for `key` in `lang` (English when missing), with {placeholders} filled in. */
export function t(lang, key, params = {}) {
  let value = STRINGS[lang]?.[key] ?? en[key];
  if (value === undefined) {
    console.warn("i18n: missing key", key);
    return key;
  }
  if (typeof value === "object") {
    const n = Number(params.n ?? 0);
    pluralRules[lang] ??= new Intl.PluralRules(LANGUAGES[lang]?.locale ?? lang);
    // Arabic has a distinct form for 0; the other languages fall back to "other".
    const category = n === 0 && "zero" in value ? "zero" : pluralRules[lang].select(n);
    value = value[category] ?? value.other;
  }
  return value.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** The first supported language in the browser's preference list. */
export function detectLanguage(preferred) {
  for (const tag of preferred ?? []) {
    const primary = String(tag).toLowerCase().split("-")[0];
    if (primary === "iw") return "he"; // the legacy code some browsers still send
    if (primary in LANGUAGES) return primary;
  }
  return DEFAULT_LANGUAGE;
}

// Alert types as sources spell them (snake_case, camelCase, with suffixes) to string keys.
const TYPE_ALIASES = {
  missiles: "missiles",
  missile: "missiles",
  rockets: "missiles",
  rocket: "missiles",
  hostileaircraft: "hostile_aircraft",
  hostileaircraftintrusion: "hostile_aircraft",
  aircraft: "hostile_aircraft",
  uav: "hostile_aircraft",
  earthquake: "earthquake",
  tsunami: "tsunami",
  terroristinfiltration: "infiltration",
  infiltration: "infiltration",
  radiological: "radiological",
  radiologicalevent: "radiological",
  hazardousmaterials: "hazmat",
  hazmat: "hazmat",
  unconventional: "unconventional",
  nonconventional: "unconventional",
  unconventionalmissile: "unconventional",
  earlywarning: "early_warning",
  warning: "early_warning",
  drill: "drill",
};

/** A readable, translated label for an alert type; unknown types are shown as sent. */
export function typeLabel(lang, type) {
  if (!type) return "";
  const alias = TYPE_ALIASES[String(type).toLowerCase().replace(/[^a-z]/g, "")];
  if (alias) return t(lang, `type.${alias}`);
  const words = String(type).replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Early warnings are the alert types whose name says so (`early_warning`, `warning`, …). */
export function isEarlyType(type) {
  return /early|warning/i.test(String(type ?? ""));
}
