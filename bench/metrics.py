"""Set-based recall/precision over reference locations, micro and macro averaged.

Micro averages weight every reference equally (a symbol with 300 uses dominates); macro averages
weight every symbol equally.  Both are reported because they answer different questions: "how
many of all references does forge find" versus "how well does forge do on a typical symbol".
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TypeVar

# One nearest-rank percentile for the product's status and the benches' reports.
from forge_lsp.live.metrics import percentile as percentile

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class Counts:
    """Confusion counts for one symbol (or a sum of symbols)."""

    tp: int = 0
    fn: int = 0
    fp: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fn + other.fn, self.fp + other.fp)

    @property
    def recall(self) -> float | None:
        """Share of expected locations found; None when nothing was expected."""
        expected = self.tp + self.fn
        return self.tp / expected if expected else None

    @property
    def precision(self) -> float | None:
        """Share of returned locations that were expected; None when nothing was returned."""
        returned = self.tp + self.fp
        return self.tp / returned if returned else None


def compare(predicted: AbstractSet[T], expected: AbstractSet[T]) -> Counts:
    """Confusion counts of one prediction against one expected set."""
    tp = len(predicted & expected)
    return Counts(tp=tp, fn=len(expected) - tp, fp=len(predicted) - tp)


def micro(counts: Iterable[Counts]) -> Counts:
    """Sum the counts; read ``.recall``/``.precision`` off the total."""
    total = Counts()
    for item in counts:
        total = total + item
    return total


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def macro(counts: Iterable[Counts]) -> tuple[float | None, float | None]:
    """Mean per-symbol recall and precision, each over the symbols where it is defined.

    A symbol with no expected locations has no recall, and one where forge returned nothing has
    no precision; counting those as 0 or 1 would bias the mean either way, so they are skipped.
    """
    items = list(counts)
    recalls = [c.recall for c in items if c.recall is not None]
    precisions = [c.precision for c in items if c.precision is not None]
    return _mean(recalls), _mean(precisions)


@dataclass(frozen=True)
class Agreement:
    """How two oracles agree on the same symbols."""

    symbols: int
    identical: int
    jaccard: float | None
    a_in_b: float | None
    b_in_a: float | None


def agreement(pairs: Iterable[tuple[AbstractSet[T], AbstractSet[T]]]) -> Agreement:
    """Micro Jaccard and mutual coverage of two oracles over the symbols both answered.

    ``a_in_b`` is the share of A's locations that B also reports (B's recall against A).
    """
    symbols = identical = both = a_total = b_total = union = 0
    for a, b in pairs:
        symbols += 1
        identical += a == b
        both += len(a & b)
        a_total += len(a)
        b_total += len(b)
        union += len(a | b)
    return Agreement(
        symbols=symbols,
        identical=identical,
        jaccard=both / union if union else None,
        a_in_b=both / a_total if a_total else None,
        b_in_a=both / b_total if b_total else None,
    )
