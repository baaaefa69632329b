"""The alert taxonomy: what kind of danger an alert is, whatever words its source used.

Sources name alert types in free text ("Rocket Alert", "ירי רקטות וטילים", a CAP `<event>`).
Every alert also gets one `category` from the fixed set below (`category_of`): ONE alias table
of whole names first, then a small set of ordered rules that read what a title says, since the
national feed words its titles differently from week to week ("הארוע הסתיים", "יש לשהות בסמיכות
למרחב המוגן"). A type neither knows is `general`, still shown as written, and `title_category`
says None for it, so that its callers can count and log it. Pure and cached: it is on the ingest
path.

The national feed numbers categories differently in its realtime and history shapes; its number
tables live with its parser, which maps them to these identifiers (and calls `category_of` on
its titles first, since the titles are what tell an all-clear or an early warning apart).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, Literal, get_args

from alertflow.domain.text import words

Category = Literal[
    "missiles", "hostile_aircraft", "earthquake", "tsunami", "infiltration", "hazmat",
    "nonconventional", "radiological", "early_warning", "all_clear", "general", "drill",
]
CATEGORIES: Final[tuple[Category, ...]] = get_args(Category)
GENERAL: Final[Category] = "general"

# Whole names, compared after `fold`. English and Hebrew as the Home Front Command and its
# apps write them, plus the short forms sources use; Russian and Arabic for the commonest ones.
_ALIASES: Final[dict[Category, tuple[str, ...]]] = {
    "missiles": (
        "missiles", "missile", "rockets", "rocket", "rocket alert", "rocket alerts",
        "missile alert", "red alert", "code red", "rocket and missile fire",
        "rockets and missiles", "rocket fire", "missile fire", "rocket attack",
        "ירי רקטות וטילים", "ירי רקטות", "ירי טילים", "רקטות וטילים", "צבע אדום", "טילים",
        "רקטות", "התרעה על ירי רקטות וטילים",
        "ракетный обстрел", "обстрел ракетами и снарядами",
        "إطلاق صواريخ وقذائف", "اطلاق صواريخ وقذائف", "إطلاق قذائف وصواريخ", "صواريخ",
    ),
    "hostile_aircraft": (
        "hostile aircraft", "hostile aircraft intrusion", "hostile aircraft infiltration",
        "aircraft intrusion", "uav", "uav intrusion", "drone", "hostile drone",
        "unmanned aircraft", "hostile uav",
        "חדירת כלי טיס עוין", "כלי טיס עוין", "חדירת כטב\"ם", "כטב\"ם", "כטבם", "רחפן",
        "проникновение вражеского летательного аппарата", "вражеский беспилотник",
        "تسلل طائرة معادية", "طائرة مسيرة معادية",
    ),
    "earthquake": (
        "earthquake", "earthquakes", "quake", "seismic", "רעידת אדמה", "רעידות אדמה",
        "землетрясение", "هزة أرضية", "زلزال",
    ),
    "tsunami": ("tsunami", "צונאמי", "цунами", "تسونامي"),
    "infiltration": (
        "infiltration", "terrorist infiltration", "terrorists infiltration",
        "hostile infiltration", "חדירת מחבלים", "חשש לחדירת מחבלים", "חדירת מחבל",
        "проникновение террористов", "تسلل مخربين", "تسلل إرهابيين",
    ),
    "hazmat": (
        "hazmat", "hazardous materials", "hazardous material", "hazardous materials incident",
        "chemical leak", "חומרים מסוכנים", "אירוע חומרים מסוכנים", "דליפת חומרים מסוכנים",
        "опасные вещества", "مواد خطرة",
    ),
    "nonconventional": (
        "nonconventional", "non conventional", "unconventional", "unconventional weapons",
        "non conventional weapons", "nonconventional weapons", "non conventional missile",
        "unconventional missile", "נשק לא קונבנציונלי", "טיל לא קונבנציונלי",
        "неконвенциональное оружие", "سلاح غير تقليدي",
    ),
    "radiological": (
        "radiological", "radiological event", "radiological incident", "radiation",
        "אירוע רדיולוגי", "радиологическое событие", "حدث إشعاعي",
    ),
    "early_warning": (
        "early warning", "early warnings", "pre alert", "preliminary alert",
        "alerts expected", "alerts expected soon", "התרעה מקדימה", "התראה מקדימה",
        "раннее предупреждение", "إنذار مبكر",
    ),
    "all_clear": (
        "all clear", "all clear signal", "event ended", "the event has ended", "end of event",
        "האירוע הסתיים", "סיום אירוע", "ניתן לצאת מהמרחב המוגן", "השוהים במרחב המוגן יכולים לצאת",
        "событие завершено", "انتهى الحدث",
    ),
    "general": ("general", "news flash", "מבזק", "הודעה כללית"),
    "drill": (
        "drill", "exercise", "test alert", "תרגיל", "תרגול", "учения", "تمرين",
    ),
}

# --- Titles as sources write them ---------------------------------------------------------------
# A title that no alias names exactly is read by the ordered rules below, over its folded form
# (`fold`: `words`, then one spelling for letters and words written several ways). The first
# rule that matches decides; a title no rule knows is `general`, shown as written, and
# `title_category` says None for it, so that callers can count the drift (the feed's wording
# changes from week to week). Which rule comes first is the safety rule, since an all-clear ENDS
# windows and must never be read into an alert:
#
# 1. an explicit end: "סיום אירוע", "סיום שהייה בסמיכות למרחב המוגן" (whose tail is also the
#    early warning's), "end of the event", "окончание события";
# 2. early warnings: a stay-near sentence, "בסמיכות / בקרבת / קרוב / התקרבו / היכונו … מרחב
#    מוגן" ("יש לשהות בסמיכות למרחב המוגן", "איום מלבנון - התקרבו למרחב מוגן"), "… ניתן לצאת
#    מהמרחב המוגן אך יש להישאר בקרבתו"; alerts expected, "צפויות / ייתכן … התרעות"; "התרעה
#    מקדימה"; the same in English, Russian and Arabic. With a drill word it is a drill;
# 3. all-clears: "הסתיים" in either spelling (and "הסתיימה"), whatever names the event before it
#    ("ירי רקטות וטילים - האירוע הסתיים", "הארוע הסתיים"); "החשש הוסר"; "ניתן / יכולים לצאת"
#    unless a "but stay near it" follows; "all clear", "event (has) ended", "отбой", "событие
#    завершено", "انتهى الحدث";
# 4. drills ("תרגיל", "drill", "учения", "تمرين");
# 5. the hazards, the more specific first (a non-conventional missile is not just a missile);
# 6. titles known to say nothing more ("מבזק", "עדכון", "היכנסו מיד למרחב המוגן"): general.
#
# An all-clear word within two words after a negation or "until" ("טרם הסתיים", "עד סיום
# האירוע", "has not ended", "не завершено", "لم ينته") is not an all-clear.

_HE = "[ובלמהשכ]{0,3}"  # the prefixed letters of a Hebrew word: ו ה ב ל מ ש כ
_SPACE = rf"{_HE}(?:(?:מרחב|מקום|חדר|מבנה) ה?מוגן|ממד|מקלט)"  # a protected space
_GAP = r"(?: \S+){0,3}"  # up to three words between two parts of a phrase


def _words(*alternatives: str) -> str:
    """Alternatives that each span whole words (one word-start test for all: a position inside
    a word fails before any alternative is tried)."""
    return r"(?<!\S)(?:" + "|".join(alternatives) + r")(?!\S)"


_END_OF: Final = _words(
    r"ו?סיום ה?(?:שהייה|אירוע|אירועים|התרעה|התרעות|איום|אזעקה)",
    r"end of (?:the )?(?:event|incident|alert|threat)",
    r"(?:окончани|завершени)\S* (?:событи|инцидент|тревог|угроз)\S*",
    r"انتهاء (?:ال)?(?:حدث|انذار|تهديد)",
)
_EARLY_WARNING: Final = _words(
    rf"(?:בסמיכות|בקרבת|בקרבה|קרוב|קרובים|סמוך|התקרבו|להתקרב|היכונו|הכונו|התכוננו|היערכו)"
    rf"{_GAP} {_SPACE}",
    rf"{_SPACE}.* בקרבתו",
    rf"(?:צפויות|צפויה|צפויים|צפוי|ייתכן|יתכן|עלולות|עשויות){_GAP} {_HE}(?:התרעות|התרעה|אזעקות)",
    rf"{_HE}(?:התרעה|אזהרה) (?:מקדימה|מוקדמת)",
    r"early warnings?|pre ?alerts?|preliminary alerts?",
    r"alerts? (?:are |is )?(?:expected|anticipated|likely)|expected alerts?",
    r"(?:stay|remain|be|keep|move|get|go|come)(?: \S+)? (?:close|closer|near|nearer|nearby)"
    r"(?: to)?(?: (?:a|the|your))? (?:protected|shelter|safe room|mamad)\S*",
    r"(?:leave|exit)\S*(?: \S+){0,4} but (?:stay|remain)(?: \S+){0,2} (?:close|near|nearby)",
    r"(?:ранн|предварительн)\S* (?:предупрежд|оповещ)\S*",
    r"ожида(?:ются|ется)(?: \S+){0,3} (?:оповещени|тревог|сирен|ракетн)\S*",
    r"(?:рядом|вблизи|поблизости|недалеко|близко)(?: \S+){0,2} (?:защищ|укрыт|убежищ)\S*",
    r"انذار(?:ات)? مبكر\S*",
    r"(?:بالقرب|قرب|بجوار|قريبين|قريبا|قريب)(?: \S+){0,2} \S*(?:محمي|ملجا)\S*",
    r"\S*(?:يتوقع|متوقع)\S*(?: \S+){0,4} \S*انذارات\S*",
)
# What turns "you may leave" into an early warning when it follows: "… אך יש להישאר בקרבתו".
_BUT_STAY_NEAR = (r"(?!.*(?<!\S)(?:אך|אבל|אולם|הישארו|להישאר|בקרבתו?|בסמיכות|קרוב|but|stay|remain"
                  r"|но|однако|останьтесь|оставайтесь|لكن|ابقوا)(?!\S))")
_ENDED: Final = _words(
    r"ו?הסתיי?(?:ם|מה|מו)",
    r"ה?חשש הוסר|הוסר ה?חשש",
    rf"(?:ניתן|אפשר|מותר|יכולים|רשאים)(?: \S+)? לצאת{_BUT_STAY_NEAR}",
    r"all clear",
    r"(?:event|incident|alert|alerts|threat|danger|attack|siren|sirens)"
    r"(?: has| have| had)? (?:ended|concluded|finished)",
    r"(?:event|incident|alert|alerts|threat|danger|attack) (?:is|are|was) over",
    r"(?:threat|danger) (?:has |is )(?:passed|been lifted|been removed|lifted|removed)",
    rf"(?:may|can|allowed to)(?: now)? (?:leave|exit)(?: the)? (?:protected|shelter|safe)\S*"
    rf"{_BUT_STAY_NEAR}",
    r"отбой\S*",
    r"(?:событи|инцидент|угроз|тревог|опасност|обстрел)\S*(?: \S+)?"
    r" (?:заверш|окончен|окончил|закончил|закончен|миновал|снят)\S*",
    rf"можно (?:выйти|выходить|покинуть){_BUT_STAY_NEAR}",
    r"و?انته(?:ي|ت)",
    r"زال الخطر",
    rf"يمكن(?:كم)? (?:ال)?(?:خروج|مغادره){_BUT_STAY_NEAR}",
)
_DRILL: Final = _words(
    rf"{_HE}(?:תרגיל|תרגילים|תרגול)", r"drills?|exercises?", r"(?:учени|тренировк)\S*",
    r"\S{0,2}(?:تمرين|تدريب)\S*",
)
_HAZARDS: Final[tuple[tuple[Category, str], ...]] = (
    ("nonconventional", _words(
        r"(?:לא|בלתי) קונבנציונלי\S*", r"non conventional|nonconventional|unconventional",
        r"неконвенциональн\S*", r"غير تقليدي\S*")),
    ("radiological", _words(
        r"\S*רדיולוגי\S*", rf"{_HE}גרעיני\S*", r"radiologic\S*|radiation|nuclear",
        r"радиоактивн\S*|радиологическ\S*|радиаци\S*", r"\S*اشعاعي\S*")),
    ("hazmat", _words(
        rf"{_HE}חומרים מסוכנים|{_HE}חומס", r"hazardous materials?|hazmat|chemical leak",
        r"опасн\S* веществ\S*", r"مواد خطره")),
    ("tsunami", _words(r"\S*צונאמי", r"tsunamis?", r"цунами", r"\S*تسونامي")),
    ("earthquake", _words(
        r"רעיד(?:ת|ות) ה?אדמה", r"earthquakes?|quake|seismic", r"землетрясени\S*",
        r"هز(?:ه|ات) ارضيه|\S*زلزال")),
    ("infiltration", _words(
        rf"{_HE}חדירת מחבל\S*|{_HE}מחבלים", r"infiltration|terrorists?",
        r"проникновени\S* террорист\S*|террорист\S*", r"تسلل|\S*مخربين|\S*ارهابيين")),
    ("hostile_aircraft", _words(
        r"\S*כלי טיס|\S*כטבם|\S*רחפן\S*", r"hostile aircraft|aircraft intrusion|uavs?|drones?",
        r"летательн\S* аппарат\S*|беспилотник\S*|воздушного пространства",
        r"طائره (?:معادي|مسيره)\S*|مسيره معادي\S*")),
    ("missiles", _words(
        rf"ירי (?:רקטות|טילים)|צבע אדום|{_HE}(?:טיל|טילים|רקטה|רקטות)",
        r"rockets?|missiles?|red alert|code red", r"ракет\S*|обстрел\S*",
        r"\S*صواريخ|\S*قذائف|\S*صاروخ")),
)
_SAYS_NOTHING_MORE: Final = _words(
    r"מבזק|עדכון|הודעה כללית|news flash|flash|update|general",
    rf"(?:היכנסו|הכנסו|להיכנס|כנסו)(?: \S+)? {_SPACE}",
    rf"(?:להמשיך |המשיכו )?(?:לשהות|שהו) {_SPACE}",
    r"(?:enter|stay in|remain in)(?: the)? (?:protected|shelter)\S*",
)

# Words after which (within two words) an all-clear word does not end anything.
_NEGATIONS: Final = frozenset((
    "לא", "טרם", "עד", "not", "until", "till", "never", "не", "ещё", "еще", "до", "пока",
    "لم", "لا", "حتى", "لن", "ليس",
))

# CAP 1.2 `<category>` values: only a fallback when the `<event>` text says nothing we know.
CAP_CATEGORIES: Final[dict[str, Category]] = {
    "geo": "earthquake", "met": GENERAL, "safety": GENERAL, "security": GENERAL,
    "rescue": GENERAL, "fire": GENERAL, "health": GENERAL, "env": GENERAL,
    "transport": GENERAL, "infra": GENERAL, "cbrne": "hazmat", "other": GENERAL,
}

_FOLD: Final = str.maketrans({
    "ё": "е", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "\u0640": None,
})
# Hebrew words the feed and its readers spell two ways (full and defective spelling, the two
# words for "alert"): one spelling each, inside any word ("הארוע" → "האירוע", "באיזורים").
_SPELLINGS: Final = (("ארוע", "אירוע"), ("התרא", "התרע"), ("איזור", "אזור"), ("מייד", "מיד"),
                     ("שהיה", "שהייה"))

normalize = words  # case, spacing and punctuation never matter


def fold(text: str) -> str:
    """`words`, then one spelling: Arabic alef, ya and ta marbuta forms, Russian ё, and the
    Hebrew words written two ways. The alias table's keys and the rules' input."""
    folded = words(text).translate(_FOLD)
    for variant, spelling in _SPELLINGS:
        if variant in folded:
            folded = folded.replace(variant, spelling)
    return folded


def _build(aliases: dict[Category, tuple[str, ...]]) -> dict[str, Category]:
    table: dict[str, Category] = {category: category for category in CATEGORIES}
    for category, names in aliases.items():
        for name in names:
            key = fold(name)
            if table.get(key, category) != category:
                raise ValueError(f"alias {name!r} names two categories")
            table[key] = category
    return table


_TABLE: Final[dict[str, Category]] = _build(_ALIASES)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# (category, pattern, whether a negation before it cancels it), in the order they are tried.
_RULES: Final[tuple[tuple[Category, re.Pattern[str], bool], ...]] = (
    ("all_clear", _compile(_END_OF), True),
    ("early_warning", _compile(_EARLY_WARNING), False),
    ("all_clear", _compile(_ENDED), True),
    ("drill", _compile(_DRILL), False),
    *((category, _compile(pattern), False) for category, pattern in _HAZARDS),
    (GENERAL, _compile(_SAYS_NOTHING_MORE), False),
)
_DRILL_RULE: Final = _compile(_DRILL)


def _matches(pattern: re.Pattern[str], text: str, negatable: bool) -> bool:
    for found in pattern.finditer(text):
        if not negatable:
            return True
        near = text[:found.start()].split()[-2:] + found.group().split()
        if not _NEGATIONS.intersection(near):
            return True
    return False


def _recognise(text: str) -> Category | None:
    key = fold(text)
    if not key:
        return None
    found = _TABLE.get(key)
    if found is not None:
        return found
    for category, pattern, negatable in _RULES:
        if _matches(pattern, key, negatable):
            if category == "early_warning" and _DRILL_RULE.search(key):
                return "drill"  # a drill's early warning is the drill
            return category
    return None


def rule_categories(text: str) -> frozenset[Category]:
    """Every category some rule finds in `text`, whatever their order (for tests: an all-clear
    rule must find nothing in an alert's title)."""
    key = fold(text)
    return frozenset(category for category, pattern, negatable in _RULES
                     if _matches(pattern, key, negatable))


_CACHE_LIMIT = 4096
_cache: dict[str, Category | None] = {}


def title_category(text: str | None) -> Category | None:
    """The category an alias or a rule gives `text`; None when none knows it (`category_of`
    then says `general`: callers count such titles, the drift of a source's wording)."""
    if not text:
        return None
    try:
        return _cache[text]
    except KeyError:
        pass
    found = _recognise(text)
    if len(_cache) < _CACHE_LIMIT:  # sources use a handful of types; a flood must not grow it
        _cache[text] = found
    return found


def category_of(text: str | None) -> Category:
    """The category a type or title names; `general` when nothing in it is known."""
    return title_category(text) or GENERAL


def category_of_cap(event: str | None, cap_categories: Iterable[str] = ()) -> Category:
    """A CAP `<info>`'s category: its `<event>` text first, then its `<category>` values."""
    found = category_of(event)
    if found != GENERAL:
        return found
    for value in cap_categories:
        mapped = CAP_CATEGORIES.get(value.strip().casefold())
        if mapped is not None and mapped != GENERAL:
            return mapped
    return GENERAL


def is_category(value: str) -> bool:
    return value in CATEGORIES
