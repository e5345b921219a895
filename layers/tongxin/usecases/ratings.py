"""A resident's one rating of a finished project (群众评单 of 共建项目, usecases/co_projects.py; 验收 of 微实事,
usecases/round_delivery.py): the same rule and the same transaction for both, on each area's own tables.

ONE transaction: the resident's grant, the rating's Put (once each: its condition is the once-only rule), the
project's counters added to under the area's "done" condition. The answer's count and average are the project's as
read plus this rating (exact unless another resident rated in the same instant)."""
from __future__ import annotations

from typing import Any, Callable

from ..adapters.dynamo.guards import ROLE_CHANGED, check_grant
from ..adapters.dynamo.tx import ErrorFor, Tx
from ..domain.access import Grant, Principal
from ..domain.clock import to_api, utcnow
from ..domain.errors import DomainError
from ..domain.ratings import average
from ..wiring import Container
from .access import current_user
from .content import Scene, check as content_check


def present_rating(rating: Any | None) -> dict | None:
    if rating is None:
        return None
    return {"rating": int(rating.rating), "comment": rating.comment, "created_at": to_api(rating.created_at)}


def rate_once(container: Container, principal: Principal, grant: Grant, project: Any, *, rating_model: type,
              rating: int, comment: str | None, done: Any, not_done: ErrorFor, already_rated: DomainError,
              what: str, grant_refused: ErrorFor = ROLE_CHANGED) -> dict:
    """``project`` (as read, found and visible, done, not rated by the caller yet: the area checked) rated by the
    caller: ``done`` is the area's condition on the project item that it is done (``not_done`` its refusal);
    ``grant_refused`` what a failed check of the caller's grant means (the grant's scope, e.g. the grids served)."""
    if comment:
        content_check(container, current_user(principal), comment, scene=Scene.COMMENT, what=what)
    item = rating_model(project.id, principal.user_id, community_id=project.community_id, rating=rating,
                        comment=comment or None, created_at=utcnow())
    count = int(project.ratings_count or 0) + 1
    total = int(project.ratings_sum or 0) + rating
    answer = {"project_id": project.id, **present_rating(item), "ratings_count": count,
              "rating_average": average(count, total)}
    project_model: Callable = type(project)
    check_grant(Tx(), grant, grant_refused) \
        .put(item, condition=rating_model.user_id.does_not_exist(), error=already_rated) \
        .update(project_model(project.id), [project_model.ratings_count.add(1), project_model.ratings_sum.add(rating)],
                condition=done & (project_model.community_id == project.community_id), error=not_done) \
        .commit(answer)
    return answer
