"""双报到 服务卡: a unit's service cards of a quarter — its party members' services, to send back to their employer —
and the unit's pledged activities done (usecases/service_cards.py)."""
from chalice import Blueprint

from tongxin.usecases import service_cards

from ..http import csv_response, current_principal, endpoint
from ..schemas_service_cards import ServiceCardsQuery

bp = Blueprint(__name__)
TAGS = ("party", "units")


@endpoint(bp, "/v1/units/{unit_id}/service-cards", "GET", query=ServiceCardsQuery, tags=TAGS,
          errors=("NOT_FOUND",), response="ServiceCardsPage", produces=("application/json", "text/csv"),
          summary="共建单位的服务卡：本单位党员本季度的服务与是否达标，及单位承诺活动的完成情况（联络员、所在街道工作人员）")
def list_service_cards(unit_id: str, query: ServiceCardsQuery):
    """The unit's liaison (`unit_liaison` of this unit) or its street's staff. A page (at most 20: a larger `limit`
    is served 20 at a time) of the unit's approved party members (whose 党员报到 names the unit), oldest approval
    first, each card `{member: {id, name, community: {id, name}, party_branch}, quarter: {services, events, wishes,
    posts, requests, minutes}, year_minutes, meets_rules, missing}` from their service record (服务记录: what they
    already do, never typed twice), judged by THEIR community's rules; and the unit's own block: `unit: {id, name,
    kind}` and `agreements: [{community, activities_per_quarter, activities_done, met, valid_until}]` for each
    agreement in force during the quarter, where `activities_done` counts the events the unit ran in that community
    that were held (ended and not cancelled: counted when the scheduler closes their attendance, 2 h after the
    end) and started in the quarter. `quarter` is a Shanghai quarter `YYYYQn` (default the current one): 400
    VALIDATION_FAILED naming `quarter` when malformed or still to come. `format=csv`: every card of the quarter
    (UTF-8 with a BOM, Chinese header), for the liaison to send back to the employer. 403 FORBIDDEN for anyone who
    is neither a liaison nor street staff; 404 NOT_FOUND for another unit's liaison, another street's staff, or a
    unit that does not exist."""
    if query.format == "csv":
        quarter, data = service_cards.cards_csv(current_principal(), unit_id, query.quarter)
        return csv_response(data, f"service-cards-{unit_id}-{quarter}.csv")
    return service_cards.cards_page(current_principal(), unit_id, quarter=query.quarter, limit=query.limit,
                                    cursor=query.cursor)
