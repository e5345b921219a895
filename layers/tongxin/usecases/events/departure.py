"""注销 in events: a deleted account gives up every place and ticket it holds (the next in line is promoted, as
when anyone gives up), and its name is erased from every sign-up and attendance it ever had, so rosters and the
hours export show 已注销用户. Nothing is left that could promote or remind the account later.

Each sign-up is its own write (a place given up is one transaction with its promotion), safe to repeat: a DELETE
that failed half-way is finished by calling it again."""
from __future__ import annotations

import logging

from ...adapters.dynamo import batch
from ...adapters.dynamo.models import EventModel, SignupModel
from ...adapters.dynamo.tx import Tx
from ...domain import events as rules
from ...domain.clock import utcnow
from ...domain.errors import DomainError, StorageBusy
from ...domain.events import SignupStatus as St
from .signups import release
from ...domain.text import DELETED_NICKNAME

log = logging.getLogger(__name__)

ERASED = {"nickname": DELETED_NICKNAME, "attendee_name": DELETED_NICKNAME}
HOLDING = (St.SIGNED.value, St.WAITLISTED.value)


def forget_deleted_user(user_id: str) -> dict:
    """Give up what ``user_id`` holds before its start and erase the name everywhere; returns what was done."""
    done = {"given_up": 0, "erased": 0}
    now = utcnow()
    for key in (user_id, rules.cancelled_mine_key(user_id)):  # standing sign-ups, then those given up earlier
        for signup in SignupModel.by_user.query(key):
            if signup.nickname == DELETED_NICKNAME and signup.attendee_name in (None, DELETED_NICKNAME):
                continue
            if signup.status in HOLDING and signup.event_starts_at > now and _give_up(signup):
                done["given_up"] += 1
                continue
            _erase(signup)
            done["erased"] += 1
    log.info("sign-ups released for account deletion", extra={"user_id": user_id, **done})
    return done


def _give_up(signup: SignupModel) -> bool:
    event = batch.get_many((EventModel, signup.event_id))[0]
    if event is None:
        return False

    def reread_both():
        return batch.get_many((EventModel, signup.event_id), (SignupModel, signup.event_id, signup.user_id))
    try:
        release(event, signup, reread_both, erase=ERASED)
        return True
    except StorageBusy:
        raise  # DynamoDB refused past the retries: 503, and the DELETE is called again
    except DomainError:  # started, cancelled or changed meanwhile: the name is still erased below
        return False


def _erase(signup: SignupModel) -> None:
    fields = {"nickname": DELETED_NICKNAME}
    if signup.attendee_name is not None:
        fields["attendee_name"] = DELETED_NICKNAME
    Tx().update(SignupModel(signup.event_id, signup.user_id), [getattr(SignupModel, n).set(v) for n, v in fields.items()],
                condition=SignupModel.user_id.exists()).commit()
