"""The monthly bulletin's invariant (通报, ``bulletin``, ``usecases/bulletin.py``): each snapshot
(``bulletin#street#<id>#YYYY-MM`` / ``bulletin#district#<id>#YYYY-MM`` in the counters) is final, of its unit and
month, a month before the current Shanghai month, of a street or district that exists, and was written with its
staff's ``bulletin_ready`` fan-out (the outbox item keyed by the snapshot, same transaction) — unless that item may
have expired since (``domain/push.FINAL_KEPT_DAYS`` after it became final, no earlier than the month after); a
``bulletin#done#YYYY-MM`` marker means every street and district that existed in that month has its snapshot."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from tongxin.domain import push as push_rules
from tongxin.domain.clock import SHANGHAI
from tongxin.usecases import bulletin as bulletin_rules

LEVELS = ("street", "district")


def month_after(month: str) -> datetime:
    """The first instant (Shanghai) of the month after ``month`` (``YYYY-MM``)."""
    year, number = int(month[:4]), int(month[5:7])
    return datetime(year + number // 12, number % 12 + 1, 1, tzinfo=SHANGHAI)


class BulletinChecks:
    """A part of ``_Checker`` (``checker.py``): its methods use the checker's indexes and ``fail``."""

    def bulletins(self) -> None:
        current = self.now.astimezone(SHANGHAI).strftime("%Y-%m")
        units = {"street": self.streets, "district": self.districts}
        messages = {msg.id: msg for msg in self.d["outbox"]}
        snapshots: set[tuple[str, str, str]] = set()
        done: list[str] = []
        for key in sorted(k for k in self.counters if k.startswith("bulletin#")):
            where, parts = f"counters {key}", key.split("#")
            if len(parts) == 3 and parts[1] == "done" and bulletin_rules.MONTH.fullmatch(parts[2]):
                done.append(parts[2])
                continue
            if len(parts) != 4 or parts[1] not in LEVELS or not bulletin_rules.MONTH.fullmatch(parts[3]):
                self.fail("bulletin", where, "not a bulletin key (bulletin#street|district#<id>#YYYY-MM or "
                                             "bulletin#done#YYYY-MM)")
                continue
            level, unit_id, month = parts[1:]
            snapshots.add((level, unit_id, month))
            if month >= current:
                self.fail("bulletin", where, f"a snapshot of {month}, not before the current month {current}")
            if unit_id not in units[level]:
                self.fail("bulletin", where, f"a snapshot of the {level} {unit_id}, which does not exist")
            self.bulletin_snapshot(where, self.counters[key], level, unit_id, month)
            message = messages.get(key)
            if message is None:
                if self.now < month_after(month) + timedelta(days=push_rules.FINAL_KEPT_DAYS):
                    self.fail("bulletin", where, "no bulletin_ready fan-out written with it (outbox item of its key)")
            elif message.kind != "bulletin_ready" or message.recipient_id != "*" \
                    or message.status not in ("fanout", "expanded") \
                    or (message.data or {}).get(f"{level}_id") != unit_id or (message.data or {}).get("month") != month:
                self.fail("bulletin", where, f"its outbox item is not its bulletin_ready fan-out (kind "
                                             f"{message.kind!r}, status {message.status!r}, data {message.data})")
        for month in done:
            before = month_after(month)
            for level in LEVELS:
                for unit in sorted(units[level].values(), key=lambda u: u.id):
                    if unit.created_at < before and (level, unit.id, month) not in snapshots:
                        self.fail("bulletin", f"counters {bulletin_rules.done_key(month)}",
                                  f"done, but the {level} {unit.id} has no snapshot of {month}")

    def bulletin_snapshot(self, where: str, item: dict, level: str, unit_id: str, month: str) -> None:
        try:
            body = json.loads(item["snapshot"]["S"])
        except (KeyError, TypeError, ValueError):
            self.fail("bulletin", where, "no readable snapshot (JSON)")
            return
        if not isinstance(body, dict) or body.get("final") is not True:
            self.fail("bulletin", where, "its snapshot is not final")
            return
        if (body.get(level) or {}).get("id") != unit_id or body.get("month") != month:
            self.fail("bulletin", where, f"its snapshot is of the {level} {(body.get(level) or {}).get('id')} "
                                         f"and month {body.get('month')}, not its key's")
