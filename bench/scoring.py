"""Turn oracle and forge answers into the report's numbers and miss tables.

Everything here works on already-collected answers (and reads corpus files for context), so a
report can be recomputed from the oracle cache and a forge run without running any tool.
"""

from __future__ import annotations

import sysconfig
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.categories import (
    FileContext,
    build_context,
    categorize,
    decorators_at,
    is_accessor_decorator,
    refine_definition,
    split_plain_name,
)
from bench.metrics import Counts, agreement, compare, macro, micro
from bench.oracle_jedi import OracleResult
from bench.sample import KINDS, Symbol
from bench.textpos import Location, format_location, read_lines

ORACLES = ("jedi", "pyright")
STDLIB = Path(sysconfig.get_paths()["stdlib"])


def ok_locations(result: OracleResult | None) -> set[Location] | None:
    """The location set of a successful oracle answer, None for timeouts/errors/missing."""
    if not result or result.get("status") != "ok":
        return None
    return {(str(p), int(line), int(col)) for p, line, col in result["locations"]}


@dataclass
class SymbolTruth:
    """Per-symbol oracle sets; ``None`` marks an oracle that did not answer."""

    symbol: Symbol
    jedi: set[Location] | None
    pyright: set[Location] | None

    @property
    def union(self) -> set[Location] | None:
        """The reference standard: both oracles must have answered."""
        if self.jedi is None or self.pyright is None:
            return None
        return self.jedi | self.pyright

    def expected(self, against: str) -> set[Location] | None:
        """Expected set for ``against`` in ("union", "jedi", "pyright")."""
        return self.union if against == "union" else getattr(self, against)


def build_truth(
    symbols: Sequence[Symbol], oracle: Mapping[str, Mapping[str, OracleResult]]
) -> list[SymbolTruth]:
    """Pair each symbol with its cached oracle answers."""
    return [
        SymbolTruth(
            s, ok_locations(oracle["jedi"].get(s.key)), ok_locations(oracle["pyright"].get(s.key))
        )
        for s in symbols
    ]


def oracle_status_counts(
    symbols: Sequence[Symbol], oracle: Mapping[str, Mapping[str, OracleResult]]
) -> dict[str, dict[str, int]]:
    """ok/timeout/error/missing counts per oracle, for the report header."""
    out: dict[str, dict[str, int]] = {}
    for name in ORACLES:
        counter = Counter((oracle[name].get(s.key) or {}).get("status", "missing") for s in symbols)
        out[name] = dict(sorted(counter.items()))
    return out


