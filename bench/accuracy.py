"""Recall and precision of forge_lsp's find-references against the union of jedi and basedpyright on Django.

The oracles are slow (minutes to hours) and forge changes often, so oracle answers are cached in
``bench/results/oracle-<corpus>-seed<N>.json`` keyed by position; re-running against a new forge
build then takes seconds.  ``--refresh-oracle`` recomputes them.

Usage (from the repository root)::

    python -m bench.accuracy --corpus /path/to/django-5.2.19      # or no --corpus: fetch it
    python -m bench.accuracy --skip-forge                           # only compute the oracles
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
from bench.corpora import django_dir, fetch_django
from bench.oracle_jedi import OracleResult, run_jedi
from bench.oracle_pyright import ANALYSIS_SETTINGS, run_pyright
from bench.report import render_markdown
from bench.sample import KINDS, Symbol, choose_sample, collect_definitions
from bench.textpos import Location

RESULTS_DIR = Path(__file__).resolve().parent / "results"
LOG_DIR = Path(__file__).resolve().parent / ".cache" / "logs"
CACHE_FORMAT = 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; every default reproduces the committed report."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--corpus", type=Path, help="unpacked Django sdist (default: fetch into cache)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--functions", type=int, default=40)
    p.add_argument("--methods", type=int, default=40)
    p.add_argument("--classes", type=int, default=30)
    p.add_argument("--include-tests", action="store_true", help="also sample tests/ definitions")
    p.add_argument("--oracle-cache", type=Path, help="default: bench/results/oracle-...json")
    p.add_argument("--refresh-oracle", action="store_true", help="recompute cached answers")
    p.add_argument("--jedi-timeout", type=float, default=60.0, help="seconds per symbol")
    p.add_argument("--jedi-workers", type=int, default=2)
    p.add_argument("--pyright-timeout", type=float, default=120.0, help="seconds per symbol")
    p.add_argument("--forge-cmd", help="default: forge-lsp beside python, else python -m forge_lsp")
    p.add_argument("--db", type=Path, help="forge database (default: in a temporary directory)")
    p.add_argument("--skip-index", action="store_true", help="reuse the existing --db")
    p.add_argument("--jobs", type=int, default=2, help="forge index --jobs")
    p.add_argument("--skip-forge", action="store_true", help="only compute/cache the oracles")
    p.add_argument("--out", type=Path, default=RESULTS_DIR / "accuracy-django", help="md/json")
    p.add_argument("--examples", type=int, default=5, help="examples per miss category")
    args = p.parse_args(argv)
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
    empty: dict[str, Any] = {"format": CACHE_FORMAT, "jedi": {}, "pyright": {}, "runs": []}
    if refresh or not path.exists():
        return empty
    data = json.loads(path.read_text())
    if data.get("format") != CACHE_FORMAT:
        log(f"{path}: unknown cache format, recomputing")
        return empty
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


def compute_oracles(
    args: argparse.Namespace, corpus: Path, symbols: Sequence[Symbol], path: Path
) -> dict[str, Any]:
    """Fill the cache with any missing oracle answers (all of them with --refresh-oracle)."""
    cache = load_cache(path, args.refresh_oracle)
    cache["corpus"] = corpus.name
    cache["tools"] = tool_versions()
    cache["pyright_settings"] = ANALYSIS_SETTINGS
    cache["jedi_settings"] = {"timeout_s": args.jedi_timeout, "limits": "raised to 100000"}
    for oracle in ("pyright", "jedi"):
        todo = [s for s in symbols if s.key not in cache[oracle]]
        if not todo:
            continue
        log(f"{oracle}: answering {len(todo)} symbols")
        _, on_result = _progress_saver(path, cache, oracle, len(todo))
        start = time.monotonic()
        if oracle == "pyright":
            log_path = LOG_DIR / f"{path.stem}.pyright.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with log_path.open("w") as server_log:
                _, health = run_pyright(corpus, todo, args.pyright_timeout, server_log, on_result)
            cache["pyright_run_health"] = health
            if health["recheck_changed"]:
                log(f"WARNING: basedpyright answers changed on re-query: {health}")
        else:
            run_jedi(corpus, todo, args.jedi_timeout, args.jedi_workers, on_result)
        cache["runs"].append(
            {
                "oracle": oracle,
                "symbols": len(todo),
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
    return {"command": " ".join(command), "index_seconds": index_seconds, "runs": runs}


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
        "agreement": scoring.oracle_agreement(truth),
        "oracle_disagreement": {
            "jedi_only": scoring.miss_table_json(jedi_only, corpus, args.examples),
            "pyright_only": scoring.miss_table_json(pyright_only, corpus, args.examples),
        },
        "forge_note": forge_note,
    }
    if forge is not None:
        data["forge"] = forge_section(forge, truth, symbols, categorizer, args.examples, corpus)
    return data


def resolve_corpus(args: argparse.Namespace) -> Path:
    """``--corpus`` as given, else the cached Django sdist (fetched on first use)."""
    if args.corpus is not None:
        return Path(os.path.realpath(args.corpus))
    if not django_dir().exists():
        log("fetching the Django sdist into bench/.cache")
    return Path(os.path.realpath(fetch_django()))


def main(argv: Sequence[str] | None = None) -> int:
    """Sample, fill the oracle cache, run forge, and write the report."""
    args = parse_args(argv)
    corpus = resolve_corpus(args)
    definitions = collect_definitions(corpus, args.include_tests)
    counts = {"function": args.functions, "method": args.methods, "class": args.classes}
    symbols = choose_sample(definitions, args.seed, counts)
    log(f"{len(definitions)} definitions, sampled {len(symbols)} ({', '.join(KINDS)})")
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
    markdown = render_markdown(data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{args.out}.md").write_text(markdown)
    Path(f"{args.out}.json").write_text(json.dumps(data, indent=1) + "\n")
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
