"""The WeChat stand-in's ``/__dev/...`` endpoints (no access token, never affected by faults): what tests and tools
in another process use to inspect and steer it. A mixin of ``WeChatStandIn`` (infra/local/wechat_standin.py): each
delegates to a public method of the stand-in, whose ValueError becomes a 400."""

from __future__ import annotations

from typing import Any

from infra.local.wechat_protocol import _json_response, _Response


class DevEndpoints:
    def _dev_health(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        return _json_response({"status": "ok"})

    def _dev_messages(self, query: dict[str, str], _body: dict[str, Any]) -> _Response:
        items = self.messages
        touser = query.get("touser")
        if touser:
            items = [item for item in items if item["touser"] == touser]
        return _json_response({"items": items})

    def _dev_stats(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        return _json_response({"counters": self.counters})

    def _dev_wxacodes(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        return _json_response({"items": self.wxacodes})

    def _dev_phone_codes(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        return _json_response({"code": self.issue_phone_code(body.get("phone"))})

    def _dev_faults(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        paths = body.get("paths")
        if paths is not None and not isinstance(paths, list):
            raise ValueError("paths must be a list of endpoint paths")
        self.set_fault(body.get("mode"), paths, body.get("errcode", -1))
        return _json_response({"status": "ok"})

    def _dev_no_quota(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        self.set_no_quota(body.get("touser"))
        return _json_response({"status": "ok"})

    def _dev_subscriptions(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        """``{"touser": openid, "template_ids": [...]}``: what the user accepted in wx.requestSubscribeMessage
        (the mini-program tells WeChat; here, tests and tools do); answers the sends left per template."""
        touser = body.get("touser")
        self.add_accepts(touser, body.get("template_ids"))
        return _json_response({"status": "ok", "accepts": self.accepts(touser)})

    def _dev_templates(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        """``{"template_id": id, "keywords": ["thing1", ...]}``: a template added in the console (我的模板)."""
        self.register_template(body.get("template_id"), body.get("keywords"))
        return _json_response({"status": "ok"})

    def _dev_expire_tokens(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        self.expire_tokens()
        return _json_response({"status": "ok"})

    def _dev_tokens(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        return _json_response({"now": self.now, "shift_seconds": self._clock_shift, **self.token_stats})

    def _dev_clock(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        self.set_clock_shift(body.get("shift_seconds"))
        return _json_response({"now": self.now, "shift_seconds": self._clock_shift})

    def _dev_reset(self, _query: dict[str, str], _body: dict[str, Any]) -> _Response:
        self.reset()
        return _json_response({"status": "ok"})
