"""志愿服务记录更正's pure rules (domain/corrections.py): the attendance id and the correction id."""
import pytest

from tongxin.domain import corrections as rules
from tongxin.domain.errors import NotFound


def test_attendance_id_is_the_signups_key_and_only_the_callers_own():
    assert rules.attendance_id("ev_1", "u_2") == "ev_1.u_2"
    assert rules.parse_attendance_id("ev_1.u_2", "u_2") == "ev_1"
    for value in ("ev_1.u_3", "ev_1", ".u_2", "ev_1.", "", "ev_1.u_2.x"):
        with pytest.raises(NotFound) as refused:
            rules.parse_attendance_id(value, "u_2")
        assert refused.value.details == {"field": "attendance_id"}


def test_a_correction_id_names_its_event():
    cid = rules.correction_id("ev_1", "vc_abc")
    assert rules.event_of(cid) == "ev_1"
    for value in ("vc_abc", "ev_1.abc", ".vc_abc", "ev_1."):
        with pytest.raises(NotFound):
            rules.event_of(value)
    assert rules.lock_key("ev_1", "u_2") == "pending#ev_1#u_2"
    assert rules.status_key("c_1", rules.PENDING) == "c_1#pending"
