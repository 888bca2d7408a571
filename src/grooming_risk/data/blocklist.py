"""Terms that must never appear in this project's data, and a scanner that proves they don't.

The project expresses risk only through behavioural warning signs; it holds no sexual content.
This module names the forbidden terms so that tests can scan generated corpora and phrase banks
(this file is the one place they are written). Matching is whole-word and case-insensitive, on
the raw text, on the normalised text (zero-width characters, look-alike letters and spaced-out
words undone) and on a leetspeak-folded form, so "S E X", "s3xy" or a zero-width split word is
caught too.

Hits carry the term, where it was found and ids, never the surrounding text, so a failing test
or log line does not repeat data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from grooming_risk.contract.conversation import Conversation
from grooming_risk.text.normalize import normalize

# The list from the project's ground rules, with the inflections a generator could produce, in every
# language the generator writes (en, es, fr, de). A term is listed once per language where it is
# spelled differently; a shared spelling ("porno", "vagina") needs no second entry.
BLOCKED_TERMS_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "en": (
        "sex",
        "sexy",
        "sexual",
        "naked",
        "nude",
        "nudes",
        "porn",
        "horny",
        "boobs",
        "breasts",
        "penis",
        "vagina",
        "genitals",
        "orgasm",
        "masturbat*",
        "erotic",
        "lingerie",
        "undress",
        "topless",
    ),
    "es": (
        "sexo",
        "sexuales",
        "desnudo",
        "desnuda",
        "desnudos",
        "porno",
        "pornografía",
        "tetas",
        "pechos",
        "pene",
        "genitales",
        "orgasmo",
        "masturbarse",
        "erótico",
        "lencería",
        "bragas",
        "cachondo",
        "caliente",
    ),
    "fr": (
        "sexe",
        "sexuel",
        "sexuelle",
        "nue",
        "nues",
        "pornographie",
        "seins",
        "pénis",
        "vagin",
        "génitaux",
        "orgasme",
        "érotique",
        "déshabiller",
        "soutien-gorge",
        "culotte",
    ),
    "de": (
        "sexuell",
        "nackt",
        "nacktbilder",
        "geil",
        "brüste",
        "titten",
        "genitalien",
        "orgasmus",
        "masturbieren",
        "erotisch",
        "dessous",
        "unterwäsche",
        "ausziehen",
    ),
}
BLOCKED_TERMS: tuple[str, ...] = BLOCKED_TERMS_BY_LANGUAGE["en"]
BLOCKLIST_LANGUAGES: tuple[str, ...] = tuple(BLOCKED_TERMS_BY_LANGUAGE)

_PATTERN_SOURCE = (
    r"\b(?:"
    # en
    r"sex|sexy|sexual(?:ly|ity)?|"
    r"naked|nudes?|nudity|"
    r"porn\w*|horny|"
    r"boobs?|breasts?|"
    r"penis(?:es)?|vaginas?|genital(?:s|ia)?|"
    r"orgasm\w*|masturbat\w*|erotic\w*|"
    r"lingerie|undress\w*|topless|"
    # es
    r"sexo|sexuales|desnud[oa]s?|desnudarse|pornograf[ií]a|tetas?|pechos|pene|genitales|"
    r"orgasmos?|masturb\w*|er[oó]tic[oa]s?|lencer[ií]a|bragas|cachond[oa]s?|caliente|"
    # fr
    r"sexe|sexuel(?:le)?s?|nues?|pornographie|seins?|p[ée]nis|vagin|g[ée]nitaux|orgasme|"
    r"[ée]rotiques?|d[ée]shabill\w*|soutien-gorge|culottes?|"
    # de
    r"sexuell\w*|nackt\w*|geil\w*|br[üu]ste?|titten|genitalien|orgasmus|erotisch\w*|"
    r"dessous|unterw[äa]sche|ausziehen|ausgezogen"
    r")\b"
)
BLOCKLIST_RE = re.compile(_PATTERN_SOURCE, re.IGNORECASE)

# Non-explicit phrasings that still sexualise an image request or a child; the generator must
# not produce them either ("what are you wearing" is the ground rules' own example).
SUGGESTIVE_PHRASES_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "en": (
        "what are you wearing",
        "what r u wearing",
        "what you're wearing",
        "what you are wearing",
        "your outfit",
        "school uniform",
        "underwear",
        "bikini",
        "swimsuit",
        "in the shower",
        "in bed",
        "take off your",
        "your body",
    ),
    "es": (
        "qué llevas puesto",
        "que llevas puesto",
        "tu cuerpo",
        "en la cama",
        "en la ducha",
        "ropa interior",
    ),
    "fr": ("ce que tu portes", "ton corps", "dans ton lit", "sous la douche", "sous-vêtements"),
    "de": ("was hast du an", "deinen körper", "dein körper", "im bett", "unter der dusche", "oben ohne"),
}
SUGGESTIVE_PHRASES: tuple[str, ...] = tuple(
    phrase for phrases in SUGGESTIVE_PHRASES_BY_LANGUAGE.values() for phrase in phrases
)
SUGGESTIVE_RE = re.compile(
    r"\b(?:" + "|".join(re.escape(p) for p in SUGGESTIVE_PHRASES) + r")\b", re.IGNORECASE
)

_LEET_FOLD = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}
)


@dataclass(frozen=True)
class BlocklistHit:
    """One forbidden term found. `index` is the text's position in the scanned iterable."""

    term: str
    form: str  # "raw", "normalized", "leet-folded" or "despaced": which view of the text matched
    index: int
    conversation_id: str | None = None
    message_index: int | None = None

    def __str__(self) -> str:
        where = f"text {self.index}"
        if self.conversation_id is not None:
            where = f"conversation {self.conversation_id!r} message {self.message_index}"
        return f"{where}: blocked term {self.term!r} ({self.form} text)"


