"""Recall and precision of forge_lsp against jedi and basedpyright on several real corpora.

Per corpus (``bench.corpora.CORPORA``: Django, Flask, httpx, HTTPie; pinned sdists):

- find-references of a seeded sample of definitions against the union of jedi's and
  basedpyright's references;
- incoming calls of the sample's functions and methods (call-site locations) against
  basedpyright's ``callHierarchy/incomingCalls``;
- forge's misses by lexical category (``bench.categories``), with examples.

The oracles are slow and forge changes often, so oracle answers are cached in
``bench/results/oracle-<name>-<version>-seed<N>.json`` keyed by position; re-running against a new
forge build then takes seconds.  ``--refresh-oracle`` recomputes them.

Usage (from the repository root)::

    python -m bench.accuracy                               # every corpus, fetched if missing
    python -m bench.accuracy --corpora httpx,flask         # some of them
    python -m bench.accuracy --corpus /path/to/src-tree    # one unpacked tree of your own
    python -m bench.accuracy --skip-forge                  # only compute the oracles
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the ``bench`` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import forge_cli, scoring
from bench.corpora import CACHE_DIR, CORPORA, fetch_corpus
from bench.oracle_jedi import OracleResult, run_jedi
from bench.oracle_pyright import ANALYSIS_SETTINGS, run_pyright
from bench.report import render_markdown, render_summary
from bench.sample import KINDS, Symbol, choose_sample, collect_definitions
from bench.textpos import Location

RESULTS_DIR = Path(__file__).resolve().parent / "results"
LOG_DIR = Path(__file__).resolve().parent / ".cache" / "logs"
CACHE_FORMAT = 1
CALL_KINDS = ("function", "method")
"""The sampled kinds whose incoming calls are compared (a class's calls are its constructions)."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; every default reproduces the committed report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--corpora",
        default=",".join(CORPORA),
        help=f"comma-separated corpora (default: all of {', '.join(CORPORA)})",
    )
    p.add_argument(
        "--corpus", type=Path, help="one unpacked source tree instead of --corpora (its own name)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--functions", type=int, default=40)
    p.add_argument("--methods", type=int, default=40)
    p.add_argument("--classes", type=int, default=30)
    p.add_argument("--include-tests", action="store_true", help="also sample tests/ definitions")
    p.add_argument(
        "--oracle-cache", type=Path, help="one corpus only; default: bench/results/oracle-...json"
    )
    p.add_argument("--refresh-oracle", action="store_true", help="recompute cached answers")
    p.add_argument("--jedi-timeout", type=float, default=60.0, help="seconds per symbol")
    p.add_argument("--jedi-workers", type=int, default=2)
    p.add_argument("--pyright-timeout", type=float, default=120.0, help="seconds per symbol")
    p.add_argument("--forge-cmd", help="default: forge-lsp beside python, else python -m forge_lsp")
    p.add_argument(
        "--db", type=Path, help="one corpus only; forge database (default: a temporary one)"
    )
    p.add_argument("--skip-index", action="store_true", help="reuse the existing --db")
    p.add_argument("--jobs", type=int, default=2, help="forge index --jobs")
    p.add_argument("--skip-forge", action="store_true", help="only compute/cache the oracles")
    p.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR / "accuracy",
        help="path prefix: OUT.md/.json (all corpora), OUT-<corpus>.md/.json (details)",
    )
    p.add_argument("--examples", type=int, default=5, help="examples per miss category")
    args = p.parse_args(argv)
    args.corpora = [c for c in args.corpora.split(",") if c]
    if args.corpus is not None:
        args.corpora = [Path(os.path.realpath(args.corpus)).name]
    else:
        unknown = [c for c in args.corpora if c not in CORPORA]
        if unknown:
            p.error(f"unknown corpus: {', '.join(unknown)} (known: {', '.join(CORPORA)})")
    if (args.oracle_cache or args.db) and len(args.corpora) != 1:
        p.error("--oracle-cache and --db need exactly one corpus")
    if args.skip_index and args.db is None:
        p.error("--skip-index needs --db (the index to reuse)")
    return args


def log(message: str) -> None:
    """Progress goes to stderr so stdout carries only the report."""
    print(message, file=sys.stderr, flush=True)


# -- oracle cache -------------------------------------------------------------------------------


