"""Importers for licensed corpora and platform exports; each writes canonical records plus a card.

Nothing here downloads anything: the user supplies files they are licensed to hold.
"""

from grooming_risk.data.importers.output import ImportResult
from grooming_risk.data.importers.pan12 import import_pan12, iter_pan12, read_id_list, read_problem2
from grooming_risk.data.importers.tabular import ColumnMap, import_tabular, iter_tabular, parse_label_map

__all__ = [
    "ColumnMap",
    "ImportResult",
    "import_pan12",
    "import_tabular",
    "iter_pan12",
    "iter_tabular",
    "parse_label_map",
    "read_id_list",
    "read_problem2",
]
