"""The policy file: every shipped file loads, the safety-critical actions are there in every country,
overrides replace / add / remove by id, and a bad file says which file and field in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.data.blocklist import scan_texts
from grooming_risk.policy import (
    AUDIENCES,
    DEFAULT_POLICY,
    Policy,
    PolicyError,
    available_countries,
    load_policy,
    read_policy_file,
)

ROOT = Path(__file__).resolve().parents[2]
POLICY_DIR = ROOT / "configs" / "policy"
BASE = ROOT / DEFAULT_POLICY
EXAMPLE = POLICY_DIR / "examples" / "platform-override.yaml"
SHIPPED_YAML = sorted(POLICY_DIR.rglob("*.yaml"))
REQUIRED_COUNTRIES = {"US", "GB", "CA", "AU", "NZ", "DE", "FR", "ES"}
ALL_POLICIES: list[str | None] = [None, *sorted(REQUIRED_COUNTRIES)]

# Ids of the slots that must be filled for the most serious cases, whatever the country.
URGENT_GROOMING_IDS = {
    "platform.preserve_evidence",
    "platform.restrict_minor_contact",
    "platform.report_hotline",
    "platform.block_reregistration",
    "platform.hold_account",
    "platform.escalate_now",
}
SEXTORTION_CHILD_IDS = {
    "child.image_removal",
    "child.not_in_trouble",
    "child.do_not_pay",
    "child.stop_and_keep",
}


def assessment(
    label: str = "grooming",
    *,
    flagged: bool = True,
    urgent: bool = False,
    present: tuple[str, ...] = (),
    risk: float | None = None,
) -> Assessment:
    if risk is None:
        risk = 0.95 if urgent else 0.7 if flagged else 0.05
    return Assessment(
        conversation_id="c1",
        risk=risk,
        label=label,
        flagged=flagged,
        urgent=urgent,
        categories={c: (0.9 if c in present else 0.05) for c in RISK_CATEGORIES},
        categories_present=list(present),
        model_version="test",
    )


def ids(actions: list[Any]) -> list[str]:
    return [a.id for a in actions]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- shipped files ------------------------------------------------------------------------------


def test_shipped_files_are_the_expected_kinds() -> None:
    kinds = {
        p.relative_to(POLICY_DIR).parts[0] if len(p.relative_to(POLICY_DIR).parts) > 1 else p.name
        for p in SHIPPED_YAML
    }
    # A yaml dropped anywhere else would not be loaded by anything: make that a failure.
    assert kinds <= {"default.yaml", "countries", "examples"}
    assert BASE in SHIPPED_YAML
    assert EXAMPLE in SHIPPED_YAML
    assert set(available_countries(BASE)) >= REQUIRED_COUNTRIES


@pytest.mark.parametrize("path", SHIPPED_YAML, ids=lambda p: str(p.relative_to(POLICY_DIR)))
def test_every_shipped_file_validates_and_loads(path: Path) -> None:
    parsed = read_policy_file(path)
    assert parsed.rules or parsed.remove
    relative = path.relative_to(POLICY_DIR)
    if relative.parts[0] == "countries":
        assert parsed.country == path.stem.upper()
        policy = load_policy(BASE, country=path.stem)
        assert policy.files == (str(BASE), str(path))
    elif relative.parts[0] == "examples":
        policy = load_policy(BASE, overrides=[path])
        for country in sorted(REQUIRED_COUNTRIES):
            load_policy(BASE, country=country, overrides=[path])
    else:
        policy = load_policy(path)
    assert len({r.id for r in policy.rules}) == len(policy.rules)


def test_default_path_is_relative_to_the_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert load_policy().files == (str(DEFAULT_POLICY),)
    assert load_policy(country="us").files[-1] == str(DEFAULT_POLICY.parent / "countries" / "us.yaml")


@pytest.mark.parametrize("path", SHIPPED_YAML, ids=lambda p: str(p.relative_to(POLICY_DIR)))
def test_every_url_is_https_with_a_source_note(path: Path) -> None:
    for rule in read_policy_file(path).rules:
        assert rule.title == rule.title.strip(), rule.id
        assert len(rule.title) <= 100, rule.id
        if rule.url is not None:
            assert rule.url.startswith("https://"), rule.id
            assert rule.source is not None, rule.id
            assert len(rule.source.split()) >= 4, rule.id


def test_shipped_policy_text_passes_the_blocklist() -> None:
    # Every line of every shipped file, comments included, and each title and source on its own
    # (a folded YAML string spans lines).
    texts: list[str] = []
    for path in [*SHIPPED_YAML, POLICY_DIR / "README.md"]:
        texts.extend(path.read_text(encoding="utf-8").splitlines())
    for path in SHIPPED_YAML:
        for rule in read_policy_file(path).rules:
            texts.extend([rule.title, rule.source or "", rule.url or ""])
    assert len(texts) > 500
    hits = scan_texts(texts)
    assert not hits, [str(h) for h in hits[:20]]


# --- what each case gets, in every country ------------------------------------------------------


@pytest.fixture(scope="module", params=ALL_POLICIES, ids=lambda c: c or "international")
def policy(request: pytest.FixtureRequest) -> Policy:
    return load_policy(BASE, country=request.param)


def test_benign_unflagged_gets_nothing(policy: Policy) -> None:
    assert policy.actions_for(assessment("benign", flagged=False)) == []
    assert policy.actions_for(assessment("benign", flagged=False, present=("meeting_request",))) == []


def test_urgent_sextortion_gets_image_removal_and_not_in_trouble_guidance(policy: Policy) -> None:
    actions = policy.actions_for(
        assessment("sextortion", urgent=True, present=("threat_coercion", "financial_demand"))
    )
    by_id = {a.id: a for a in actions}
    assert set(by_id) >= SEXTORTION_CHILD_IDS | {"caregiver.do_not_pay", "caregiver.image_removal"}
    removal = by_id["child.image_removal"]
    assert removal.audience == "child"
    assert removal.url is not None
    assert removal.url.startswith("https://")
    assert "not in trouble" in by_id["child.not_in_trouble"].title.lower()
    assert "do not pay" in by_id["child.do_not_pay"].title.lower()
    assert "keep the messages" in by_id["child.stop_and_keep"].title.lower()
    assert "trusted adult" in by_id["child.tell_trusted_adult"].title.lower()
    # A child-facing help line and a reporting route, with a link.
    assert by_id["child.helpline"].url
    assert by_id["child.report"].url


def test_sextortion_signs_under_another_label_still_get_the_guidance(policy: Policy) -> None:
    found = ids(policy.actions_for(assessment("grooming", present=("financial_demand",))))
    assert {"child.do_not_pay", "child.stop_and_keep"} <= set(found)
    found = ids(policy.actions_for(assessment("grooming", present=("image_request",))))
    assert "child.image_removal" in found


def test_urgent_grooming_gets_the_platform_steps(policy: Policy) -> None:
    actions = policy.actions_for(assessment("grooming", urgent=True, present=("secrecy", "meeting_request")))
    found = ids(actions)
    assert set(found) >= URGENT_GROOMING_IDS | {"platform.notify_ts_lead", "platform.meeting_police"}
    assert "child.emergency" in found
    assert "caregiver.emergency" in found
    report = next(a for a in actions if a.id == "platform.report_hotline")
    assert report.url is not None
    # Sextortion-only guidance is not shown for a grooming case without those signs.
    assert "child.do_not_pay" not in found


def test_flagged_not_urgent_is_restricted_and_reviewed_but_not_suspended(policy: Policy) -> None:
    found = ids(policy.actions_for(assessment("grooming", present=("age_probing",))))
    assert {"platform.restrict_minor_contact", "platform.preserve_evidence"} <= set(found)
    assert {
        "reviewer.check_sender_history",
        "reviewer.decide_and_record",
        "reviewer.report_if_confirmed",
    } <= set(found)
    assert not {"platform.hold_account", "platform.escalate_now", "platform.report_hotline"} & set(found)


def test_order_is_by_audience_then_file_order_without_duplicates(policy: Policy) -> None:
    actions = policy.actions_for(assessment("sextortion", urgent=True, present=tuple(RISK_CATEGORIES)))
    audiences = [a.audience for a in actions]
    assert audiences == sorted(audiences, key=AUDIENCES.index)
    assert set(audiences) == set(AUDIENCES)
    assert len(ids(actions)) == len(set(ids(actions)))
    position = {rule.id: i for i, rule in enumerate(policy.rules)}
    for audience in AUDIENCES:
        in_audience = [position[a.id] for a in actions if a.audience == audience]
        assert in_audience == sorted(in_audience)
    # The same input, the same answer.
    assert actions == policy.actions_for(
        assessment("sextortion", urgent=True, present=tuple(RISK_CATEGORIES))
    )


def test_country_entries_replace_the_international_slots_in_place() -> None:
    international = load_policy(BASE)
    for country in sorted(REQUIRED_COUNTRIES):
        national = load_policy(BASE, country=country)
        position = [r.id for r in national.rules]
        # Every international id is still there, in the same relative order.
        kept = [i for i in position if international.rule(i) is not None]
        assert kept == [r.id for r in international.rules], country
        assert national.rule("platform.report_hotline") != international.rule("platform.report_hotline"), (
            country
        )
        assert national.rule("child.helpline") != international.rule("child.helpline"), country
        assert national.country == country


def test_country_codes_are_case_insensitive_and_unknown_ones_get_the_defaults() -> None:
    assert load_policy(BASE, country="gb").rules == load_policy(BASE, country="GB").rules
    assert load_policy(BASE, country="UK").rules == load_policy(BASE, country="GB").rules
    unknown = load_policy(BASE, country="jp")
    assert unknown.rules == load_policy(BASE).rules
    assert unknown.country == "JP"
    assert unknown.files == (str(BASE),)
    for bad in ("GBR", "g", "1a", ""):
        with pytest.raises(PolicyError, match="ISO 3166-1 alpha-2"):
            load_policy(BASE, country=bad)


def test_gb_sextortion_gets_report_remove() -> None:
    actions = load_policy(BASE, country="GB").actions_for(assessment("sextortion", urgent=True))
    removal = next(a for a in actions if a.id == "child.image_removal")
    assert "Report Remove" in removal.title
    assert removal.url == "https://www.childline.org.uk/"


def test_example_override_replaces_adds_and_removes() -> None:
    base = load_policy(BASE, country="GB")
    policy = load_policy(BASE, country="GB", overrides=[EXAMPLE])
    case = assessment("sextortion", urgent=True, present=("threat_coercion",))
    before, after = base.actions_for(case), policy.actions_for(case)
    assert "reviewer.correct_signs" in ids(before)
    assert "reviewer.correct_signs" not in ids(after)
    assert {"platform.open_case", "child.in_app_safety"} <= set(ids(after))
    escalate = next(a for a in after if a.id == "platform.escalate_now")
    assert "on-call" in escalate.title
    assert escalate.title != next(a for a in before if a.id == escalate.id).title
    assert ids(after)[0] == "platform.escalate_now"  # replaced in place: still first


# --- merge semantics on small hand-written files ------------------------------------------------

SMALL_BASE = """
version: 1
rules:
  - {id: p.one, audience: platform, title: One}
  - {id: c.two, audience: child, title: Two, url: "https://example.org/", source: Example org; stated on its site.}
  - {id: r.three, audience: reviewer, title: Three}
  - {id: p.four, audience: platform, title: Four, when: {urgent: true}}
