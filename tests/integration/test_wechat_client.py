"""The WeChat adapter against the stand-in: access_token shared through DynamoDB with expiry enforced
on read, stable_token used, a rejected token refetched once; a content check for a user who has not opened the
mini-program for two hours is 409 WECHAT_SESSION_STALE."""
import time
from datetime import timedelta

import pytest

from tongxin.adapters.dynamo.models import KeyValueModel
from tongxin.adapters.wechat.client import MiniProgramClient
from tongxin.adapters.wechat.token_store import KEY_PREFIX, DynamoSessionStorage
from tongxin.domain.clock import travel, utcnow
from tongxin.domain.errors import WechatSessionStale


def _client(settings):
    return MiniProgramClient(settings.wechat_appid, settings.wechat_secret, base_url=settings.wechat_base_url,
                             timeout=1.0, session=DynamoSessionStorage())


def _visitor(settings, name: str = "wechat-client") -> str:
    """The openid of a user who opened the mini-program just now (logged in: code2session); content checks
    answer only for such a user."""
    return _client(settings).code_to_session(f"dev:{name}").openid


def test_token_is_fetched_once_and_shared_between_instances(settings, wechat, container):
    DynamoSessionStorage().delete("wxdevappid_access_token")
    before = wechat.counters.get("cgi-bin/stable_token", 0)
    assert _client(settings).check_text("你好", _visitor(settings)) == "pass"
    assert _client(settings).check_text("你好", _visitor(settings)) == "pass"  # a "cold" second instance
    assert wechat.counters.get("cgi-bin/stable_token", 0) == before + 1
    assert wechat.counters.get("cgi-bin/token", 0) == 0


def test_expired_stored_token_is_not_trusted(settings, wechat, container):
    storage = DynamoSessionStorage()
    storage.set("wxdevappid_access_token", "stale-token", ttl=60)
    KeyValueModel(KEY_PREFIX + "wxdevappid_access_token").update(
        actions=[KeyValueModel.expires_at.set(utcnow() - timedelta(seconds=1))])
    assert DynamoSessionStorage().get("wxdevappid_access_token") is None  # what a fresh container reads
    before = wechat.counters.get("cgi-bin/stable_token", 0)
    assert _client(settings).check_text("你好", _visitor(settings)) == "pass"
    assert wechat.counters.get("cgi-bin/stable_token", 0) == before + 1


def test_a_warm_container_keeps_the_token_in_memory_until_it_expires(settings, wechat, container):
    storage = DynamoSessionStorage()
    storage.set("wxdevappid_access_token", "memorised", ttl=600)
    KeyValueModel(KEY_PREFIX + "wxdevappid_access_token").delete()  # gone from DynamoDB: memory still answers
    assert storage.get("wxdevappid_access_token") == "memorised"
    storage.set("wxdevappid_access_token", "short-lived", ttl=1)
    KeyValueModel(KEY_PREFIX + "wxdevappid_access_token").delete()
    time.sleep(1.1)
    assert storage.get("wxdevappid_access_token") is None


def test_rejected_token_is_refetched_once(settings, wechat, container):
    client = _client(settings)
    client.check_text("你好", _visitor(settings))
    wechat.expire_tokens()
    assert client.check_text("你好", _visitor(settings)) == "pass"


def test_a_user_not_seen_for_two_hours_is_a_stale_session_not_an_outage(settings, wechat, container):
    client = _client(settings)
    openid = _visitor(settings, "two-hours")
    assert client.check_text("你好", openid, 1) == "pass"
    with travel(timedelta(hours=2, seconds=1)):  # the stand-in keeps the tests' clock
        with pytest.raises(WechatSessionStale) as refused:
            client.check_text("你好", openid, 1)
        assert (refused.value.status, refused.value.code) == (409, "WECHAT_SESSION_STALE")
        assert refused.value.message == "请重新打开小程序后再试"
        assert client.check_text("你好", _visitor(settings, "two-hours"), 1) == "pass"  # reopened
    with pytest.raises(WechatSessionStale):
        client.check_text("你好", "o" + "0" * 27, 2)  # never logged in at all
