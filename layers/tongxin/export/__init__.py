"""Export and import of one community (operator commands ``export-community`` / ``import-community``, cli.py).

``export_community`` writes every item of the community, from every table, as JSON lines (wire.py: the format,
the personal-data marks; collect.py: how each table's items of a community are found); ``import_community`` loads
such a file into a stack that does not hold the community (load.py: the checks made before anything is written,
the batched writes). docs/operations.md, "Export and import a community", is the operator's page.
"""
from __future__ import annotations

import json
import tempfile
from collections import Counter
from typing import IO, Iterable

from ..domain.clock import utcnow
from .collect import NotFound, Reader, community_items
from .load import ImportRefused, StackBusy, import_records, read_export
from .wire import FORMAT, personal_of, to_wire

__all__ = ["FORMAT", "ImportRefused", "NotFound", "StackBusy", "export_community", "import_community"]


def _stack(client, table_name):
    """The stage's shared DynamoDB client and table names, unless given."""
    from ..adapters.dynamo import binding
    from ..wiring import get_container
    settings = get_container().settings  # builds the container (binds the models and the client) when needed
    return client or binding.connection().client, table_name or settings.table_name


def export_community(community_id: str, out: IO[str], *, client=None, table_name=None) -> dict:
    """Write the community's export to ``out``: the header (counts per table and scope), then one line per item.
    Returns the header. Raises NotFound when the stack has no such community (nothing written)."""
    client, table_name = _stack(client, table_name)
    counts, scopes, personal_items = Counter(), Counter(), 0
    # The header comes first but holds the counts: the lines wait in a temporary file (not memory) meanwhile.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as body:
        for table, scope, item in community_items(Reader(client, table_name), community_id):
            personal = personal_of(table, item)
            personal_items += bool(personal)
            counts[table] += 1
            scopes[scope] += 1
            body.write(json.dumps({"table": table, "scope": scope, "item": to_wire(item), "personal": personal},
                                  ensure_ascii=False, sort_keys=True) + "\n")
        header = {"format": FORMAT, "community_id": community_id,
                  "exported_at": utcnow().isoformat(timespec="seconds"), "counts": dict(sorted(counts.items())),
                  "scopes": dict(sorted(scopes.items())), "items": sum(counts.values()),
                  "items_with_personal_data": personal_items}
        out.write(json.dumps(header, ensure_ascii=False, sort_keys=True) + "\n")
        body.seek(0)
        for line in body:
            out.write(line)
    return header


def import_community(lines: Iterable[str], *, client=None, table_name=None) -> dict:
    """Load an export into this stack. Raises ImportRefused (nothing written) when the file is not a whole export
    or the stack already holds the community (load.py says exactly when)."""
    client, table_name = _stack(client, table_name)
    header, records = read_export(lines)
    return import_records(client, table_name, header, records)