"""


def test_overrides_replace_add_and_remove_by_id_in_order(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", SMALL_BASE)
    first = write(
        tmp_path,
        "first.yaml",
        """
remove: [r.three, not.there]
rules:
  - {id: p.one, audience: platform, title: One replaced}
  - {id: c.new, audience: child, title: New}
""",
    )
    second = write(
        tmp_path,
        "second.yaml",
        """
remove: [c.new]
rules:
  - {id: r.three, audience: reviewer, title: Three again}
  - {id: c.new, audience: caregiver, title: New moved}
""",
    )
    policy = load_policy(base, overrides=[first, second])
    assert [(r.id, r.title) for r in policy.rules] == [
        ("p.one", "One replaced"),
        ("c.two", "Two"),
        ("p.four", "Four"),
        ("r.three", "Three again"),
        ("c.new", "New moved"),
    ]
    actions = policy.actions_for(assessment(urgent=True))
    assert ids(actions) == ["p.one", "p.four", "r.three", "c.two", "c.new"]
    assert actions[3].url == "https://example.org/"
    assert set(actions[0].model_dump()) == {"id", "audience", "title", "url"}
    # Order of overrides matters: the other way round, the first file's removal comes last.
    reversed_policy = load_policy(base, overrides=[second, first])
    assert reversed_policy.rule("r.three") is None
    moved_back = reversed_policy.rule("c.new")
    assert moved_back is not None
    assert moved_back.audience == "child"


def test_an_override_can_remove_everything(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", SMALL_BASE)
    empty = write(tmp_path, "empty.yaml", "remove: [p.one, c.two, r.three, p.four]\n")
    policy = load_policy(base, overrides=[empty])
    assert policy.rules == ()
    assert policy.actions_for(assessment(urgent=True)) == []


def test_conditions(tmp_path: Path) -> None:
    base = write(
        tmp_path,
        "base.yaml",
        """
