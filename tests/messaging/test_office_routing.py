"""Office routing (P8): which messages are for the office, found on normalised words."""

from __future__ import annotations

import pytest

from server.messaging.office_routing import (
    TOPICS,
    classify,
    compile_rules,
    parse_extra,
    stem,
    words,
)

ROUTED = [
    ("Sam is off sick today with a temperature", "en", "sickness"),
    ("Amir has been vomiting all night, he won't be in", "en", "sickness"),
    ("She's got chickenpox", "en", "sickness"),
    ("Olivia won't be in school on Friday, we have a family funeral", "en", "absence"),
    ("Can I request a leave of absence for the 14th?", "en", "absence"),
    ("We're keeping him home tomorrow", "en", "absence"),
    ("Could he have a packed lunch instead of school dinners from Monday?", "en", "school_dinners"),
    ("I want to make a formal complaint about the trip", "en", "complaints"),
    ("She would like to start violin lessons", "en", "music_lessons"),
    ("URGENT: his grandma will pick him up today at 2", "en", "urgent_collection"),
    ("My neighbour is collecting Leo after school", "en", "urgent_collection"),
    ("Could I book an appointment to see the head?", "en", "appointments"),
    ("Can we meet with you next week about his reading?", "en", "appointments"),
    ("Mi hijo está enfermo y tiene fiebre", "es", "sickness"),
    ("Zofia jest chora, ma gorączkę", "pl", "sickness"),
    # Language tags with regions use the primary language's terms.
    ("Sam is poorly today", "en-GB", "sickness"),
]

NOT_ROUTED = [
    ("Thank you for the lovely photos of the trip!", "en"),
    ("I'll read with him tonight, he loved the book", "en"),
    ("Is the homework due on Tuesday?", "en"),
    ("What a brilliant week, well done everyone", "en"),
    ("", "en"),
    ("!!! ???", "en"),
]


@pytest.mark.parametrize(("text", "lang", "topic"), ROUTED)
def test_p8_office_topics_are_recognised(text: str, lang: str, topic: str) -> None:
    found = classify(text, lang)
    assert found is not None, text
    assert found.topic.key == topic


@pytest.mark.parametrize(("text", "lang"), NOT_ROUTED)
def test_p8_messages_for_the_teacher_stay_with_the_teacher(text: str, lang: str) -> None:
    assert classify(text, lang) is None


def test_p8_the_topic_with_most_evidence_wins() -> None:
    found = classify("Urgent: Sam is sick, his uncle will collect him", "en")
    assert found is not None and found.topic.key == "urgent_collection"
    assert set(found.terms) >= {"urgent", "collect"}


def test_p8_a_language_without_its_own_terms_is_checked_against_every_language() -> None:
    found = classify("Sam ist krank, Fieber, Arzt, doctor", "de")
    assert found is not None and found.topic.key == "sickness"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("lessons", "lesson"),
        ("coming", "com"),
        ("collected", "collect"),
        ("sickness", "sick"),
        ("ill", "ill"),
    ],
)
def test_stems_cover_a_words_usual_forms(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_words_fold_case_accents_and_contractions() -> None:
    assert words("Está ENFERMO") == ["esta", "enfermo"]
    assert words("He won't; I'll") == ["he", "wont", "i", "ll"]


def test_p8_the_table_is_one_data_table_every_required_topic_is_in() -> None:
    keys = {topic.key for topic in TOPICS}
    assert keys == {
        "absence",
        "sickness",
        "school_dinners",
        "complaints",
        "music_lessons",
        "urgent_collection",
        "appointments",
    }
    assert all(topic.terms.get("en") for topic in TOPICS)


def test_p8_a_school_extends_the_table_with_terms_and_new_topics() -> None:
    extended = parse_extra(
        {
            "music_lessons": {"terms": {"en": ["harp"]}},
            "uniform": {
                "label": "school uniform",
                "terms": {"en": ["uniform", "jumper"], "es": ["uniforme"]},
            },
        }
    )
    rules = compile_rules(extended)
    harp = classify("She wants to learn the harp", "en", rules)
    assert harp is not None and harp.topic.key == "music_lessons"
    uniform = classify("Where can I buy a new jumper?", "en", rules)
    assert uniform is not None and uniform.topic.label == "school uniform"
    assert classify("violin", "en", rules) is not None  # the built-in terms stay
    assert classify("She wants to learn the harp", "en") is None  # the default table is untouched


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"Bad Key": {"terms": {}}},
        {"absence": "sick"},
        {"absence": {"terms": {"en": "sick"}}},
        {"absence": {"terms": {"en": [""]}}},
        {"absence": {"label": 3, "terms": {}}},
    ],
)
def test_p8_a_malformed_extension_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_extra(bad)