def _fmt(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summarize(counts: Sequence[Counts]) -> dict[str, Any]:
    """Micro and macro recall/precision of a list of per-symbol counts."""
    total = micro(counts)
    macro_recall, macro_precision = macro(counts)
    return {
        "symbols": len(counts),
        "tp": total.tp,
        "fn": total.fn,
        "fp": total.fp,
        "recall": _fmt(total.recall),
        "precision": _fmt(total.precision),
        "macro_recall": _fmt(macro_recall),
        "macro_precision": _fmt(macro_precision),
    }


def score_forge(
    truth: Sequence[SymbolTruth], forge: Mapping[str, set[Location]], against: str
) -> dict[str, Any]:
    """forge vs one reference standard, overall and per kind."""
    per_kind: dict[str, list[Counts]] = defaultdict(list)
    for item in truth:
        expected = item.expected(against)
        if expected is None:
            continue
        per_kind[item.symbol.kind].append(compare(forge.get(item.symbol.key, set()), expected))
    overall = [c for kind in KINDS for c in per_kind[kind]]
    return {
        "overall": summarize(overall),
        "by_kind": {kind: summarize(per_kind[kind]) for kind in KINDS},
    }


def oracle_coverage(truth: Sequence[SymbolTruth]) -> dict[str, float | None]:
    """Share of the union each oracle found alone (micro, over the symbols both answered)."""
    scored = [t for t in truth if t.union is not None]
    union = sum(len(t.union or ()) for t in scored)
    return {
        name: _fmt(sum(len(getattr(t, name)) for t in scored) / union) if union else None
        for name in ORACLES
    }


def oracle_agreement(truth: Sequence[SymbolTruth]) -> dict[str, Any]:
    """jedi vs basedpyright on the symbols both answered, overall and per kind."""

    def as_dict(items: Iterable[SymbolTruth]) -> dict[str, Any]:
        pairs = [(t.jedi, t.pyright) for t in items if t.jedi is not None and t.pyright is not None]
        result = agreement(pairs)
        return {
            "symbols": result.symbols,
            "identical_sets": result.identical,
            "jaccard": _fmt(result.jaccard),
            "jedi_found_by_pyright": _fmt(result.a_in_b),
            "pyright_found_by_jedi": _fmt(result.b_in_a),
            "jedi_locations": sum(len(a) for a, _ in pairs),
            "pyright_locations": sum(len(b) for _, b in pairs),
        }

    return {
        "overall": as_dict(truth),
        "by_kind": {kind: as_dict(t for t in truth if t.symbol.kind == kind) for kind in KINDS},
    }


@dataclass
class Miss:
    """One location on which forge and the reference disagree."""

    symbol: Symbol
    location: Location
    category: str
    source: str  # which oracles had it: "jedi+pyright", "jedi", "pyright", or "" for forge-only


@dataclass
class MissTable:
    """Misses grouped by category, for one direction (false negatives or false positives)."""

    by_category: dict[str, list[Miss]] = field(default_factory=lambda: defaultdict(list))

    def add(self, miss: Miss) -> None:
        """Record one miss under its category."""
        self.by_category[miss.category].append(miss)

    def ranked(self) -> list[tuple[str, list[Miss]]]:
        """Categories, most frequent first (ties by name, for stable reports)."""
        return sorted(self.by_category.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def pick_examples(misses: Sequence[Miss], limit: int) -> list[Miss]:
    """Up to ``limit`` examples, round-robin over symbols.

    One prolific symbol (a method called 200 times) would otherwise fill every example slot and
    hide that the same case fails for other symbols too.
    """
    per_symbol: dict[str, list[Miss]] = defaultdict(list)
    for miss in misses:
        per_symbol[miss.symbol.key].append(miss)
    queues = list(per_symbol.values())
    picked: list[Miss] = []
    depth = 0
    while len(picked) < limit and any(depth < len(q) for q in queues):
        picked += [q[depth] for q in queues if depth < len(q)][: limit - len(picked)]
        depth += 1
    return picked


class Categorizer:
    """Caches one :class:`FileContext` per file while classifying many locations."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._contexts: dict[str, FileContext] = {}

    def _is_module(self, dotted: str) -> bool:
        """A module of the corpus (or of Django's test path, or the stdlib): no import needed."""
        rel = dotted.replace(".", "/")
        for base in (self.root, self.root / "tests", STDLIB):
            if (base / f"{rel}.py").exists() or (base / rel / "__init__.py").exists():
                return True
        return False

    def context(self, relpath: str) -> FileContext:
        """Tokenized context of a corpus file (cached)."""
        if relpath not in self._contexts:
            text = "\n".join(read_lines(str(self.root / relpath)))
            self._contexts[relpath] = build_context(text, relpath, self._is_module)
        return self._contexts[relpath]

    def is_property(self, symbol: Symbol) -> bool:
        """True when the symbol's definition is a property accessor (``@property``,
        ``@cached_property``, ``@x.setter``, ``@x.deleter``): its name's reads and writes run
        the property."""
        decorators = decorators_at(self.context(symbol.path), symbol.line)
        return any(is_accessor_decorator(d) for d in decorators)

    def __call__(self, symbol: Symbol, loc: Location, calls: bool = False) -> str:
        ctx = self.context(loc[0])
        category = categorize(
            ctx,
            loc[1],
            loc[2],
            symbol.name,
            loc == symbol.location,
            property_reads=calls and self.is_property(symbol),
            calls=calls,
        )
        category = refine_definition(
            category, decorators_at(self.context(symbol.path), symbol.line)
        )
        return split_plain_name(category, loc[0], symbol.path)

    def for_calls(self, symbol: Symbol, loc: Location) -> str:
        """Category of an incoming call site: a use without call parentheses (a property read or
        write runs its getter or setter, a method passed as a value) is told apart first, since
        forge records only uses with parentheses as calls; then the receiver's category."""
        return self(symbol, loc, calls=True)


def _source(item: SymbolTruth, loc: Location) -> str:
    names = [n for n in ORACLES if loc in (getattr(item, n) or set())]
    return "+".join(names)


def collect_misses(
    truth: Sequence[SymbolTruth],
    forge: Mapping[str, set[Location]],
    classify: Callable[[Symbol, Location], str],
) -> tuple[MissTable, MissTable]:
    """Classify forge's false negatives and false positives against the union."""
    negatives, positives = MissTable(), MissTable()
    for item in truth:
        expected = item.union
        if expected is None:
            continue
        got = forge.get(item.symbol.key, set())
        for table, locations in ((negatives, expected - got), (positives, got - expected)):
            for loc in sorted(locations):
                table.add(Miss(item.symbol, loc, classify(item.symbol, loc), _source(item, loc)))
    return negatives, positives


def oracle_disagreements(
    truth: Sequence[SymbolTruth],
    classify: Callable[[Symbol, Location], str],
) -> tuple[MissTable, MissTable]:
    """Categorise what only jedi found and what only basedpyright found."""
    jedi_only, pyright_only = MissTable(), MissTable()
    for item in truth:
        if item.jedi is None or item.pyright is None:
            continue
        for table, locations, source in (
            (jedi_only, item.jedi - item.pyright, "jedi"),
            (pyright_only, item.pyright - item.jedi, "pyright"),
        ):
            for loc in sorted(locations):
                table.add(Miss(item.symbol, loc, classify(item.symbol, loc), source))
    return jedi_only, pyright_only


def miss_table_json(table: MissTable, root: Path, max_examples: int) -> list[dict[str, Any]]:
    """JSON form of a miss table, most frequent category first."""
    return [
        {
            "category": category,
            "count": len(misses),
            "symbols": len({m.symbol.key for m in misses}),
            "by_source": dict(Counter(m.source or "forge" for m in misses)),
            "examples": [example_json(m, root) for m in pick_examples(misses, max_examples)],
        }
        for category, misses in table.ranked()
    ]


def example_json(miss: Miss, root: Path) -> dict[str, Any]:
    """One example: where, the source line, the symbol queried and who reported it."""
    lines = read_lines(str(root / miss.location[0]))
    text = lines[miss.location[1] - 1] if miss.location[1] <= len(lines) else ""
    return {
        "location": format_location(miss.location),
        "source_line": text.strip(),
        "symbol": f"{miss.symbol.qualname} ({miss.symbol.kind}) @ {miss.symbol.key}",
        "reported_by": miss.source or "forge",
    }
