"""Every benchmark in one run: forge_lsp against jedi and basedpyright, and the scale bars.

    python -m bench                 # full: Django + Flask with peers, synthetic 1k/10k/100k
    python -m bench --quick         # under 2 minutes: Flask with peers, synthetic 1k
    python -m bench --sizes 1000,10000 --corpora flask --symbols 20 --out /tmp/bench

Writes `bench/results/bench.md`, `bench.json` and PNG plots beside them (`--out` is the path
prefix). Every tool runs in this process's run, on this machine, one at a time (no tool shares
the two cores with another). How each figure is taken is in `bench/peers.py` (the tools) and
`bench/scale.py` (synthetic workspaces); accuracy is each tool's references against the union of
the other two tools' answers (so forge is scored against jedi ∪ basedpyright), over the same
seeded sample of definitions, and is printed next to every speed figure of that corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import scale
from bench.corpora import fetch_django, fetch_flask
from bench.index_bench import run_index
from bench.live_bench import engine_revision, keystrokes, summarize
from bench.metrics import Counts, compare
from bench.oracle_pyright import served_root
from bench.peers import ForgeTool, JediTool, LspTool, PyrightTool, jedi_first_answer
from bench.sample import Symbol, choose_sample, collect_definitions
from bench.textpos import Location
from forge_lsp.parsing.incremental import SourceText

RESULTS = Path(__file__).resolve().parent / "results"
TOOLS = ("forge_lsp", "basedpyright", "jedi")
PEERS = ("basedpyright", "jedi")
CORPORA: dict[str, Callable[[], Path]] = {"django": fetch_django, "flask": fetch_flask}
QUICK = {"corpora": ["flask"], "sizes": [1000], "symbols": 12, "keystrokes": 10}
FULL = {
    "corpora": ["django", "flask"],
    "sizes": [1000, 10_000, 100_000],
    "symbols": 45,
    "keystrokes": 30,
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----- accuracy (pure) ---------------------------------------------------------------------------


def accuracy(
    answers: dict[str, dict[str, set[Location] | None]], tool: str, against: Sequence[str]
) -> dict[str, Any]:
    """Micro recall and precision of `tool` against the union of `against`'s answers, over the
    symbols every one of them answered."""
    total = Counts()
    scored = 0
    for per_tool in answers.values():
        mine = per_tool.get(tool)
        others = [per_tool.get(t) for t in against]
        if mine is None or any(o is None for o in others):
            continue
        truth: set[Location] = set().union(*[o for o in others if o is not None])
        total = total + compare(mine, truth)
        scored += 1
    return {
        "against": " ∪ ".join(against),
        "symbols": scored,
        "recall": round(total.recall, 3) if total.recall is not None else None,
        "precision": round(total.precision, 3) if total.precision is not None else None,
    }


def ratio(peer: float | None, forge: float | None) -> float | None:
    """How many times longer (or larger) the peer's figure is than forge's."""
    if peer is None or forge is None or forge <= 0:
        return None
    return round(peer / forge, 1)


# ----- one real corpus ---------------------------------------------------------------------------


def pick_probe(root: Path, symbols: Sequence[Symbol]) -> Symbol:
    """The symbol every keystroke scenario asks about: in an ASCII file with function bodies
    below it, so the edits never move it."""
    for symbol in symbols:
        data = (root / symbol.path).read_bytes()
        if data.isascii() and keystrokes(data, 1, 0, min_row=symbol.line):
            return symbol
    raise ValueError("no symbol in an ASCII file with a function body below it")


def edits_for(root: Path, probe: Symbol, count: int) -> list[tuple[Any, Any, str]]:
    data = (root / probe.path).read_bytes()
    return [
        (k.start, k.end, k.text.decode("ascii"))
        for k in keystrokes(data, count, seed=0, min_row=probe.line)
    ]


def _ask_lsp(
    tool: LspTool,
    figures: dict[str, Any],
    symbols: Sequence[Symbol],
    callables: Sequence[Symbol],
    answers: dict[str, dict[str, set[Location] | None]],
    incoming: dict[str, dict[str, set[Location] | None]],
) -> None:
    """References for every symbol and incoming calls for every callable: the timings go into
    `figures`, the answers into `answers` and `incoming` under the tool's name."""
    figures["references_ms"], figures["incoming_ms"] = [], []
    for s in symbols:
        ms, answers[s.key][tool.name] = tool.references(s)
        figures["references_ms"].append(ms)
    for s in callables:
        ms, incoming[s.key][tool.name] = tool.incoming(s)
        figures["incoming_ms"].append(ms)
    tool.close_all()


