"""微实事 票选 routes: a resident's ballot and receipt, and the round's results after voting (usecases/ballots.py)."""
from chalice import Blueprint

from tongxin.usecases import ballots

from ..http import current_principal, endpoint
from ..schemas_ballots import BallotBody

bp = Blueprint(__name__)
TAGS = ("project-rounds",)


@endpoint(bp, "/v1/project-rounds/{round_id}/ballot", "POST", body=BallotBody, status=201, tags=TAGS,
          errors=("NOT_FOUND", "ALREADY_VOTED", "VOTING_CLOSED", "PHONE_REQUIRED", "TOO_MANY_CHOICES",
                  "BUDGET_EXCEEDED"),
          response="BallotReceiptView", summary="居民投票（微实事票选）：每人每轮一次，答复投票回执")
def cast_ballot(round_id: str, body: BallotBody):
    """A resident of the round's community with a bound phone, while voting runs (`voting_from` ≤ now <
    `voting_until`; 409 VOTING_CLOSED before and after), once per round (409 ALREADY_VOTED; the same request again
    with the same Idempotency-Key answers the same receipt). `project_ids`: distinct approved projects of this round
    (400 VALIDATION_FAILED naming `project_id` otherwise, and for an empty or repeated choice); approval style at
    most `max_choices` (409 TOO_MANY_CHOICES), budget style their costs summed within the round's budget (409
    BUDGET_EXCEEDED). No bound phone: 409 PHONE_REQUIRED (bind one with POST /v1/me/phone). The ballot and every
    chosen project's count are one transaction. A round of another community: 404 NOT_FOUND. 201 the receipt."""
    return ballots.cast(current_principal(), round_id, project_ids=body.project_ids)


@endpoint(bp, "/v1/project-rounds/{round_id}/ballot", "GET", tags=TAGS, errors=("NOT_FOUND", "NOT_VOTED"),
          response="BallotReceiptView", summary="我的投票回执：我选了哪些项目、何时投的")
def get_ballot(round_id: str):
    """A member of the round's community: their own ballot (the projects chosen, with their titles as they were,
    and when). 404 NOT_VOTED before they vote; 404 NOT_FOUND for a round of another community."""
    return ballots.receipt(current_principal(), round_id)


@endpoint(bp, "/v1/project-rounds/{round_id}/results", "GET", tags=TAGS, errors=("NOT_FOUND", "RESULTS_NOT_READY"),
          response="RoundResultsView", summary="微实事票选结果：投票人数、各项目得票、名次与是否入选（投票结束后公布）")
def get_round_results(round_id: str):
    """A member of the round's community, once voting has closed: the turnout and every approved project ranked by
    votes (ties: the earlier approved first), the winners marked (`selected`: budget style greedily within the
    budget in rank order, a project that does not fit skipped; approval style the top `max_choices`; a project
    without votes never). Before `voting_until` nobody sees a count, admins included: 409 RESULTS_NOT_READY. 404
    NOT_FOUND for a round of another community."""
    return ballots.results(current_principal(), round_id)
