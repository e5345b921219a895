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

    def changed(self, **changes):
        """A copy with ``changes`` applied (the item as a write will leave it, to answer from without reading
        back); the original is untouched."""
        copy = type(self).from_raw_data(self.serialize(null_check=False))
        for name, value in changes.items():
            setattr(copy, name, value)
        return copy
