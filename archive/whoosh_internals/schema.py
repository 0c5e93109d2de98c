"""The index schema: Whoosh's fields, and the positions format that search decodes with numpy."""

from __future__ import annotations

import struct

from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, TEXT, Schema
from whoosh.formats import Positions

from ..analysis import FRENCH, Chain, ChainAnalyzer

__all__ = ["PackedPositions", "make_schema", "schema_chain"]

_PACK_ONE = struct.Struct("<I").pack


class PackedPositions(Positions):
    """Positions as packed little-endian uint32, so that search decodes them with numpy.

    Whoosh's own Positions format pickles each posting's position list; decoding
    thousands of them for one phrase query cost tens of milliseconds in pickle.
    """

    def encode(self, poslist: list[int]) -> bytes:
        """Pack a posting's positions."""
        if len(poslist) == 1:
            return _PACK_ONE(poslist[0])
        return struct.pack("<%dI" % len(poslist), *poslist)

    def decode_positions(self, valuestring: bytes) -> list[int]:
        """Unpack a posting's positions."""
        return list(struct.unpack("<%dI" % (len(valuestring) // 4), valuestring))

    def decode_frequency(self, valuestring: bytes) -> int:
        """Return how many positions a posting has."""
        return len(valuestring) // 4

    def decode_weight(self, valuestring: bytes) -> float:
        """Return a posting's weight (its frequency)."""
        return float(self.decode_frequency(valuestring) * self.field_boost)


def make_schema(chain: Chain = FRENCH) -> Schema:
    """Return the index schema; a chain with stages off serves the relevance benchmark."""
    search = ChainAnalyzer(chain, "search")
    exact = ChainAnalyzer(chain, "exact")
    accent = ChainAnalyzer(chain, "accent")
    schema = Schema(
        article=ID(stored=True),
        aid=COLUMN(NumericColumn("I", default=0)),
        n=COLUMN(NumericColumn("I", default=0)),
        text=TEXT(analyzer=search, phrase=False),
        exact=TEXT(analyzer=exact, phrase=True),  # format replaced below
        accent=TEXT(analyzer=accent, phrase=False),
        title=TEXT(analyzer=search, phrase=False),
        title_exact=TEXT(analyzer=exact, phrase=True),
        source=TEXT(analyzer=exact, phrase=False),
        author=TEXT(analyzer=exact, phrase=False),
        tag=TEXT(analyzer=exact, phrase=False),
        hash=ID(stored=True),
    )
    schema["exact"].format = PackedPositions()
    schema["title_exact"].format = PackedPositions()
    return schema


def schema_chain(schema: Schema) -> Chain:
    """Return the chain an index was built with."""
    analyzer = schema["text"].analyzer
    return analyzer.chain if isinstance(analyzer, ChainAnalyzer) else FRENCH
