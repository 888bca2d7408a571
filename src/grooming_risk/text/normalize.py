"""Undo the tricks people use to slip past filters, before a message is encoded.

"s n a p", "sn4pch4t", "t.e.l.e.g.r.a.m", zero-width joiners, Cyrillic look-alikes and full-width
letters all mean the same thing to a child reading them; the encoder should see them the same way.
Emoji are folded too: every run of them becomes one neutral face, so "see u at 6 😂" and "see u
at 6 😅" reach the model as the same text. Emoji set the tone of a message, but the warning signs this
project scores are behaviours written in words (asking an age, asking for secrecy, moving apps); a
model left to read emoji learns whichever ones the training chats happened to sprinkle, and a swap
moved the score of an ordinary chat by 0.07 (tests/model/test_behaviour.py). The cost: a request made
by emoji alone ("📸?") loses its object; the words and the conversation around it still count.
The original text is kept for display: reviewers need to see what was actually written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import emoji

# Zero-width and other invisible format characters used to split words.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)
# Variation selectors choose emoji or text style ("❤️"): removed, but not a sign of evasion.
_VARIATION = re.compile("[\ufe00-\ufe0f]")
_CONTROL = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]")

# Bumped whenever `normalize` changes what the encoder sees: an artifact records the version it was
# trained with (model/artifact.py), and loading one trained with another version warns.
# 1: evasion tricks undone; 2: emoji folded to one neutral face.
TEXT_PREP_VERSION = 2

EMOJI_PLACEHOLDER = "🙂"
_KEYCAP = re.compile("([0-9#*])\ufe0f?\u20e3")
# Spaces, joiners and style selectors left between two emoji belong to the run.
_PLACEHOLDER_RUN = re.compile(f"{EMOJI_PLACEHOLDER}(?:[\\s\u200d\ufe0f]*{EMOJI_PLACEHOLDER})*")

# Look-alike letters from other scripts folded to the Latin letter they imitate.
# fmt: off
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
        "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
        "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
        "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
        "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    }
)
# fmt: on

_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
    }
)

# Names worth recovering from leetspeak: apps people are moved to, and a few words of the trade.
APP_LEXICON = frozenset(
    {
        "snap",
        "snapchat",
        "discord",
        "telegram",
        "whatsapp",
        "kik",
        "signal",
        "instagram",
        "insta",
        "skype",
        "wickr",
        "session",
        "threema",
        "line",
        "viber",
        "wechat",
        "facetime",
        "tiktok",
        "messenger",
        "facebook",
        "twitch",
        "steam",
        "roblox",
        "minecraft",
        "fortnite",
        "zoom",
        "omegle",
        "teams",
        "imessage",
        "dm",
        "dms",
        "number",
        "phone",
        "private",
        "secret",
        "robux",
        "vbucks",
        "giftcard",
        "paypal",
        "venmo",
        "cashapp",
        "bitcoin",
        "crypto",
        "address",
    }
)

# Three or more single letters separated by the same spacer: "s n a p", "t.e.l.e.g.r.a.m", "k_i_k".
_SPACED = re.compile(r"(?<![\w])((?:[^\W\d_][ .\-_*/]){2,}[^\W\d_])(?![\w])")
_TOKEN = re.compile(r"[\w@$!|]+", re.UNICODE)


@dataclass(frozen=True)
class NormalizedText:
    text: str
    obfuscated: bool


def _despace(match: re.Match[str]) -> str:
    joined = re.sub(r"[ .\-_*/]", "", match.group(1))
    # Three spaced letters are usually slang ("y r u", "o m g"), not a hidden word.
    if len(joined) >= 4 or joined.lower() in APP_LEXICON:
        return joined
    return match.group(1)


def _unleet(match: re.Match[str]) -> str:
    token = match.group(0)
    has_alpha = any(ch.isalpha() for ch in token)
    has_trick = any(ch.isdigit() or ch in "@$!|" for ch in token)
    if not (has_alpha and has_trick):
        return token
    folded = token.lower().translate(_LEET)
    return folded if folded in APP_LEXICON else token


def fold_emoji(text: str) -> str:
    """Every run of emoji (skin tones and flags included) as one neutral face; keycap digits
    ("1️⃣3️⃣") as the digits they show, since they spell ages and numbers."""
    if text.isascii():  # most chat lines: no emoji possible, skip the table lookup
        return text
    marked = emoji.replace_emoji(_KEYCAP.sub(r"\1", text), replace=EMOJI_PLACEHOLDER)
    return _PLACEHOLDER_RUN.sub(EMOJI_PLACEHOLDER, marked)


@lru_cache(maxsize=65536)
def normalize(text: str) -> NormalizedText:
    """NFKC, invisible characters removed, look-alikes folded, spaced and leet app names joined,
    emoji folded.

    `obfuscated` is True when any evasion trick beyond Unicode compatibility forms was undone,
    which is itself a weak warning sign and is given to the model as a feature.
    """
    step = unicodedata.normalize("NFKC", text)
    # Before invisible characters go: the joiner inside "👨‍👩‍👧" is part of the emoji, not a trick.
    step = _VARIATION.sub("", fold_emoji(_CONTROL.sub(" ", step)))
    no_invisible = _INVISIBLE.sub("", step)
    folded = no_invisible.translate(_HOMOGLYPHS)
    joined = _SPACED.sub(_despace, folded)
    unleeted = _TOKEN.sub(_unleet, joined)
    cleaned = re.sub(r"\s+", " ", unleeted).strip()
    obfuscated = no_invisible != step or folded != no_invisible or joined != folded or unleeted != joined
    return NormalizedText(cleaned, obfuscated)
