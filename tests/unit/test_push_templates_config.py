"""WECHAT_TEMPLATES (issue 20): message kind → {"id": template id, "data": {the template's keyword: our field}},
checked when the settings load — a configuration WeChat would refuse (47003 on every message of a kind, for ever)
stops the start instead (ConfigurationError), one rule at a time. The old format (kind → bare id: thing1, phrase2,
time3, thing4) still loads."""
from __future__ import annotations

import json

import pytest

from tongxin.config import DEV_TEMPLATE_KEYWORDS, ConfigurationError, load_settings
from tongxin.domain.push import FIELDS, KINDS, LEGACY_KEYWORDS, TEMPLATES, TYPE_FIELDS

PROD = {"TONGXIN_STAGE": "prod", "TOKEN_SECRET": "k" * 40, "CHECKIN_SECRET": "c" * 40, "WECHAT_APPID": "wx123",
        "WECHAT_SECRET": "s" * 32, "QR_LINK_BASE": "https://tongxin.example.cn"}
# 活动报名成功通知-like: the keywords a template of WeChat's library fixes, none of them ours.
SIGNUP = {"id": "Ve6DxPMUv6nkwZ79KVwhnO_mVj2Be8v6PZ7yj5dPMyE", "title": "活动报名成功通知",
          "data": {"thing27": "title", "time4": "time", "thing7": "place", "phrase16": "state"}}


def load(templates) -> dict:
    settings = load_settings({**PROD, "WECHAT_TEMPLATES": json.dumps(templates, ensure_ascii=False)})
    return {"ids": settings.wechat_templates, "keywords": settings.wechat_template_keywords}


def refused(templates, *words: str) -> str:
    raw = templates if isinstance(templates, str) else json.dumps(templates, ensure_ascii=False)
    with pytest.raises(ConfigurationError) as caught:
        load_settings({**PROD, "WECHAT_TEMPLATES": raw})
    message = str(caught.value)
    assert message.startswith("WECHAT_TEMPLATES"), message
    for word in words:
        assert word in message, (word, message)
    return message


def test_a_library_template_with_its_own_keywords_loads():
    loaded = load({"event_promoted": SIGNUP, "points_awarded": {
        "id": "tpl-points", "data": {"character_string1": "points", "thing3": "title", "time4": "sent"}}})
    assert loaded["ids"] == {"event_promoted": SIGNUP["id"], "points_awarded": "tpl-points"}
    assert loaded["keywords"]["event_promoted"] == SIGNUP["data"]
    assert loaded["keywords"]["points_awarded"] == {"character_string1": "points", "thing3": "title",
                                                    "time4": "sent"}


def test_the_old_format_a_bare_id_means_thing1_phrase2_time3_thing4():
    loaded = load({"wish_claimed": " TPL-abc "})
    assert loaded == {"ids": {"wish_claimed": "TPL-abc"}, "keywords": {"wish_claimed": LEGACY_KEYWORDS}}


def test_unset_is_none_outside_dev_and_the_dev_templates_in_dev():
    prod = load_settings(PROD)
    assert prod.wechat_templates == {} and prod.wechat_template_keywords == {}
    dev = load_settings({"TONGXIN_STAGE": "dev"})
    assert dev.wechat_templates == {kind: f"tmpl_{kind}" for kind in KINDS}
    assert dev.wechat_template_keywords == DEV_TEMPLATE_KEYWORDS
    for kind, keywords in DEV_TEMPLATE_KEYWORDS.items():  # the dev keywords are a library's, never the bare four
        assert set(keywords) != set(LEGACY_KEYWORDS), kind


def test_one_template_for_two_kinds_with_the_same_keywords_loads():
    review = {"id": "tpl-review", "data": {"thing1": "title", "phrase2": "state", "time3": "sent", "thing4": "note"}}
    overdue = {"id": "tpl-review", "data": {"thing1": "title", "phrase2": "state", "time3": "time", "thing4": "code"}}
    assert load({"wish_to_review": review, "wish_overdue": overdue})["ids"] == {"wish_to_review": "tpl-review",
                                                                              "wish_overdue": "tpl-review"}


# --- each refusal -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["not json", '["TPL"]', '"TPL"', "42", "null"])
def test_not_a_json_object_is_refused(raw):
    refused(raw, "JSON object")


def test_an_unknown_kind_is_refused():
    refused({"wish_claimd": SIGNUP}, "unknown message kinds", "wish_claimd")


@pytest.mark.parametrize("entry", [
    42, None, [], {"id": "TPL"}, {"data": {"thing1": "title"}}, {"id": "TPL", "data": {"thing1": "title"}, "date": 1},
    {"template_id": "TPL", "data": {"thing1": "title"}},
])
def test_a_malformed_entry_is_refused(entry):
    refused({"wish_claimed": entry}, "wish_claimed", '"id"')


