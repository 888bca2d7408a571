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