def default_cache_path(corpus: Path, seed: int, include_tests: bool) -> Path:
    """``oracle-<corpus dir name>-seed<N>[-tests].json`` under bench/results."""
    suffix = "-tests" if include_tests else ""
    return RESULTS_DIR / f"oracle-{corpus.name}-seed{seed}{suffix}.json"


def tool_versions() -> dict[str, str]:
    """Installed oracle versions, recorded so a stale cache can be recognised."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("jedi", "basedpyright"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def load_cache(path: Path, refresh: bool) -> dict[str, Any]:
    """Load the oracle cache, or start an empty one (always when refreshing)."""
    empty: dict[str, Any] = {
        "format": CACHE_FORMAT,
        "jedi": {},
        "pyright": {},
        "pyright_calls": {},
        "runs": [],
    }
    if refresh or not path.exists():
        return empty
    data = json.loads(path.read_text())
    if data.get("format") != CACHE_FORMAT:
        log(f"{path}: unknown cache format, recomputing")
        return empty
    data.setdefault("pyright_calls", {})  # caches written before calls were compared
    return data


def save_cache(path: Path, cache: Mapping[str, Any]) -> None:
    """Write atomically so an interrupted run never leaves a truncated cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _progress_saver(
    path: Path, cache: dict[str, Any], oracle: str, total: int
) -> tuple[list[int], Any]:
    """A per-result callback that logs progress and saves the cache every 10 answers."""
    done = [0]

    def on_result(symbol: Symbol, result: OracleResult) -> None:
        cache[oracle][symbol.key] = result
        done[0] += 1
        log(
            f"[{oracle} {done[0]}/{total}] {symbol.key} {symbol.name}: {result['status']} "
            f"{len(result.get('locations', []))} locs {result.get('seconds', '?')} s"
        )
        if done[0] % 10 == 0:
            save_cache(path, cache)

    return done, on_result


def callables_of(symbols: Sequence[Symbol]) -> list[Symbol]:
    """The sampled functions and methods: the positions incoming calls are asked at."""
    return [s for s in symbols if s.kind in CALL_KINDS]


def compute_oracles(
    args: argparse.Namespace, corpus: Path, symbols: Sequence[Symbol], path: Path
) -> dict[str, Any]:
    """Fill the cache with any missing oracle answers (all of them with --refresh-oracle):
    references from both oracles, incoming calls from basedpyright (same server run)."""
    cache = load_cache(path, args.refresh_oracle)
    cache["corpus"] = corpus.name
    cache["tools"] = tool_versions()
    cache["pyright_settings"] = ANALYSIS_SETTINGS
    cache["jedi_settings"] = {"timeout_s": args.jedi_timeout, "limits": "raised to 100000"}
    for oracle in ("pyright", "jedi"):
        todo = [s for s in symbols if s.key not in cache[oracle]]
        calls_todo = [s for s in callables_of(symbols) if s.key not in cache["pyright_calls"]]
        if oracle == "jedi":
            calls_todo = []
        if not todo and not calls_todo:
            continue
        log(f"{oracle}: answering {len(todo)} symbols, {len(calls_todo)} incoming-calls")
        _, on_result = _progress_saver(path, cache, oracle, len(todo))
        start = time.monotonic()
        if oracle == "pyright":
            _, on_calls = _progress_saver(path, cache, "pyright_calls", len(calls_todo))
            log_path = LOG_DIR / f"{path.stem}.pyright.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with log_path.open("w") as server_log:
                _, health = run_pyright(
                    corpus,
                    todo,
                    args.pyright_timeout,
                    server_log,
                    on_result,
                    callables=calls_todo,
                    on_calls=on_calls,
                )
            if todo:
                cache["pyright_run_health"] = health
            if health["recheck_changed"]:
                log(f"WARNING: basedpyright answers changed on re-query: {health}")
        else:
            run_jedi(corpus, todo, args.jedi_timeout, args.jedi_workers, on_result)
        cache["runs"].append(
            {
                "oracle": oracle,
                "symbols": len(todo),
                "callables": len(calls_todo),
                "wall_seconds": round(time.monotonic() - start, 1),
                "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "cpus": os.cpu_count(),
            }
        )
        save_cache(path, cache)
    return cache


# -- forge ---------------------------------------------------------------------------------------


def forge_available(command: Sequence[str]) -> str | None:
    """None when ``forge --help`` works, else why not (the report says so instead of failing)."""
    try:
        done = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`{' '.join(command)} --help` failed: {exc}"
    if done.returncode != 0:
        return f"`{' '.join(command)} --help` exited {done.returncode}: {done.stderr[-300:]}"
    return None


