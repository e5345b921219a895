"""Check-in codes and attendance arithmetic (domain/checkin.py): pure, the clock passed in."""
from datetime import datetime, timedelta, timezone

import pytest

from tongxin.domain import checkin

SECRET = "unit-test-check-in-key-" + "k" * 16
EVENT = "ev_0193a2f1c4d8e2b7a9ab12"
T0 = datetime(2026, 12, 5, 9, 0, 0, tzinfo=timezone.utc)


def rotating(at: datetime, event: str = EVENT, secret: str = SECRET) -> str:
    return checkin.make_code(secret, event, "rotating", checkin.step_of(at))


@pytest.mark.parametrize("event_id", [EVENT, "ev_demo3"])
@pytest.mark.parametrize("kind", ["rotating", "poster"])
def test_codes_fit_a_scene_and_name_their_event(event_id, kind):
    code = checkin.make_code(SECRET, event_id, kind, checkin.step_of(T0))
    assert len(code) <= 32 and set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567-")
    verified = checkin.verify(SECRET, code, T0)
    assert (verified.event_id, verified.kind) == (event_id, kind)
    assert checkin.verify(SECRET, code.lower(), T0).event_id == event_id  # a scanner may lower-case it


def test_a_rotating_code_lives_sixty_seconds_from_its_step():
    step_start = datetime.fromtimestamp(checkin.step_of(T0) * checkin.STEP_SECONDS, timezone.utc)
    code = rotating(step_start)
    assert not checkin.expired(checkin.verify(SECRET, code, step_start + timedelta(seconds=59)),
                               step_start + timedelta(seconds=59))
    old = checkin.verify(SECRET, code, step_start + timedelta(seconds=61))
    assert checkin.expired(old, step_start + timedelta(seconds=61))
    assert old.valid_until() == step_start + timedelta(seconds=60)
    assert rotating(step_start + timedelta(seconds=30)) != code  # the screen changes every 30 s


def test_a_code_from_hours_ago_is_expired_not_forged():
    code = rotating(T0)
    later = T0 + timedelta(hours=9)  # past 1,024 steps: the step's low bits alone would not place it
    assert checkin.expired(checkin.verify(SECRET, code, later), later)


@pytest.mark.parametrize("tamper", [
    lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # the signature
    lambda c: c[:3] + ("A" if c[3] != "A" else "B") + c[4:],  # the event
    lambda c: c.replace("-", "-A", 1)[:32],  # the step
    lambda c: "P" + c[1:],  # the kind
    lambda c: "",
    lambda c: "hello",
    lambda c: "R-" + "A" * 30,
    lambda c: c + "A" * 40,
])
def test_a_changed_code_is_refused_as_invalid(tamper):
    with pytest.raises(checkin.BadCode):
        checkin.verify(SECRET, tamper(rotating(T0)), T0)


def test_a_code_signed_with_another_key_or_for_another_event_is_refused():
    with pytest.raises(checkin.BadCode):
        checkin.verify(SECRET, rotating(T0, secret="another-deployment-" + "x" * 20), T0)
    other = rotating(T0, event="ev_0193a2f1c4d8e2b7a9ab13")
    mine = rotating(T0)
    spliced = mine.split("-")[0] + "-" + other.split("-")[1]  # my event, the other event's signature
    with pytest.raises(checkin.BadCode):
        checkin.verify(SECRET, spliced, T0)


def test_no_code_is_made_or_accepted_without_a_key():
    with pytest.raises(ValueError):
        checkin.make_code("", EVENT, "poster")


METRES_PER_DEGREE_LAT = 111_195


@pytest.mark.parametrize("metres, inside", [(195, True), (205, False), (0, True)])
def test_the_geofence_edge_by_haversine(metres, inside):
    distance = checkin.distance_m(30.0, 103.8, 30.0 + metres / METRES_PER_DEGREE_LAT, 103.8)
    assert abs(distance - metres) < 1
    assert (distance <= 200) is inside


@pytest.mark.parametrize("arrive, leave, minutes", [
    (-40, 45, 45),    # early arrival: counted from the start
    (30, 200, 90),    # late departure: counted to the end (the event lasts 120 min)
    (-60, 300, 120),  # both: never more than the event
    (10, 10, 0),
    (130, 140, 0),    # entirely after the end
])
def test_credited_minutes_are_the_overlap_with_the_event(arrive, leave, minutes):
    start, end = T0, T0 + timedelta(minutes=120)
    assert checkin.credited_minutes(T0 + timedelta(minutes=arrive), T0 + timedelta(minutes=leave), start, end) == minutes


@pytest.mark.parametrize("minutes, rate, points", [(45, 10, 7), (60, 10, 10), (59, 1, 0), (120, 15, 30), (0, 100, 0)])
def test_points_are_pro_rata_and_floored(minutes, rate, points):
    assert checkin.points_for(minutes, rate) == points


def test_windows():
    start, end = T0, T0 + timedelta(hours=2)
    assert not checkin.check_in_open(start, end, start - timedelta(minutes=31))
    assert checkin.check_in_open(start, end, start - timedelta(minutes=30))
    assert not checkin.check_in_open(start, end, end)
    assert checkin.check_out_open(end, end + timedelta(minutes=119))
    assert not checkin.check_out_open(end, end + timedelta(hours=2))