rules:
  - {id: a.flagged, audience: platform, title: Flagged by default}
  - {id: a.either, audience: platform, title: Either, when: {flagged: null}}
  - {id: a.unflagged, audience: platform, title: Unflagged only, when: {flagged: false}}
  - {id: a.sext, audience: platform, title: Sextortion, when: {labels: [sextortion]}}
  - {id: a.calm, audience: platform, title: Not urgent, when: {urgent: false}}
  - {id: a.any, audience: platform, title: Any of, when: {any_categories: [secrecy, isolation]}}
  - {id: a.all, audience: platform, title: All of, when: {all_categories: [secrecy, isolation]}}
  - id: a.or
    audience: platform
    title: Or
    when: [{labels: [sextortion]}, {any_categories: [financial_demand]}]
""",
    )
    policy = load_policy(base)
    assert ids(policy.actions_for(assessment("grooming", present=("secrecy",)))) == [
        "a.flagged",
        "a.either",
        "a.calm",
        "a.any",
    ]
    assert ids(policy.actions_for(assessment("grooming", flagged=False))) == [
        "a.either",
        "a.unflagged",
    ]
    assert ids(
        policy.actions_for(assessment("sextortion", urgent=True, present=("secrecy", "isolation")))
    ) == [
        "a.flagged",
        "a.either",
        "a.sext",
        "a.any",
        "a.all",
        "a.or",
    ]
    assert "a.or" in ids(policy.actions_for(assessment("grooming", present=("financial_demand",))))
    # An urgent assessment counts as flagged even if a caller forgot to set flagged.
    assert "a.flagged" in ids(policy.actions_for(assessment("grooming", flagged=False, urgent=True)))
    # Benign and unflagged: nothing, even for rules that ask for unflagged assessments.
    assert policy.actions_for(assessment("benign", flagged=False)) == []
    assert "a.flagged" in ids(policy.actions_for(assessment("benign", flagged=True)))


# --- errors: one line, naming the file and the field --------------------------------------------

RULE = "  - {id: x.one, audience: platform, title: Fine}\n"


@pytest.mark.parametrize(
    ("body", "field", "expected"),
    [
        (
            "rules:\n"
            + RULE
            + RULE.replace("x.one", "x.two")
            + "  - {id: x.three, audience: parent, title: T}\n",
            "rules[2].audience",
            "expected one of platform, reviewer, child, caregiver",
        ),
        (
            "rules:\n  - {id: x.one, audience: child, title: T, colour: red}\n",
            "rules[0].colour",
            "unknown key",
        ),
        ("rulez: []\n", "rulez", "unknown key; expected one of version, country, rules, remove"),
        (
            "rules:\n  - {id: x.one, audience: child, title: T, when: {urgnt: true}}\n",
            "rules[0].when.urgnt",
            "unknown key; expected one of labels, flagged, urgent, any_categories, all_categories",
        ),
        (
            "rules:\n  - {id: x.one, audience: child, title: T, url: 'https://www.inhope.org/'}\n",
            "rules[0].source",
            "required for an entry with a url",
        ),
        (
            "rules:\n  - {id: x.one, audience: child, title: T, url: 'http://www.inhope.org/', source: S}\n",
            "rules[0].url",
            "expected an https:// URL (got 'http://www.inhope.org/')",
        ),
        (
            "rules:\n"
            + RULE
            + "  - {id: x.two, audience: child, title: T, when: {any_categories: [nudging]}}\n",
            "rules[1].when.any_categories[0]",
            "expected a warning sign, one of age_probing, flattery_trust, secrecy, isolation, gifts_offers, "
            "platform_migration, image_request, meeting_request, threat_coercion, financial_demand (got 'nudging')",
        ),
        (
            "rules:\n  - id: x.one\n    audience: child\n    title: T\n"
            "    when: [{urgent: true}, {labels: [grooming, scary]}]\n",
            "rules[0].when[1].labels[1]",
            "expected one of grooming, sextortion, benign",
        ),
        (
            "rules:\n  - {id: x.one, audience: child, title: T, when: {labels: []}}\n",
            "rules[0].when.labels",
            "at least one",
        ),
        ("rules:\n  - {id: X One, audience: child, title: T}\n", "rules[0].id", "expected lowercase letters"),
        ("rules:\n  - {id: x.one, audience: child}\n", "rules[0].title", "required key missing"),
        (
            "rules:\n  - {id: x.one, audience: child, title: T, when: {urgent: sometimes}}\n",
            "rules[0].when.urgent",
            "expected a valid boolean",
        ),
        ("rules:\n" + RULE + RULE, "rules[1].id", "expected a unique id, 'x.one' is already rules[0]"),
        ("version: 2\n" + "rules:\n" + RULE, "version", "expected one of 1"),
        ("remove: [Bad Id]\n", "remove", "expected lowercase letters"),
        ("- just\n- a list\n", "(top level)", "expected a mapping"),
        ("rules:\n  - {id: x.one, audience: child, title: T\n", "line ", "invalid YAML"),
        (
            "rules:\n  - id: x.one\n    audience: child\n    audience: platform\n    title: T\n",
            "line 4",
            "duplicate key 'audience'",
        ),
    ],
)
def test_bad_override_is_one_line_naming_file_and_field(
    tmp_path: Path, body: str, field: str, expected: str
) -> None:
    base = write(tmp_path, "base.yaml", SMALL_BASE)
    bad = write(tmp_path, "platform/x.yaml", body)
    with pytest.raises(PolicyError) as caught:
        load_policy(base, overrides=[bad])
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{bad}: {field}"), message
    assert expected in message, message
    assert isinstance(caught.value, ValueError)


def test_several_problems_are_counted_on_the_same_line(tmp_path: Path) -> None:
    bad = write(tmp_path, "x.yaml", "rules:\n  - {id: x.one, audience: kid, title: T, colour: red}\n")
    with pytest.raises(PolicyError, match=r"rules\[0\]\.audience: expected one of .* \(and 1 more\)$"):
        read_policy_file(bad)


def test_role_checks(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", SMALL_BASE)
    with pytest.raises(PolicyError, match=r"missing\.yaml: file not found"):
        load_policy(tmp_path / "missing.yaml")
    with pytest.raises(PolicyError, match=r"base\.yaml: remove: expected no removals"):
        load_policy(write(tmp_path, "base.yaml", SMALL_BASE + "remove: [p.one]\n"))
    with pytest.raises(PolicyError, match=r"empty\.yaml: rules: expected at least one rule"):
        load_policy(write(tmp_path, "empty.yaml", "# nothing\n"))
    base = write(tmp_path, "base.yaml", SMALL_BASE)
    wrong = write(tmp_path, "countries/fr.yaml", "country: DE\nrules: []\n")
    with pytest.raises(PolicyError, match=rf"^{wrong}: country: expected 'FR'"):
        load_policy(base, country="fr")
    stray = write(tmp_path, "over.yaml", "country: FR\n")
    with pytest.raises(PolicyError, match=rf"^{stray}: country: expected only in a country file"):
        load_policy(base, overrides=[stray])


def test_shipped_files_round_trip_through_plain_yaml() -> None:
    # No tags, anchors to Python objects or other loader features: any YAML reader can read them.
    for path in SHIPPED_YAML:
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict), path


def test_readme_example_is_the_shipped_example() -> None:
    readme = (POLICY_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Example override", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert yaml.safe_load(block) == yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