def run_forge(
    args: argparse.Namespace, corpus: Path, symbols: Sequence[Symbol], db: Path
) -> dict[str, Any]:
    """Index (unless --skip-index) and query forge in exact and probable mode."""
    command = forge_cli.parse_forge_command(args.forge_cmd)
    index_seconds = None
    if not args.skip_index:
        log(f"forge: indexing {corpus} into {db}")
        index_seconds = round(forge_cli.run_index(command, corpus, db, args.jobs), 2)
    runs = {}
    for mode in ("exact", "probable"):
        log(f"forge: refs ({mode}) for {len(symbols)} positions")
        runs[mode] = forge_cli.run_refs(command, corpus, db, symbols, probable=mode == "probable")
    calls = {}
    for mode in ("exact", "probable"):
        log(f"forge: incoming calls ({mode}) for {len(callables_of(symbols))} positions")
        calls[mode] = forge_cli.run_calls(
            command, corpus, db, callables_of(symbols), probable=mode == "probable"
        )
    return {
        "command": " ".join(command),
        "index_seconds": index_seconds,
        "runs": runs,
        "calls": calls,
    }


def forge_sets(run: forge_cli.ForgeRun, symbols: Sequence[Symbol]) -> dict[str, set[Location]]:
    """Location sets per symbol key; a missing answer counts as an empty one."""
    return {s.key: run.answers.get(s.key, forge_cli.ForgeAnswer()).locations for s in symbols}


def _forge_errors(run: forge_cli.ForgeRun, symbols: Sequence[Symbol]) -> int:
    return sum(
        1 for s in symbols if s.key not in run.answers or run.answers[s.key].error is not None
    )


def forge_section(
    forge: dict[str, Any],
    truth: Sequence[scoring.SymbolTruth],
    symbols: Sequence[Symbol],
    categorizer: scoring.Categorizer,
    examples: int,
    corpus: Path,
) -> dict[str, Any]:
    """Scores and miss tables for the forge part of the report."""
    runs: dict[str, forge_cli.ForgeRun] = forge["runs"]
    exact = forge_sets(runs["exact"], symbols)
    probable = forge_sets(runs["probable"], symbols)
    section: dict[str, Any] = {
        "command": forge["command"],
        "index_seconds": forge["index_seconds"],
        "refs_seconds": {m: round(r.seconds, 2) for m, r in runs.items()},
        "exit_codes": {m: r.exit_codes for m, r in runs.items()},
        "errors": {m: _forge_errors(r, symbols) for m, r in runs.items()},
        "stderr_tail": {m: r.stderr_tail[-500:] for m, r in runs.items()},
    }
    for mode, sets in (("exact", exact), ("probable", probable)):
        section[mode] = {
            against: scoring.score_forge(truth, sets, against)
            for against in ("union", "jedi", "pyright")
        }
    negatives, positives = scoring.collect_misses(truth, exact, categorizer)
    added = {key: probable[key] - exact[key] for key in exact}
    _, probable_positives = scoring.collect_misses(truth, added, categorizer)
    section["misses"] = {
        "false_negatives": scoring.miss_table_json(negatives, corpus, examples),
        "false_positives": scoring.miss_table_json(positives, corpus, examples),
        "probable_false_positives": scoring.miss_table_json(probable_positives, corpus, examples),
    }
    section["per_symbol"] = _per_symbol(truth, exact, probable)
    if "calls" in forge:
        section["calls"] = calls_section(forge, exact, symbols, categorizer, examples, corpus)
    return section


def calls_truth(symbols: Sequence[Symbol], cache: Mapping[str, Any]) -> list[scoring.SymbolTruth]:
    """basedpyright's incoming call sites per callable, as a truth whose union is that set
    (jedi has no call hierarchy: its part is empty, so every location reads "pyright")."""
    out = []
    for s in callables_of(symbols):
        found = scoring.ok_locations(cache.get("pyright_calls", {}).get(s.key))
        out.append(scoring.SymbolTruth(s, None if found is None else set(), found))
    return out


