"""Office routing (P8): which messages belong to the school office, not a teacher.

One data table, :data:`TOPICS`, lists the topics a school's code of conduct sends
to the office (absence, sickness, school dinners, complaints, music lessons,
urgent collection, appointments) with the words and phrases that signal each,
per language. A school extends it without touching code: a JSON file
(``office_topics.json`` in the data folder, read by :func:`parse_extra`) adds
terms to a topic or new topics.

Matching is on normalised words: case-folded, accents removed, contractions
split (``won't`` → ``wont``, ``I'll`` → ``i ll``), each word cut to a light stem
(``coming`` → ``com``, ``lessons`` → ``lesson``), the same way for the table and
the message, so one entry covers a word's usual forms. A phrase matches
consecutive words; ``*`` stands for any one word (``pick * up`` matches "pick him
up").

Pure and sans-I/O. :func:`classify` is the hook the translation pipeline calls:
it takes text in a language (the school's language after translation, or the
original when no translation exists) and names the topic, if any.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from server.language.interface import N_

WILDCARD = "*"


@dataclass(frozen=True)
class Topic:
    """A topic the office handles: its key, how notices name it, and its terms per language."""

    key: str
    label: str
    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


# Order matters only for ties: the topic with the most matching terms wins.
TOPICS: tuple[Topic, ...] = (
    Topic(
        "urgent_collection",
        N_("collecting your child"),
        {
            "en": (
                "urgent", "urgently", "emergency", "asap", "pick up", "pick * up", "pickup",
                "collect", "collection", "home time", "collect * early", "early collection",
                "grandma will", "grandad will", "nan will", "auntie will", "uncle will",
            ),
            "es": ("urgente", "emergencia", "recoger", "recogera", "recogerla", "recogerlo"),
            "pl": ("pilne", "pilnie", "odbierze", "odebrac", "odbior"),
        },
    ),
    Topic(
        "sickness",
        N_("sickness"),
        {
            "en": (
                "sick", "ill", "illness", "unwell", "poorly", "temperature", "fever", "high temp",
                "vomit", "vomiting", "throwing up", "diarrhoea", "diarrhea", "tummy bug",
                "stomach bug", "sickness bug", "flu", "chickenpox", "chicken pox", "measles",
                "conjunctivitis", "head lice", "covid", "cough", "sore throat", "headache",
                "migraine", "doctor", "gp", "hospital", "injured", "injury", "broken arm",
                "broken leg", "medicine", "medication", "inhaler", "asthma", "allergic reaction",
                "infection", "rash",
            ),
            "es": ("enfermo", "enferma", "fiebre", "vomitando", "tos", "medico", "hospital"),
            "pl": ("chory", "chora", "goraczka", "goraczke", "wymiotuje", "lekarz", "szpital"),
        },
    ),
    Topic(
        "absence",
        N_("absence"),
        {
            "en": (
                "absent", "absence", "off school", "off today", "not in today", "not be in",
                "wont be in", "will not be in", "not coming in", "not come in", "not coming to school",
                "not come to school", "miss school", "stay at home", "stay home", "staying at home",
                "staying home", "keep * home", "keep * off", "day off", "term time holiday",
                "holiday in term", "leave of absence", "late today", "arrive late", "late for school",
                "late to school", "funeral",
            ),
            "es": ("ausente", "ausencia", "no ira", "no va a ir", "faltara", "faltar"),
            "pl": ("nieobecny", "nieobecna", "nieobecnosc", "nie przyjdzie", "nie bedzie"),
        },
    ),
    Topic(
        "appointments",
        N_("appointments"),
        {
            "en": (
                "appointment", "make an appointment", "book a meeting", "arrange a meeting",
                "meeting with", "meet with", "can we meet", "could we meet", "see the head",
                "speak to the head", "parents evening", "dentist", "orthodontist", "optician",
            ),
            "es": ("cita", "reunion", "dentista"),
            "pl": ("spotkanie", "wizyta", "dentysta"),
        },
    ),
    Topic(
        "complaints",
        N_("complaints"),
        {
            "en": (
                "complaint", "complain", "complaining", "formal complaint", "not happy", "unhappy",
                "disappointed", "unacceptable", "appalled", "disgusted", "furious",
            ),
            "es": ("queja", "quejarme", "reclamacion", "inaceptable"),
            "pl": ("skarga", "reklamacja", "niedopuszczalne"),
        },
    ),
    Topic(
        "school_dinners",
        N_("school dinners"),
        {
            "en": (
                "dinner", "dinners", "lunch", "lunchtime", "packed lunch", "lunchbox", "lunch box",
                "school meal", "free school meals", "meal", "menu", "dinner money", "canteen",
                "vegetarian", "vegan", "halal", "kosher", "dietary",
            ),
            "es": ("comedor", "almuerzo", "menu", "comida", "halal"),
            "pl": ("obiad", "obiady", "posilek", "halal"),
        },
    ),
    Topic(
        "music_lessons",
        N_("music lessons"),
        {
            "en": (
                "music lesson", "music teacher", "music tuition", "music service", "instrument",
                "violin", "viola", "cello", "guitar", "piano", "drum", "drum kit", "flute",
                "clarinet", "trumpet", "trombone", "saxophone", "recorder", "ukulele", "orchestra",
                "singing lesson",
            ),
            "es": ("clase de musica", "clases de musica", "violin", "guitarra", "piano", "flauta"),
            "pl": ("lekcja muzyki", "lekcje muzyki", "skrzypce", "gitara", "pianino", "flet"),
        },
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Match:
    """The topic a text belongs to and the table terms that matched it."""

    topic: Topic
    terms: tuple[str, ...]


_SUFFIXES = ("nesses", "ness", "ments", "ment", "ings", "ing", "ions", "ion", "ied", "ies", "ed", "es", "s")
_WORD = re.compile(r"[^\W_]+|\*")
_APOSTROPHES = re.compile(r"['’ʼ`]")
_NOT = re.compile(r"n['’ʼ`]t\b")


def stem(word: str) -> str:
    """A light, language-neutral stem: the first matching suffix cut when 3+ letters remain."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    """Normalised word stems of ``text``: case-folded, accents removed, contractions split."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    # "won't" → "wont", but "I'll" → "i ll" (never the word "ill") and "Sam's" → "sam s".
    plain = _APOSTROPHES.sub(" ", _NOT.sub("nt", plain))
    return [token if token == WILDCARD else stem(token) for token in _WORD.findall(plain)]


