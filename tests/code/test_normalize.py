import pytest

from grooming_risk.text.normalize import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("add me on s n a p", "add me on snap"),
        ("my sn4pch4t is below", "my snapchat is below"),
        ("t.e.l.e.g.r.a.m pls", "telegram pls"),
        ("d1sc0rd?", "discord?"),
        ("wh\u200bats\u200bapp", "whatsapp"),
        ("ｓｎａｐ", "snap"),  # full-width letters
        ("сhat on kik", "chat on kik"),  # Cyrillic с
        ("k_i_k me", "kik me"),
    ],
)
def test_evasions_are_undone(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


@pytest.mark.parametrize("raw", ["I am 13 and in grade 8", "gr8 l8r", "see you at 5pm", "lol ok"])
def test_ordinary_text_is_left_alone(raw: str) -> None:
    result = normalize(raw)
    assert result.text == raw
    assert not result.obfuscated


def test_obfuscation_is_flagged_but_nfkc_alone_is_not() -> None:
    assert normalize("s n a p").obfuscated
    assert normalize("wh\u200batsapp").obfuscated
    assert not normalize("ｓｎａｐ").obfuscated


def test_control_characters_and_whitespace_collapse() -> None:
    assert normalize("hi\x00\x07  there\n\n").text == "hi there"


@pytest.mark.parametrize("raw", ["love u ❤️", "y r u like this", "o m g"])
def test_emoji_and_short_slang_are_not_evasion(raw: str) -> None:
    assert not normalize(raw).obfuscated


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("did u do the worksheet 😂", "did u do the worksheet 😅"),
        ("see u at 6 👍", "see u at 6 👍🏽"),  # skin tone
        ("go team 🇩🇪", "go team 🔥🔥🔥"),  # a flag; a run counts once
        ("fam 👨\u200d👩\u200d👧", "fam ❤️"),  # a joined sequence; a style selector
    ],
)
def test_swapping_emoji_does_not_change_what_the_encoder_sees(a: str, b: str) -> None:
    assert normalize(a).text == normalize(b).text
    assert normalize(a).text.endswith(" 🙂")  # the emoji are folded to one face, not dropped


def test_joined_emoji_are_not_evasion_but_joined_words_still_are() -> None:
    assert not normalize("fam 👨\u200d👩\u200d👧").obfuscated
    assert normalize("wh\u200datsapp 😂").obfuscated


def test_keycap_digits_read_as_the_digits_they_show() -> None:
    assert normalize("im 1\ufe0f\u20e33\ufe0f\u20e3 lol").text == "im 13 lol"


def test_text_without_emoji_is_unchanged_by_folding() -> None:
    from grooming_risk.text.normalize import fold_emoji

    for text in ("how old r u", "¿cuántos años tienes?", "wie alt bist du", "see you at 5pm :)"):
        assert fold_emoji(text) == text
