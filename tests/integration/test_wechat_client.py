"""The WeChat adapter against the stand-in: access_token shared through DynamoDB with expiry enforced
on read, stable_token used, a rejected token refetched once."""
import time
from datetime import timedelta

from tongxin.adapters.dynamo.models import KeyValueModel
from tongxin.adapters.wechat.client import MiniProgramClient
from tongxin.adapters.wechat.token_store import KEY_PREFIX, DynamoSessionStorage
from tongxin.domain.clock import utcnow


def _client(settings):
    return MiniProgramClient(settings.wechat_appid, settings.wechat_secret, base_url=settings.wechat_base_url,
                             timeout=1.0, session=DynamoSessionStorage())


def test_token_is_fetched_once_and_shared_between_instances(settings, wechat, container):
    DynamoSessionStorage().delete("wxdevappid_access_token")
    before = wechat.counters.get("cgi-bin/stable_token", 0)
    assert _client(settings).check_text("你好", "o" + "0" * 27) == "pass"
    assert _client(settings).check_text("你好", "o" + "0" * 27) == "pass"  # a "cold" second instance
    assert wechat.counters.get("cgi-bin/stable_token", 0) == before + 1
    assert wechat.counters.get("cgi-bin/token", 0) == 0


def test_expired_stored_token_is_not_trusted(settings, wechat, container):
    storage = DynamoSessionStorage()
    storage.set("wxdevappid_access_token", "stale-token", ttl=60)
    KeyValueModel(KEY_PREFIX + "wxdevappid_access_token").update(
        actions=[KeyValueModel.expires_at.set(utcnow() - timedelta(seconds=1))])
    assert DynamoSessionStorage().get("wxdevappid_access_token") is None  # what a fresh container reads
    before = wechat.counters.get("cgi-bin/stable_token", 0)
    assert _client(settings).check_text("你好", "o" + "0" * 27) == "pass"
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
    client.check_text("你好", "o" + "0" * 27)
    wechat.expire_tokens()
    assert client.check_text("你好", "o" + "0" * 27) == "pass"