def calls_section(
    forge: dict[str, Any],
    refs_exact: Mapping[str, set[Location]],
    symbols: Sequence[Symbol],
    categorizer: scoring.Categorizer,
    examples: int,
    corpus: Path,
) -> dict[str, Any]:
    """forge's incoming call sites against basedpyright's: scores, misses by category (call
    sites told apart by ``categorizer.calls``), and how many missed call sites forge does have
    as references (a resolved edge without the call role)."""
    callables = callables_of(symbols)
    truth = calls_truth(symbols, forge["oracle_cache"])
    runs: dict[str, forge_cli.ForgeRun] = forge["calls"]
    exact = forge_sets(runs["exact"], callables)
    probable = forge_sets(runs["probable"], callables)
    section: dict[str, Any] = {
        "seconds": {m: round(r.seconds, 2) for m, r in runs.items()},
        "errors": {m: _forge_errors(r, callables) for m, r in runs.items()},
        "exit_codes": {m: r.exit_codes for m, r in runs.items()},
        "exact": scoring.score_forge(truth, exact, "pyright"),
        "probable": scoring.score_forge(truth, probable, "pyright"),
    }
    classify = categorizer.for_calls
    negatives, positives = scoring.collect_misses(truth, exact, classify)
    section["missed_but_in_refs"] = sum(
        1
        for t in truth
        if t.union is not None
        for loc in t.union - exact[t.symbol.key]
        if loc in refs_exact.get(t.symbol.key, set())
    )
    section["misses"] = {
        "false_negatives": scoring.miss_table_json(negatives, corpus, examples),
        "false_positives": scoring.miss_table_json(positives, corpus, examples),
    }
    return section


def _per_symbol(
    truth: Sequence[scoring.SymbolTruth],
    exact: Mapping[str, set[Location]],
    probable: Mapping[str, set[Location]],
) -> list[dict[str, Any]]:
    """One row per symbol, so a regression can be traced to the symbols that changed."""
    rows = []
    for item in truth:
        union = item.union
        key = item.symbol.key
        row: dict[str, Any] = {
            "key": key,
            "kind": item.symbol.kind,
            "qualname": item.symbol.qualname,
            "jedi": None if item.jedi is None else len(item.jedi),
            "pyright": None if item.pyright is None else len(item.pyright),
            "union": None if union is None else len(union),
            "exact": len(exact[key]),
            "probable": len(probable[key]),
        }
        if union is not None:
            row["exact_fn"] = len(union - exact[key])
            row["exact_fp"] = len(exact[key] - union)
        rows.append(row)
    return rows


# -- report --------------------------------------------------------------------------------------


def build_report(
    args: argparse.Namespace,
    corpus: Path,
    definitions: int,
    symbols: Sequence[Symbol],
    cache: Mapping[str, Any],
    forge: dict[str, Any] | None,
    forge_note: str,
) -> dict[str, Any]:
    """Everything the Markdown and JSON reports show."""
    truth = scoring.build_truth(symbols, cache)
    categorizer = scoring.Categorizer(corpus)
    jedi_only, pyright_only = scoring.oracle_disagreements(truth, categorizer)
    data: dict[str, Any] = {
        "meta": {
            "corpus": corpus.name,
            "seed": args.seed,
            "include_tests": args.include_tests,
            "definitions": definitions,
            "sampled": len(symbols),
            "sampled_by_kind": dict(Counter(s.kind for s in symbols)),
            "tools": cache.get("tools", {}),
            "pyright_run_health": cache.get("pyright_run_health"),
            "oracle_runs": cache.get("runs", []),
        },
        "oracle_status": scoring.oracle_status_counts(symbols, cache),
        "oracle_seconds": {
            name: round(sum(float(cache[name][s.key].get("seconds") or 0) for s in symbols), 1)
            for name in scoring.ORACLES
            if all(s.key in cache[name] for s in symbols)
        },
        "scored_union": sum(1 for t in truth if t.union is not None),
        "coverage": scoring.oracle_coverage(truth),
        "calls_oracle": calls_oracle_summary(symbols, cache),
        "agreement": scoring.oracle_agreement(truth),
        "oracle_disagreement": {
            "jedi_only": scoring.miss_table_json(jedi_only, corpus, args.examples),
            "pyright_only": scoring.miss_table_json(pyright_only, corpus, args.examples),
        },
        "forge_note": forge_note,
    }
    if forge is not None:
        forge = {**forge, "oracle_cache": cache}
        data["forge"] = forge_section(forge, truth, symbols, categorizer, args.examples, corpus)
    return data