@pytest.mark.parametrize("template_id", ["", "  ", "TPL abc", "模板", 42, None, "x" * 129])
def test_a_malformed_template_id_is_refused(template_id):
    refused({"wish_claimed": {"id": template_id, "data": {"thing1": "title"}}}, "wish_claimed", "id")


@pytest.mark.parametrize("data", [{}, [], "thing1", None])
def test_no_keywords_is_refused(data):
    refused({"wish_claimed": {"id": "TPL", "data": data}}, "wish_claimed.data", "non-empty")


@pytest.mark.parametrize("keyword", ["thing", "1thing", "Thing1", "keyword1", "site01x", "thing_1", "colour3",
                                     "const5", "thing 1", ""])
def test_a_keyword_that_is_not_one_of_wechats_is_refused(keyword):
    refused({"wish_claimed": {"id": "TPL", "data": {keyword: "title"}}}, "wish_claimed.data",
            "not a template keyword")


@pytest.mark.parametrize("name", ["subject", "Title", "", None, 3, "wish_id"])
def test_an_unknown_field_is_refused(name):
    refused({"wish_claimed": {"id": "TPL", "data": {"thing1": name}}}, "wish_claimed.data", "unknown field")


@pytest.mark.parametrize("kind, name", [("wish_claimed", "points"), ("wish_claimed", "place"),
                                        ("points_awarded", "name"), ("request_new", "name"),
                                        ("checkin_unsettled", "place"), ("request_resolved", "points")])
def test_a_field_the_kind_does_not_have_is_refused(kind, name):
    assert name not in TEMPLATES[kind].offered
    refused({kind: {"id": "TPL", "data": {"thing1": "title", "thing2": name}}}, f"{kind}.data", f"has no '{name}'")


# Every (keyword type, field) pair WeChat's rules forbid: a time in a number, a title in a phrase, …
FORBIDDEN = [(ktype, name) for ktype, names in TYPE_FIELDS.items() for name in FIELDS if name not in names]


@pytest.mark.parametrize("ktype, name", FORBIDDEN)
def test_a_keyword_whose_type_cannot_hold_the_field_is_refused(ktype, name):
    kind = next(k for k, t in TEMPLATES.items() if name in t.offered)
    refused({kind: {"id": "TPL", "data": {f"{ktype}3": name}}}, f"{kind}.data", f"a {ktype} keyword cannot hold")


def test_the_forbidden_pairs_are_wechats_rules():
    """Stated here, apart from the code: a phrase holds only a state (≤ 5 汉字), a time or a date only a time, a
    number or an amount only points, a name only a person's name, a character string only codes and points; a
    letter, symbol, phone number or car number nothing of ours."""
    forbidden = set(FORBIDDEN)
    for name in FIELDS:
        assert ("thing", name) not in forbidden
        assert (("phrase", name) in forbidden) == (name != "state")
        assert (("time", name) in forbidden) == (name not in ("time", "sent"))
        assert (("date", name) in forbidden) == (name not in ("time", "sent"))
        assert (("number", name) in forbidden) == (name != "points")
        assert (("amount", name) in forbidden) == (name != "points")
        assert (("name", name) in forbidden) == (name != "name")
        assert (("character_string", name) in forbidden) == (name not in ("code", "points"))
        for nothing in ("letter", "symbol", "phone_number", "car_number"):
            assert (nothing, name) in forbidden


def test_one_template_id_with_two_sets_of_keywords_is_refused():
    refused({"event_promoted": SIGNUP, "event_cancelled": {"id": SIGNUP["id"], "data": {"thing27": "title"}}},
            "event_cancelled", SIGNUP["id"], "one set of keywords")


def test_every_problem_is_named_at_once():
    message = refused({"wish_claimed": {"id": "TPL", "data": {"phrase2": "title", "number3": "code"}},
                       "event_reminder": {"id": "", "data": {"thing1": "title"}}})
    assert "phrase2" in message and "number3" in message and "event_reminder" in message


def test_the_settings_module_refuses_at_import_in_a_deployment(tmp_path):
    """As the functions load it (config.load_settings at import): a bad WECHAT_TEMPLATES is a failed cold start."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TONGXIN_", "WECHAT_"))}, **PROD,
           "WECHAT_TEMPLATES": json.dumps({"wish_claimed": {"id": "TPL", "data": {"phrase2": "title"}}}),
           "PYTHONPATH": str(root / "layers")}
    done = subprocess.run([sys.executable, "-c", "from tongxin.config import load_settings; load_settings()"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "ConfigurationError" in done.stderr and "phrase2" in done.stderr, done.stderr
