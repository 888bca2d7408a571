"""How people actually type: per-person style, typos, slang, emoji, and filter evasion.

Each participant gets a `Style` once, so a conversation has consistent voices (one person never
capitalises, another loves emoji). Obfuscated app names ("s n a p", "sn4pch4t", zero-width
characters) are mostly used by offenders pushing to another app, but friends do it too now and
then, so obfuscation is a hint rather than a label.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from grooming_risk.data.blocklist import BLOCKLIST_RE

ZERO_WIDTH: tuple[str, ...] = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")

EMOJI: tuple[str, ...] = (
    "😂",
    "😭",
    "💀",
    "🙏",
    "😅",
    "😊",
    "🙂",
    "❤️",
    "🔥",
    "👀",
    "😳",
    "🥺",
    "😡",
    "👍",
    "🎮",
    "⚽",
    "🎵",
    "😴",
    "🤣",
    "✨",
    "😬",
    "🙄",
    "😎",
    "🤔",
    "😤",
    "💯",
    "🥲",
    "😆",
    "🤷",
    "👋",
)

# Substitutions applied whole-word; each fires with the style's slang probability.
_SLANG: dict[str, tuple[str, ...]] = {
    "you": ("u", "u", "ya"),
    "your": ("ur", "ur", "yr"),
    "you're": ("ur", "youre", "u r"),
    "are": ("r",),
    "because": ("cuz", "bc", "cos"),
    "okay": ("ok", "k", "kk"),
    "ok": ("k", "kk", "okk"),
    "please": ("pls", "plz", "pleaseee"),
    "people": ("ppl",),
    "really": ("rly", "realy"),
    "tomorrow": ("tmrw", "tmr", "2moro"),
    "tonight": ("tn", "2nite"),
    "what": ("wat", "wut", "wht"),
    "going to": ("gonna",),
    "want to": ("wanna",),
    "got to": ("gotta",),
    "don't know": ("dunno", "idk"),
    "i don't know": ("idk",),
    "to be honest": ("tbh",),
    "right now": ("rn",),
    "thanks": ("thx", "ty", "tysm"),
    "thank you": ("ty", "thank u"),
    "love": ("luv",),
    "about": ("abt", "bout"),
    "probably": ("prob", "prolly"),
    "something": ("smth", "sth"),
    "though": ("tho",),
    "with": ("w",),
    "why": ("y",),
    "see you": ("cya", "c u"),
    "be right back": ("brb",),
    "oh my god": ("omg",),
    "for real": ("fr",),
    "i'm": ("im", "Im"),
    "don't": ("dont", "dnt"),
    "can't": ("cant",),
    "that's": ("thats",),
    "it's": ("its",),
    "what's": ("whats", "wats"),
}
_SLANG_RE = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(_SLANG, key=len, reverse=True)) + r")\b", re.IGNORECASE
)
_ELONGATE = {
    "so": "sooo",
    "hey": "heyyy",
    "hi": "hiii",
    "no": "nooo",
    "yes": "yesss",
    "please": "pleaseee",
    "omg": "omgggg",
    "lol": "lolll",
    "ok": "okkk",
    "why": "whyyy",
}
_ELONGATE_RE = re.compile(r"\b(" + "|".join(_ELONGATE) + r")\b")
_WORD = re.compile(r"[A-Za-z]{4,}")
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_HOMOGLYPH = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і"}


@dataclass(frozen=True)
class Style:
    """One person's typing habits; probabilities per message (typo: per word)."""

    lowercase: bool
    drop_punct: float
    typo: float
    slang: float
    emoji: float
    elongate: float
    zero_width: float

    @classmethod
    def draw(cls, rng: random.Random, scale: float = 1.0, adult: bool = False) -> Style:
        # Adults in family/coach threads write more carefully on average; some kids do too.
        careful = rng.random() < (0.6 if adult else 0.2)
        if careful:
            return cls(
                lowercase=rng.random() < 0.15,
                drop_punct=0.2 * scale,
                typo=0.005 * scale,
                slang=0.03 * scale,
                emoji=0.08 * scale,
                elongate=0.0,
                zero_width=0.002 * scale,
            )
        return cls(
            lowercase=rng.random() < 0.75,
            drop_punct=rng.uniform(0.3, 0.9) * scale,
            typo=rng.uniform(0.0, 0.05) * scale,
            slang=rng.uniform(0.1, 0.7) * scale,
            emoji=rng.uniform(0.0, 0.3) * scale,
            elongate=rng.uniform(0.0, 0.3) * scale,
            zero_width=0.004 * scale,
        )