def calls_oracle_summary(symbols: Sequence[Symbol], cache: Mapping[str, Any]) -> dict[str, Any]:
    """basedpyright's incoming-calls answers: statuses, how many had no call-hierarchy item,
    call sites in all, and the summed query time."""
    answers = [cache.get("pyright_calls", {}).get(s.key) for s in callables_of(symbols)]
    return {
        "callables": len(answers),
        "status": dict(Counter((a or {}).get("status", "missing") for a in answers)),
        "not_prepared": sum(1 for a in answers if a and a.get("prepared") is False),
        "sites": sum(len(a.get("locations", [])) for a in answers if a),
        "seconds": round(sum(float((a or {}).get("seconds") or 0) for a in answers), 1),
    }


def resolve_corpus(args: argparse.Namespace, name: str) -> Path:
    """``--corpus`` as given, else the named sdist from the cache (fetched on first use)."""
    if args.corpus is not None:
        return Path(os.path.realpath(args.corpus))
    if not (CACHE_DIR / CORPORA[name].dirname).exists():
        log(f"fetching the {name} sdist into bench/.cache")
    return Path(os.path.realpath(fetch_corpus(name)))


def run_corpus(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """Sample, fill the oracle cache, run forge, and build one corpus's report."""
    corpus = resolve_corpus(args, name)
    definitions = collect_definitions(corpus, args.include_tests)
    counts = {"function": args.functions, "method": args.methods, "class": args.classes}
    symbols = choose_sample(definitions, args.seed, counts)
    log(f"{name}: {len(definitions)} definitions, sampled {len(symbols)} ({', '.join(KINDS)})")
    cache_path = args.oracle_cache or default_cache_path(corpus, args.seed, args.include_tests)
    cache = compute_oracles(args, corpus, symbols, cache_path)

    forge = None
    note = "--skip-forge given" if args.skip_forge else ""
    if not args.skip_forge:
        command = forge_cli.parse_forge_command(args.forge_cmd)
        note = forge_available(command) or ""
        if not note:
            with tempfile.TemporaryDirectory(prefix="forge-bench-") as tmp:
                db = args.db or Path(tmp) / "forge.db"
                forge = run_forge(args, corpus, symbols, db)
    data = build_report(args, corpus, len(definitions), symbols, cache, forge, note)
    data["meta"]["name"] = name
    data["meta"]["oracle_cache"] = cache_path.name
    data["meta"]["files"] = sum(1 for _ in corpus.rglob("*.py"))
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Every corpus in turn; then the per-corpus details and the summary of all of them."""
    args = parse_args(argv)
    reports = []
    for name in args.corpora:
        data = run_corpus(args, name)
        reports.append(data)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        detail = args.out.with_name(f"{args.out.name}-{name}")
        Path(f"{detail}.md").write_text(render_markdown(data))
        Path(f"{detail}.json").write_text(json.dumps(data, indent=1) + "\n")
    summary = summary_json(args, reports)
    markdown = render_summary(summary)
    Path(f"{args.out}.md").write_text(markdown)
    Path(f"{args.out}.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(markdown)
    return 0


def summary_json(args: argparse.Namespace, reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One row per corpus and its miss tables: what accuracy.md/.json show."""
    rows = []
    for data in reports:
        meta = data["meta"]
        forge = data.get("forge") or {}
        row: dict[str, Any] = {
            "corpus": meta["name"],
            "source": meta["corpus"],
            "files": meta["files"],
            "definitions": meta["definitions"],
            "sampled": meta["sampled"],
            "sampled_by_kind": meta["sampled_by_kind"],
            "scored_refs": data["scored_union"],
            "coverage": data["coverage"],
            "calls_oracle": data["calls_oracle"],
            "oracle_status": data["oracle_status"],
            "oracle_runs": meta["oracle_runs"],
            "tools": meta["tools"],
            "oracle_cache": meta["oracle_cache"],
            "detail": f"{args.out.name}-{meta['name']}.md",
        }
        if forge:
            row["forge_command"] = forge["command"]
            row["index_seconds"] = forge["index_seconds"]
            row["refs"] = {m: forge[m]["union"]["overall"] for m in ("exact", "probable")}
            row["refs_misses"] = forge["misses"]
            calls = forge.get("calls")
            if calls:
                row["calls"] = {m: calls[m]["overall"] for m in ("exact", "probable")}
                row["calls_misses"] = calls["misses"]
                row["calls_missed_but_in_refs"] = calls["missed_but_in_refs"]
        rows.append(row)
    return {
        "seed": args.seed,
        "include_tests": args.include_tests,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "corpora": rows,
    }


if __name__ == "__main__":
    sys.exit(main())
