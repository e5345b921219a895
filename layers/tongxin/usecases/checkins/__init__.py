"""签到/签退 check-in, by concern: ``codes`` (the organiser's rotating screen, posters, mini-program codes),
``scanning`` (check-in, walk-in, check-out and its credit), ``settling`` (closing attendance after the event,
audited adjustments), ``records`` (the volunteer record, the monthly export), ``attendance`` (how an attendance is
shown, the counters it keeps)."""
from .codes import qrcode
from .records import volunteer_hours_csv, volunteer_record
from .scanning import scan
from .settling import adjust, close_attendance

__all__ = ["adjust", "close_attendance", "qrcode", "scan", "volunteer_hours_csv", "volunteer_record"]
