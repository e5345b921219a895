"""The base of every table model; ``binding.bind`` fills in region, host and the stage's table name."""
from __future__ import annotations

from pynamodb.models import Model


class BaseModel(Model):
    """Base for every table; ``binding.bind`` fills in region, host and the stage's table name."""
    TABLE = ""

    class Meta:
        abstract = True
        region = "cn-north-1"
        host = None