_SPACED_LETTERS = re.compile(r"(?<!\w)(?:[^\W\d_][ .\-_*/]){2,}[^\W\d_](?!\w)")


def _views(text: str) -> Iterable[tuple[str, str]]:
    yield "raw", text
    normalized = normalize(text).text
    yield "normalized", normalized
    yield "leet-folded", normalized.lower().translate(_LEET_FOLD)
    # Stricter than the encoder's normalisation: any run of spaced single letters is joined, even
    # three ("s e x"), because a miss here ships forbidden content.
    yield "despaced", _SPACED_LETTERS.sub(lambda m: re.sub(r"[ .\-_*/]", "", m.group(0)), normalized)


def find_terms(text: str) -> list[tuple[str, str]]:
    """(term, form) for every forbidden term or suggestive phrase in any view of the text."""
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for form, view in _views(text):
        for regex in (BLOCKLIST_RE, SUGGESTIVE_RE):
            for match in regex.finditer(view):
                term = match.group(0).lower()
                if term not in seen:
                    seen.add(term)
                    found.append((term, form))
    return found


def is_clean(text: str) -> bool:
    return not find_terms(text)


def scan_texts(texts: Iterable[str]) -> list[BlocklistHit]:
    """Every forbidden term in every text, with the text's position."""
    hits: list[BlocklistHit] = []
    for index, text in enumerate(texts):
        for term, form in find_terms(text):
            hits.append(BlocklistHit(term, form, index))
    return hits


def scan_conversations(conversations: Iterable[Conversation]) -> list[BlocklistHit]:
    """Every forbidden term in every message, located by conversation id and message index."""
    hits: list[BlocklistHit] = []
    index = 0
    for conversation in conversations:
        for message_index, message in enumerate(conversation.messages):
            for term, form in find_terms(message.text):
                hits.append(BlocklistHit(term, form, index, conversation.conversation_id, message_index))
            index += 1
    return hits
