// Words of the Web Push switch and of background notifications, in the four languages. The
// category's name and instruction come from guidance.js (one table for the page and the push
// service worker); only what is specific to push lives here.

const T = (en, he, ru, ar) => ({ en, he, ru, ar });

const TEXT = {
  label: T("Notify me when the page is closed", "הודיעו לי גם כשהדף סגור",
    "Уведомлять, когда страница закрыта", "أبلغوني عندما تكون الصفحة مغلقة"),
  on: T("Background notifications are on for your areas.", "התראות ברקע פעילות עבור האזורים שלך.",
    "Фоновые уведомления включены для ваших районов.", "الإشعارات في الخلفية مفعّلة لمناطقك."),
  off: T("Off: alerts reach you only while this page is open.", "כבוי: התרעות מגיעות רק כשהדף פתוח.",
    "Выключено: оповещения приходят, только пока страница открыта.",
    "متوقف: تصلك الإنذارات فقط عندما تكون هذه الصفحة مفتوحة."),
  needAreas: T("Choose at least one area or zone first.", "בחרו קודם לפחות אזור או מרחב אחד.",
    "Сначала выберите хотя бы один район или зону.", "اختاروا أولاً منطقة أو نطاقاً واحداً على الأقل."),
  denied: T("Notifications are blocked in this browser's settings.",
    "ההתראות חסומות בהגדרות הדפדפן.", "Уведомления заблокированы в настройках браузера.",
    "الإشعارات محظورة في إعدادات المتصفح."),
  unsupported: T("This browser cannot notify when the page is closed (on iPhone: add this page to the home screen first).",
    "הדפדפן הזה אינו יכול להודיע כשהדף סגור (באייפון: הוסיפו קודם את הדף למסך הבית).",
    "Этот браузер не умеет уведомлять при закрытой странице (на iPhone сначала добавьте страницу на экран «Домой»).",
    "لا يستطيع هذا المتصفح الإشعار عندما تكون الصفحة مغلقة (على iPhone: أضيفوا الصفحة إلى الشاشة الرئيسية أولاً)."),
  unavailable: T("This server does not offer background notifications.",
    "השרת הזה אינו מציע התראות ברקע.", "Этот сервер не предлагает фоновые уведомления.",
    "هذا الخادم لا يوفّر إشعارات في الخلفية."),
  failed: T("Could not turn on background notifications: {msg}", "לא ניתן להפעיל התראות ברקע: {msg}",
    "Не удалось включить фоновые уведомления: {msg}", "تعذّر تفعيل الإشعارات في الخلفية: {msg}"),
  shelter: T("Shelter within {n} s.", "היכנסו למרחב המוגן תוך {n} שניות.", "Укройтесь в течение {n} с.",
    "ادخلوا إلى الحيز المحمي خلال {n} ثانية."),
  more: T("and {n} more", "ועוד {n}", "и ещё {n}", "و{n} أخرى"),
};

/** A push text in `lang` (English when unknown), with {placeholders} filled. */
export function pushText(key, lang, params = {}) {
  const entry = TEXT[key];
  const text = entry[lang] ?? entry.en;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}