def primary_language(lang: str) -> str:
    """``"en"`` for ``"en-GB"``; lower case."""
    return lang.replace("_", "-").split("-", 1)[0].lower()


@dataclass(frozen=True)
class Rules:
    """The topic table compiled to stemmed phrases, per language."""

    topics: tuple[Topic, ...]
    phrases: Mapping[str, tuple[tuple[Topic, str, tuple[str, ...]], ...]]

    def for_language(self, lang: str) -> tuple[tuple[Topic, str, tuple[str, ...]], ...]:
        """The phrases of ``lang``; every language's when the table has none for it."""
        own = self.phrases.get(primary_language(lang))
        if own:
            return own
        return tuple(entry for entries in self.phrases.values() for entry in entries)


def compile_rules(topics: Iterable[Topic] = TOPICS) -> Rules:
    """Stem every term of the table once."""
    listed = tuple(topics)
    phrases: dict[str, list[tuple[Topic, str, tuple[str, ...]]]] = {}
    for topic in listed:
        for lang, terms in topic.terms.items():
            for term in terms:
                stems = tuple(words(term))
                if stems and any(s != WILDCARD for s in stems):
                    phrases.setdefault(primary_language(lang), []).append((topic, term, stems))
    return Rules(listed, {lang: tuple(entries) for lang, entries in phrases.items()})


DEFAULT_RULES = compile_rules()


def _occurs(phrase: tuple[str, ...], tokens: list[str]) -> bool:
    size = len(phrase)
    for start in range(len(tokens) - size + 1):
        if all(p == WILDCARD or p == tokens[start + i] for i, p in enumerate(phrase)):
            return True
    return False


def classify(text: str, lang: str, rules: Rules = DEFAULT_RULES) -> Match | None:
    """The office topic of ``text`` written in ``lang``, or None when it is for the teacher."""
    tokens = words(text)
    if not tokens:
        return None
    present = set(tokens)
    found: dict[str, list[str]] = {}
    for topic, term, stems in rules.for_language(lang):
        if stems[0] in present if len(stems) == 1 else _occurs(stems, tokens):
            found.setdefault(topic.key, []).append(term)
    if not found:
        return None
    order = {topic.key: index for index, topic in enumerate(rules.topics)}
    best = min(found, key=lambda key: (-len(found[key]), order[key]))
    topic = next(t for t in rules.topics if t.key == best)
    return Match(topic, tuple(found[best]))


def parse_extra(data: Any, base: Iterable[Topic] = TOPICS) -> tuple[Topic, ...]:
    """The table extended by a school's additions.

    ``data`` is ``{"<topic key>": {"label": "...", "terms": {"<lang>": ["word", "a phrase"]}}}``;
    a known key gains the terms (and a new label if given), an unknown key is a new topic.
    Raises ``ValueError`` when the shape is wrong.
    """
    if not isinstance(data, dict):
        raise ValueError("office topics must be an object keyed by topic")
    topics = {topic.key: topic for topic in base}
    for key, entry in data.items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,23}", key):
            raise ValueError(f"topic key {key!r} must be 1-24 lower-case letters, digits or _")
        if not isinstance(entry, dict) or not isinstance(entry.get("terms", {}), dict):
            raise ValueError(f"topic {key!r} needs a 'terms' object of language → list of terms")
        label = entry.get("label")
        known = topics.get(key)
        if label is not None and not isinstance(label, str):
            raise ValueError(f"topic {key!r}: 'label' must be text")
        terms: dict[str, tuple[str, ...]] = dict(known.terms) if known else {}
        for lang, extra in entry.get("terms", {}).items():
            if not isinstance(extra, list) or not all(isinstance(t, str) and t.strip() for t in extra):
                raise ValueError(f"topic {key!r}: terms for {lang!r} must be a list of words or phrases")
            lang_key = primary_language(str(lang))
            terms[lang_key] = (*terms.get(lang_key, ()), *extra)
        topics[key] = Topic(key, label or (known.label if known else key.replace("_", " ")), terms)
    return tuple(topics.values())