def _lsp_keystrokes(tool: LspTool, probe: Symbol, edits: list[tuple[Any, Any, str]]) -> list[float]:
    times = [
        tool.keystroke(probe, probe.path, version, edit) for version, edit in enumerate(edits, 2)
    ]
    tool.close_all()
    return times


def _jedi_keystrokes(
    tool: JediTool, root: Path, probe: Symbol, edits: list[tuple[Any, Any, str]]
) -> list[float]:
    text = SourceText((root / probe.path).read_bytes())
    times = []
    for start, end, new in edits:
        text.edit(start, end, new.encode())
        times.append(tool.keystroke_code(probe, text.data.decode("ascii")))
    return times


def measure_corpus(
    name: str, root: Path, work: Path, symbols: Sequence[Symbol], keystroke_count: int, peers: bool
) -> dict[str, Any]:
    """Every tool on one corpus, one after the other."""
    probe = pick_probe(root, symbols)
    edits = edits_for(root, probe, keystroke_count)
    callables = [s for s in symbols if s.kind in ("function", "method")]
    answers: dict[str, dict[str, set[Location] | None]] = {s.key: {} for s in symbols}
    incoming: dict[str, dict[str, set[Location] | None]] = {s.key: {} for s in callables}
    figures: dict[str, dict[str, Any]] = {t: {} for t in TOOLS}

    # forge_lsp: the cold index as a whole process, then the server cold and warm
    db = work / f"{name}.db"
    log(f"{name}: forge_lsp index")
    cold_index = run_index(root, db, 2)
    f = figures["forge_lsp"]
    f["index_s"] = cold_index["wall_s"]
    f["index_peak_rss_mb"] = cold_index["peak_rss_mb"]
    f["db_mb"] = round(db.stat().st_size / 1e6, 1)
    src = sum(p.stat().st_size for p in root.rglob("*.py"))
    f["db_ratio"] = round(db.stat().st_size / src, 2)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    log(f"{name}: forge_lsp server (cold)")
    forge = ForgeTool(root, db)
    try:
        f["first_answer_cold_s"] = forge.first_complete(probe)["seconds"]
        _ask_lsp(forge, f, symbols, callables, answers, incoming)
        f["impact_ms"] = [forge.impact(s)[0] for s in symbols]
        f["keystroke_ms"] = _lsp_keystrokes(forge, probe, edits)
    finally:
        f["server_peak_rss_mb"] = forge.close()
    log(f"{name}: forge_lsp server (warm)")
    forge = ForgeTool(root, db)
    try:
        f["first_answer_warm_s"] = forge.first_complete(probe)["seconds"]
    finally:
        forge.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)

    if peers:
        log(f"{name}: basedpyright")
        p = figures["basedpyright"]
        # a corpus's own pyright config may hide files (Flask's hides its tests): see
        # bench.oracle_pyright.served_root; answers are corpus-relative either way
        with served_root(root) as served:
            pyright = PyrightTool(served)
            try:
                p["first_answer_cold_s"] = pyright.first_complete(probe)["seconds"]
                _ask_lsp(pyright, p, symbols, callables, answers, incoming)
                p["keystroke_ms"] = _lsp_keystrokes(pyright, probe, edits)
            finally:
                p["server_peak_rss_mb"] = pyright.close()
        p["first_answer_warm_s"] = None  # no persistent index: a restart is a cold start

        log(f"{name}: jedi")
        j = figures["jedi"]
        with tempfile.TemporaryDirectory(prefix="jedi-cache-") as cache:
            j["first_answer_cold_s"] = jedi_first_answer(root, probe, Path(cache))["seconds"]
            j["first_answer_warm_s"] = jedi_first_answer(root, probe, Path(cache))["seconds"]
        jedi = JediTool(root)
        try:
            refs_ms = []
            for s in symbols:
                ms, found = jedi.references(s)
                refs_ms.append(ms)
                answers[s.key]["jedi"] = found
            keys_ms = _jedi_keystrokes(jedi, root, probe, edits)
        finally:
            j["server_peak_rss_mb"] = jedi.close()
        j.update(references_ms=refs_ms, keystroke_ms=keys_ms, errors=jedi.errors[:10])

    acc = {
        tool: accuracy(answers, tool, [t for t in TOOLS if t != tool])
        for tool in (TOOLS if peers else ())
    }
    acc_calls = (
        {
            "forge_lsp": accuracy(incoming, "forge_lsp", ["basedpyright"]),
            "basedpyright": accuracy(incoming, "basedpyright", ["forge_lsp"]),
        }
        if peers
        else {}
    )
    return {
        "name": name,
        "root": str(root),
        "files": sum(1 for _ in root.rglob("*.py")),
        "source_mb": round(src / 1e6, 1),
        "symbols": len(symbols),
        "callables": len(callables),
        "probe": probe.key,
        "keystrokes": len(edits),
        "figures": figures,
        "accuracy": {"references": acc, "incoming": acc_calls},
    }