QUIET = Style(lowercase=False, drop_punct=0.0, typo=0.0, slang=0.0, emoji=0.0, elongate=0.0, zero_width=0.0)


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swap neighbours
    if kind < 0.7:
        return word[:i] + word[i + 1 :]  # drop a letter
    return word[:i] + word[i] + word[i:]  # double a letter


def apply_style(text: str, style: Style, rng: random.Random) -> str:
    """Rewrite a clean message the way this person would type it."""
    if style.slang and rng.random() < style.slang:

        def slang(match: re.Match[str]) -> str:
            if rng.random() < 0.6:
                return rng.choice(_SLANG[match.group(0).lower()])
            return match.group(0)

        text = _SLANG_RE.sub(slang, text)
    if style.typo:

        def typo(match: re.Match[str]) -> str:
            word = match.group(0)
            return _typo(word, rng) if rng.random() < style.typo else word

        typed = _WORD.sub(typo, text)
        # A dropped or swapped letter can spell a blocked word in some language ("neue" -> "nue"):
        # the generator must never write one, so such a message keeps its spelling.
        if not BLOCKLIST_RE.search(typed) or BLOCKLIST_RE.search(text):
            text = typed
    if style.elongate and rng.random() < style.elongate:
        text = _ELONGATE_RE.sub(lambda m: _ELONGATE[m.group(0)], text, count=1)
    if style.lowercase:
        text = text.lower()
    elif text[:1].isalpha():
        text = text[0].upper() + text[1:]
    if style.drop_punct and rng.random() < style.drop_punct:
        text = text.rstrip(".!")
        if rng.random() < 0.5:
            text = text.replace(",", "")
    if style.emoji and rng.random() < style.emoji:
        text = text + " " + rng.choice(EMOJI) * (1 + int(rng.random() < 0.2))
    if style.zero_width and rng.random() < style.zero_width:
        text = insert_zero_width(text, rng)
    return text or "ok"


def insert_zero_width(text: str, rng: random.Random) -> str:
    words = list(_WORD.finditer(text))
    if not words:
        return text
    m = rng.choice(words)
    cut = m.start() + rng.randrange(1, len(m.group(0)))
    return text[:cut] + rng.choice(ZERO_WIDTH) + text[cut:]


def obfuscate(name: str, rng: random.Random) -> str:
    """Disguise an app name the ways people dodge chat filters."""
    letters = name.replace(" ", "")
    if len(letters) < 2:
        return name
    disguised = _obfuscate(letters, rng)
    return disguised if disguised != letters else " ".join(letters)


def _obfuscate(letters: str, rng: random.Random) -> str:
    kind = rng.randrange(7)
    if kind == 0:
        return " ".join(letters)  # s n a p
    if kind == 1:
        return rng.choice(".-_*").join(letters)  # t.e.l.e.g.r.a.m
    if kind == 2:
        return "".join(_LEET[c] if c in _LEET and rng.random() < 0.7 else c for c in letters)  # sn4pch4t
    if kind == 3:
        cut = rng.randrange(1, len(letters))
        return letters[:cut] + rng.choice(ZERO_WIDTH) + letters[cut:]
    if kind == 4:
        return "".join(_HOMOGLYPH.get(c, c) if rng.random() < 0.5 else c for c in letters)
    if kind == 5:
        return " ".join(letters).upper()
    return letters[0] + "".join(rng.choice(("*", ".", "")) + c for c in letters[1:])
