"""The bulletin's arithmetic (domain/bulletin.py): rates from counts, rank with ties, flags against thresholds."""
from tongxin.domain.bulletin import Thresholds, ranked, row


def counts(received, on_time, late, resolved_on_time, satisfied=0, unsatisfied=0, **more):
    return {"received": received, "answered_on_time": on_time, "first_answer_late": late,
            "resolved_on_time": resolved_on_time, "satisfied": satisfied, "unsatisfied": unsatisfied, **more}


def test_row_rates_and_nulls():
    r = row(counts(10, 9, 1, 8, satisfied=6, unsatisfied=2, overdue=1, extended=2))
    assert (r["received"], r["overdue"], r["extended"]) == (10, 1, 2)
    assert (r["response_rate"], r["resolve_rate"], r["satisfaction_rate"]) == (0.9, 0.8, 0.75)
    empty = row({})
    assert empty["received"] == 0 and empty["response_rate"] is None and empty["satisfaction_rate"] is None


def test_rank_best_first_ties_share_and_empty_units_last_unranked():
    a = {"id": "a", **row(counts(10, 10, 0, 10, satisfied=10))}          # 1.0
    b = {"id": "b", **row(counts(10, 9, 1, 9, satisfied=9, unsatisfied=1))}  # 0.9
    c = {"id": "c", **row(counts(20, 20, 0, 20, satisfied=5))}           # 1.0, a tie with a
    idle = {"id": "idle", **row({})}
    out = ranked([idle, b, a, c], Thresholds())
    assert [(r["id"], r["rank"]) for r in out] == [("a", 1), ("c", 1), ("b", 3), ("idle", None)]
    assert [r["flagged"] for r in out] == [False, False, True, False]
    assert out[2]["below"] == ["response_rate"]  # 90 % < 95 %; 90 % is not < 90 % 解决率, nor < 85 % 满意率


def test_thresholds_at_their_edges():
    exactly = {"id": "x", **row(counts(100, 95, 5, 90, satisfied=85, unsatisfied=15))}
    assert ranked([exactly], Thresholds())[0]["flagged"] is False
    just_under = {"id": "y", **row(counts(100, 95, 5, 89, satisfied=85, unsatisfied=15))}
    assert ranked([just_under], Thresholds())[0]["below"] == ["resolve_rate"]
    assert ranked([just_under], Thresholds(resolve=0))[0]["flagged"] is False