# ----- the report --------------------------------------------------------------------------------


def _stat(values: list[float] | None, key: str) -> float | None:
    if not values:
        return None
    return summarize(values)[key]


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value >= 100:
        return f"{value:,.0f}{unit}"
    return f"{value:g}{unit}"


def corpus_rows(c: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: per tool value and the peers' ratios to forge."""
    figs = c["figures"]
    rows: list[dict[str, Any]] = []

    def add(label: str, unit: str, values: dict[str, float | None], accuracy_of: str) -> None:
        row: dict[str, Any] = {"figure": label, "unit": unit, "accuracy": accuracy_of}
        for tool in TOOLS:
            row[tool] = values.get(tool)
        for peer in PEERS:
            row[f"{peer}_ratio"] = ratio(values.get(peer), values.get("forge_lsp"))
        rows.append(row)

    for key, label in (
        ("first_answer_cold_s", "first complete references answer, cold start"),
        ("first_answer_warm_s", "first complete references answer, warm start"),
    ):
        add(label, "s", {t: figs[t].get(key) for t in TOOLS}, "references")
    for key, label, acc in (
        ("references_ms", "references", "references"),
        ("incoming_ms", "incoming calls", "incoming"),
        ("impact_ms", "impact, depth 3", "references"),
        ("keystroke_ms", "keystroke → answer reflecting it", "references"),
    ):
        for stat in ("p50", "p95"):
            add(f"{label} {stat}", "ms", {t: _stat(figs[t].get(key), stat) for t in TOOLS}, acc)
    add(
        "peak RSS (server or worker)",
        "MB",
        {t: figs[t].get("server_peak_rss_mb") for t in TOOLS},
        "",
    )
    add("cold index, whole process, 2 jobs", "s", {"forge_lsp": figs["forge_lsp"]["index_s"]}, "")
    add(
        "peak RSS of the cold index (process tree)",
        "MB",
        {"forge_lsp": figs["forge_lsp"]["index_peak_rss_mb"]},
        "",
    )
    add("database size", "MB", {"forge_lsp": figs["forge_lsp"]["db_mb"]}, "")
    add("database / source bytes", "", {"forge_lsp": figs["forge_lsp"].get("db_ratio")}, "")
    return rows


def render(data: dict[str, Any]) -> str:
    out = [
        "# forge_lsp benchmark report",
        "",
        f"`{data['command']}` — engine {data['engine']}, {data['machine']}, "
        f"{data['date']}, {data['seconds']:.0f} s.",
        "",
        "Ratios are the peer's figure divided by forge_lsp's (higher: forge is faster or smaller). "
        "Accuracy columns: micro recall / precision of each tool's answers against the union of "
        "the other two tools' answers on the same sampled definitions (incoming calls: forge "
        "and basedpyright against each other; jedi has no call hierarchy). A dash: the tool has "
        "no such feature or was not run.",
    ]
    for c in data["corpora"]:
        acc = c["accuracy"]
        out += [
            "",
            f"## {c['name']} ({c['files']:,} files, {c['source_mb']} MB; {c['symbols']} sampled "
            f"definitions, {c['callables']} callables, {c['keystrokes']} keystrokes in "
            f"`{c['probe']}`)",
            "",
            "| figure | forge_lsp | basedpyright | jedi | ratio basedpyright | ratio jedi "
            "| accuracy forge (R/P) | basedpyright (R/P) | jedi (R/P) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in corpus_rows(c):
            kind = row["accuracy"]
            cells = []
            for tool in TOOLS:
                a = acc.get(kind, {}).get(tool) if kind else None
                cells.append(f"{_fmt(a['recall'])} / {_fmt(a['precision'])}" if a else "")
            out.append(
                f"| {row['figure']}{f' ({unit})' if (unit := row['unit']) else ''} | "
                f"{_fmt(row['forge_lsp'])} | "
                f"{_fmt(row['basedpyright'])} | {_fmt(row['jedi'])} | "
                f"{_fmt(row['basedpyright_ratio'], '×')} | {_fmt(row['jedi_ratio'], '×')} | "
                + " | ".join(cells)
                + " |"
            )
        if c.get("plot"):
            out += ["", f"![latency distributions, {c['name']}]({c['plot']})"]
    if data["scale"]:
        bars = scale.BARS
        out += [
            "",
            "## Scale: synthetic workspaces (`bench/synthetic.py`, seed 0), forge_lsp alone",
            "",
            "| figure | bar (100k) | "
            + " | ".join(f"{s['files']:,} files" for s in data["scale"])
            + " |",
            "|---|---|" + "---|" * len(data["scale"]),
        ]
        lines: list[tuple[str, str, Callable[[dict[str, Any]], Any]]] = [
            ("source", "", lambda s: f"{s['source_mb']} MB"),
            ("references per KB of source (Django: 20.6)", "", lambda s: s["refs_per_kb"]),
            (
                "cold index, whole process, 2 jobs",
                f"≤ {bars['cold_s']:g} s",
                lambda s: f"{s['cold_s']} s",
            ),
            (
                "peak RSS of the index (process tree)",
                f"≤ {bars['peak_rss_mb']:g} MB",
                lambda s: f"{s['cold_peak_rss_mb']} MB",
            ),
            (
                "peak RSS of the index per 1,000 files",
                "at 100k ≤ at 10k",
                lambda s: f"{round(s['cold_peak_rss_mb'] * 1000 / s['files'], 1)} MB",
            ),
            ("database / source bytes", f"≤ {bars['db_ratio']}", lambda s: s["db_ratio"]),
            ("no-op re-index, whole process", "", lambda s: f"{s['noop_s']} s"),
            (
                "restart, no changes → ready (server, median)",
                f"≤ {bars['restart_s']:g} s",
                lambda s: f"{sorted(s['restart']['seconds'])[len(s['restart']['seconds']) // 2]} s",
            ),
            (
                "spawn → first call hierarchy answer after opening a file (median)",
                "≤ 2× ready",
                lambda s: f"{_median(s['restart'].get('first_answer_after_open_s', ['—']))} s",
            ),
            (
                "server RSS after restart",
                f"≤ {bars['server_rss_mb']:g} MB",
                lambda s: f"{s['restart']['server_peak_rss_mb']} MB",
            ),
            (
                "server peak RSS over 100 live edits after restart (one interface edit, undone)",
                f"≤ {bars['server_rss_mb']:g} MB",
                lambda s: f"{s['restart'].get('server_peak_rss_after_edits_mb', '—')} MB",
            ),
            (
                "body edit → fresh, p95",
                f"≤ {bars['body_p95_ms']:g} ms",
                lambda s: f"{s['edits']['body_ms']['p95']} ms",
            ),
            (
                "files re-resolved by a body edit (max)",
                "0",
                lambda s: s["edits"]["body_reresolved_max"],
            ),
            (
                "interface edit → fresh, p95",
                f"≤ {bars['interface_p95_ms']:g} ms",
                lambda s: f"{s['edits']['interface_ms']['p95']} ms",
            ),
            (
                "files re-resolved by it; answers checked",
                "",
                lambda s: (
                    f"{s['edits']['interface_reresolved']}; {s['edits']['interface_consistent']}"
                ),
            ),
            (
                "references p95 (random symbols)",
                f"≤ {bars['references_p95_ms']:g} ms",
                lambda s: f"{s['queries']['references_ms']['p95']} ms",
            ),
            (
                "impact depth 3 p95 (random symbols)",
                f"≤ {bars['impact_p95_ms']:g} ms",
                lambda s: f"{s['queries']['impact_depth3_ms']['p95']} ms",
            ),
            (
                "impact depth 3 p95 (50 most-used symbols)",
                f"≤ {bars['impact_p95_ms']:g} ms",
                lambda s: f"{s['queries']['impact_heavy_depth3_ms']['p95']} ms",
            ),
        ]
        for label, bar, get in lines:
            out.append(
                f"| {label} | {bar} | " + " | ".join(str(get(s)) for s in data["scale"]) + " |"
            )
        if data.get("scale_plot"):
            out += [
                "",
                f"![cold index time and memory against workspace size]({data['scale_plot']})",
            ]
    optimisations = RESULTS / "optimisations.md"
    if optimisations.exists():
        out += ["", optimisations.read_text().strip()]
    return "\n".join(out) + "\n"


# ----- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="under 2 minutes")
    parser.add_argument("--corpora", help="comma-separated: " + ", ".join(CORPORA))
    parser.add_argument("--sizes", help="synthetic workspace sizes, comma-separated (0: none)")
    parser.add_argument("--symbols", type=int, help="sampled definitions per corpus")
    parser.add_argument("--keystrokes", type=int)
    parser.add_argument("--skip-peers", action="store_true", help="forge_lsp alone")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="path prefix of the report")
    args = parser.parse_args(argv)
    plan = dict(QUICK if args.quick else FULL)
    if args.corpora is not None:
        plan["corpora"] = [c for c in args.corpora.split(",") if c]
    if args.sizes is not None:
        plan["sizes"] = [int(s) for s in args.sizes.split(",") if int(s) > 0]
    for key in ("symbols", "keystrokes"):
        if getattr(args, key) is not None:
            plan[key] = getattr(args, key)
    out: Path = args.out or RESULTS / ("bench-quick" if args.quick else "bench")
    unknown = [c for c in plan["corpora"] if c not in CORPORA]
    if unknown:
        parser.error(f"unknown corpus: {', '.join(unknown)}")
    started = time.monotonic()
    data: dict[str, Any] = {
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "engine": engine_revision(),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "plan": plan,
        "corpora": [],
        "scale": [],
    }
    from bench import plots

    with tempfile.TemporaryDirectory(prefix="forge-bench-") as tmp:
        work = Path(tmp)
        for name in plan["corpora"]:
            root = CORPORA[name]().resolve()
            per_kind = max(1, plan["symbols"] // 3)
            sample = choose_sample(
                collect_definitions(root),
                args.seed,
                {"function": per_kind, "method": per_kind, "class": per_kind},
            )
            result = measure_corpus(
                name, root, work, sample, plan["keystrokes"], not args.skip_peers
            )
            data["corpora"].append(result)
        for files in plan["sizes"]:
            log(f"synthetic {files:,} files")
            data["scale"].append(scale.measure(files, work, quick=args.quick, seed=args.seed))
            shutil.rmtree(work / "scale", ignore_errors=True)
    data["seconds"] = time.monotonic() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    for c in data["corpora"]:
        c["plot"] = plots.latency_plot(c, out.with_name(f"{out.name}-latency-{c['name']}.png"))
    if len(data["scale"]) >= 2:
        data["scale_plot"] = plots.scale_plot(data["scale"], out.with_name(f"{out.name}-scale.png"))
    out.with_suffix(".json").write_text(json.dumps(data, indent=1, default=sorted) + "\n")
    report = render(data)
    out.with_suffix(".md").write_text(report)
    print(report)
    return 0


def _median(values: list[Any]) -> Any:
    return sorted(values)[len(values) // 2]


if __name__ == "__main__":
    raise SystemExit(main())
