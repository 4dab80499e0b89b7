"""Is ``forge-lsp affected`` safe? Its test selection against what real test runs execute.

Per project (``bench/affected_projects.py``): sample functions of the package that some test
executes, insert a harmless first statement into one at a time, ask ``forge-lsp affected
--since HEAD --format pytest`` which tests can observe that, and score the answer against the
tests whose coverage context touched the function's body.  Two baselines answer the same
question: run everything, and Pants-style file selection by transitive imports.

    python -m bench.affected_bench [--projects click,more-itertools] [--samples 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.affected_projects import GIT, PROJECTS, Prepared, prepare
from bench.metrics import percentile

RESULTS = Path(__file__).resolve().parent / "results"
PROBE = "_forge_probe = 0"
RECALL_BAR, SHARE_BAR = 0.98, 0.60
SELECTORS = ("forge", "forge --probable", "everything", "imports")


@dataclass(frozen=True)
class Function:
    """A function or method of the package; ``body`` excludes its header, docstring and the
    bodies of functions nested in it (those run when the nested one is called, not this one)."""

    path: str
    qualname: str
    line: int
    body: frozenset[int]
    insert_at: int  # 1-based line the probe goes before
    indent: str

    @property
    def key(self) -> str:
        return f"{self.path}:{self.line}:{self.qualname}"


def _start(stmt: ast.stmt) -> int:
    """A statement's first line, its decorators included."""
    return min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])


def _own_lines(stmts: list[ast.stmt]) -> set[int]:
    lines = {n for s in stmts for n in range(_start(s), (s.end_lineno or s.lineno) + 1)}
    for sub in (n for s in stmts for n in ast.walk(s)):
        if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
            lines -= set(range(sub.body[0].lineno, (sub.end_lineno or 0) + 1))
    return lines


def _function(path: str, lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef,
              qualname: str) -> Function | None:  # fmt: skip
    """The function's probe point: the first statement after the docstring, if it starts a line."""
    body = node.body
    docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    stmts = body[1:] if docstring and isinstance(body[0].value.value, str) else body  # type: ignore[attr-defined]
    if not stmts:
        return None
    first = stmts[0]
    decorators = getattr(first, "decorator_list", [])
    start, col = (
        (decorators[0].lineno, decorators[0].col_offset - 1)
        if decorators
        else (first.lineno, first.col_offset)
    )
    indent = re.match(r"[ \t]*", lines[start - 1]).group()  # type: ignore[union-attr]
    if len(indent) != col:  # a one-liner, or a statement after `;`
        return None
    return Function(path, qualname, node.lineno, frozenset(_own_lines(stmts)), start, indent)


def functions_in(path: str, text: str) -> list[Function]:
    """Module-level functions (also under ``if``/``try``) and methods of classes, not closures."""
    lines = text.splitlines()
    found: list[Function] = []

    def visit(parent: ast.AST, prefix: str) -> None:
        for node in ast.iter_child_nodes(parent):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if fn := _function(path, lines, node, prefix + node.name):
                    found.append(fn)
            elif isinstance(node, ast.ClassDef):
                visit(node, f"{prefix}{node.name}.")
            else:
                visit(node, prefix)

    visit(ast.parse(text), "")
    return found


def insert_probe(text: str, fn: Function) -> str:
    """``text`` with the probe as ``fn``'s first statement, at the indentation of its body."""
    lines = text.splitlines(keepends=True)
    lines.insert(fn.insert_at - 1, f"{fn.indent}{PROBE}\n")
    return "".join(lines)


def covers(test: str, selected: Iterable[str]) -> bool:
    """A selected id selects ``test`` if equal to it or a prefix at a ``::`` boundary."""
    return any(test == s or test.startswith(s + "::") for s in selected)


def expand(selected: set[str] | None, suite: list[str]) -> set[str]:
    """The suite's tests a selection runs; None (could not analyse) runs all of them."""
    if selected is None:
        return set(suite)
    return {t for t in suite if t in selected or covers(t, selected)}


@dataclass
class Score:
    """One selector on one function: what it ran against what really executes the function."""

    selected: int
    truth: int
    hits: int
    recall: float
    precision: float
    share: float
    seconds: float
    missed: list[str] = field(default_factory=list)
    note: str = ""


def score(ran: set[str], truth: set[str], suite_size: int, seconds: float, note: str = "") -> Score:
    """Recall over the truth; precision 1 for an empty selection only when nothing was due."""
    hits = len(ran & truth)
    recall = hits / len(truth) if truth else 1.0
    precision = hits / len(ran) if ran else float(not truth)
    return Score(len(ran), len(truth), hits, recall, precision, len(ran) / suite_size, seconds,
                 sorted(truth - ran), note)  # fmt: skip


# --- baseline: file-level selection by transitive imports (Pants-style) ---------------------


def module_names(repo: Path) -> dict[str, str]:
    """Dotted module name -> repo-relative file, named from the first ancestor that is no package
    (what pytest's rootdir-relative imports and a ``src/`` layout both amount to)."""
    names: dict[str, str] = {}
    for path in sorted(repo.rglob("*.py")):
        rel = path.relative_to(repo)
        if any(part.startswith(".") for part in rel.parts):
            continue
        parts = [] if path.stem == "__init__" else [path.stem]
        parent = path.parent
        while (parent / "__init__.py").exists() and parent != repo:
            parts.insert(0, parent.name)
            parent = parent.parent
        names.setdefault(".".join(parts), rel.as_posix())
    return names


def imports_of(rel: str, tree: ast.AST, names: dict[str, str]) -> set[str]:
    """Files ``rel`` imports: every resolvable prefix of each imported name (a package's
    ``__init__`` runs when a submodule is imported), relative imports resolved."""
    module = next((n for n, r in names.items() if r == rel), "")
    package = module if rel.endswith("__init__.py") else module.rpartition(".")[0]
    targets: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = ".".join(filter(None, (anchor, node.module)))
            targets += [base, *(f"{base}.{a.name}" for a in node.names)]
    found = set()
    for target in targets:
        parts = target.split(".")
        found |= {names[p] for i in range(len(parts)) if (p := ".".join(parts[: i + 1])) in names}
    return found - {rel}


def import_selection(repo: Path, changed: str) -> set[str]:
    """Test files that import ``changed`` directly or transitively; a test file also depends on
    the ``conftest.py`` files above it, as Pants infers."""
    names = module_names(repo)
    graph = {
        rel: imports_of(rel, ast.parse((repo / rel).read_bytes()), names) for rel in names.values()
    }
    selected = set()
    for rel in graph:
        name = Path(rel).name
        if not (name.startswith("test_") or name.endswith("_test.py")):
            continue
        conftests = {
            p.as_posix() for d in Path(rel).parents if (p := d / "conftest.py").as_posix() in graph
        }
        seen, todo = {rel}, [rel, *conftests]
        while todo:
            for dep in graph[todo.pop()] - seen:
                seen.add(dep)
                todo.append(dep)
        if changed in seen | conftests:
            selected.add(rel)
    return selected


# --- the system under test --------------------------------------------------------------------


def has_affected(forge: list[str]) -> bool:
    """Whether this forge has the ``affected`` command yet."""
    done = subprocess.run([*forge, "affected", "--help"], capture_output=True, text=True)
    return done.returncode == 0


def forge_label(command: str) -> str:
    """What was measured: the command and, for this checkout's forge, its commit."""
    git = [*GIT, "-C", str(RESULTS.parent.parent)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "forge_lsp"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    state = f" (checkout {head.stdout.strip()}{' + uncommitted changes' if dirty else ''})"
    return f"`{command} affected --since HEAD --format pytest`{state if head.stdout else ''}"


def forge_select(
    forge: list[str] | None, repo: Path, *flags: str
) -> tuple[set[str] | None, float, str]:
    """``affected --since HEAD --format pytest`` in ``repo``: node ids, or None when it cannot
    analyse the change (exit 3: run everything); any other failure also runs everything, and
    is counted apart in the report ("failed") so a crash does not pass for a safe answer."""
    if forge is None:  # TEMPORARY stand-in until `forge-lsp affected` exists: "cannot analyse"
        return None, 0.0, "stand-in"
    started = time.perf_counter()
    cmd = [*forge, "affected", "--since", "HEAD", "--format", "pytest", *flags]
    done = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode == 0:
        return {line.strip() for line in done.stdout.splitlines() if line.strip()}, seconds, ""
    note = f"exit {done.returncode}" + (
        f": {done.stderr.strip()[-200:]}" if done.returncode != 3 else ""
    )
    return None, seconds, note


# --- one project ----------------------------------------------------------------------------


def truth_of(fn: Function, prepared: Prepared) -> set[str]:
    """Tests whose run (any phase) executed a line of ``fn``'s body."""
    per_line = prepared.contexts.get(fn.path, {})
    return set().union(*(per_line.get(n, set()) for n in fn.body))


def run_project(prepared: Prepared, forge: list[str] | None, samples: int, seed: int) -> dict:
    """Sample, probe each function, score the three selectors; the work tree ends clean."""
    repo, project, suite = prepared.repo, prepared.project, prepared.suite
    functions = [fn for path in sorted((repo / project.package_dir).rglob("*.py"))
                 for fn in functions_in(path.relative_to(repo).as_posix(), path.read_text())]  # fmt: skip
    executed = [fn for fn in functions if fn.body & prepared.contexts.get(fn.path, {}).keys()]
    eligible = [fn for fn in executed if truth_of(fn, prepared)]
    sample = random.Random(seed).sample(eligible, min(samples, len(eligible)))
    if forge is not None:  # a cold index: facts left by another forge would be measured instead
        shutil.rmtree(repo / ".forge", ignore_errors=True)
        subprocess.run(
            [*forge, "index", ".", "--jobs", "2"], cwd=repo, check=True, capture_output=True
        )
    rows = []
    for fn in sorted(sample, key=lambda f: f.key):
        truth, original = truth_of(fn, prepared), (repo / fn.path).read_text()
        (repo / fn.path).write_text(insert_probe(original, fn))
        try:  # selector -> (selected ids or None for all, seconds, note)
            picks = {"forge": forge_select(forge, repo),
                     "forge --probable": forge_select(forge, repo, "--probable"),
                     "everything": (None, 0.0, "")}  # fmt: skip
            started = time.perf_counter()
            files = import_selection(repo, fn.path)
            picks["imports"] = (files, time.perf_counter() - started, "")
        finally:
            subprocess.run([*GIT, "checkout", "--", fn.path], cwd=repo, check=True)
        scores = {k: asdict(score(expand(ids, suite), truth, len(suite), sec, note))
                  for k, (ids, sec, note) in picks.items()}  # fmt: skip
        unknown = sorted(i for i in picks["forge"][0] or () if not expand({i}, suite))
        rows.append({"function": fn.key, "truth": len(truth), "unknown_ids": unknown[:10],
                     "scores": scores})  # fmt: skip
    return {
        "project": project.key, "version": project.version, "style": project.style,
        "suite": len(suite), "functions": len(functions), "executed": len(executed),
        "eligible": len(eligible), "import_time_only": len(executed) - len(eligible), "rows": rows,
    }  # fmt: skip


# --- report ---------------------------------------------------------------------------------


def summarise(rows: list[dict], selector: str) -> dict:
    """Micro/macro recall, mean precision and share, misses and timing of one selector."""
    scores = [r["scores"][selector] for r in rows]
    times = [s["seconds"] for s in scores]
    truth = sum(s["truth"] for s in scores)
    return {
        "functions": len(scores),
        "micro_recall": sum(s["hits"] for s in scores) / truth if truth else 1.0,
        "macro_recall": statistics.fmean(s["recall"] for s in scores) if scores else 1.0,
        "mean_precision": statistics.fmean(s["precision"] for s in scores) if scores else 1.0,
        "mean_share": statistics.fmean(s["share"] for s in scores) if scores else 0.0,
        "recall_below_1": sum(s["recall"] < 1 for s in scores),
        "cannot_analyse": sum(s["note"] == "exit 3" for s in scores),
        "errors": sum(s["note"].startswith("exit ") and s["note"] != "exit 3" for s in scores),
        "median_s": statistics.median(times) if times else 0.0,
        "p95_s": percentile(times, 95),
    }


def _mark(value: float, ok: bool) -> str:
    return f"{value:.3f} {'✓' if ok else '✗'}"


def table(projects: list[dict]) -> list[str]:
    """One row per project and selector, then the pooled rows; bars beside the figures."""
    out = [f"| project | selector | functions | micro recall (≥ {RECALL_BAR}) | macro recall | "
           f"recall < 1 | mean precision | mean share (≤ {SHARE_BAR}) | median s | p95 s "
           "| exit 3 | failed |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    groups = [(p["project"], p["rows"]) for p in projects]
    groups.append(("overall", [r for p in projects for r in p["rows"]]))
    for name, rows in groups:
        for selector in SELECTORS:
            s = summarise(rows, selector)
            out.append(
                f"| {name} | {selector} | {s['functions']} "
                f"| {_mark(s['micro_recall'], s['micro_recall'] >= RECALL_BAR)} "
                f"| {_mark(s['macro_recall'], s['macro_recall'] >= RECALL_BAR)} | {s['recall_below_1']} "
                f"| {s['mean_precision']:.3f} | {_mark(s['mean_share'], s['mean_share'] <= SHARE_BAR)} "
                f"| {s['median_s']:.3f} | {s['p95_s']:.3f} | {s['cannot_analyse']} | {s['errors']} |"
            )
    return out


def misses(projects: list[dict], shown: int = 4) -> Iterator[str]:
    """Each function some selector under-selected, with its first missed tests."""
    for p in projects:
        for selector in ("forge", "forge --probable", "imports"):
            bad = [r for r in p["rows"] if r["scores"][selector]["recall"] < 1]
            yield f"\n### {p['project']}: {selector} ({len(bad)} of {len(p['rows'])} functions)\n"
            if not bad:
                yield "None."
            for r in bad:
                s = r["scores"][selector]
                more = f" (+{len(s['missed']) - shown} more)" if len(s["missed"]) > shown else ""
                yield (f"- `{r['function']}`: recall {s['recall']:.2f}, {s['hits']}/{s['truth']}; "
                       f"missed {', '.join(f'`{m}`' for m in s['missed'][:shown])}{more}")  # fmt: skip


def report(projects: list[dict], label: str, seconds: float, command: str) -> str:
    """The markdown report: the projects, the table, the misses."""
    lines = ["# Test selection against real test runs", "", f"`{command}`: {seconds:.0f} s.",
             f"forge: {label}. Bars: recall ≥ {RECALL_BAR}, mean share ≤ {SHARE_BAR}.", "",
             "| project | version | style | suite N | functions | executed | by a test | sampled |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    lines += [f"| {p['project']} | {p['version']} | {p['style']} | {p['suite']} | {p['functions']} "
              f"| {p['executed']} | {p['eligible']} | {len(p['rows'])} |" for p in projects]  # fmt: skip
    return "\n".join([*lines, "", *table(projects), "", "## Misses", *misses(projects), ""])


def main(argv: list[str] | None = None) -> None:
    """Command line: run the projects, print the table, write affected.md and affected.json."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", default=",".join(PROJECTS), help=", ".join(PROJECTS))
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--forge", default="forge-lsp", help="command to run forge (default: on PATH)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    keys = args.projects.split(",")
    if unknown := [k for k in keys if k not in PROJECTS]:
        parser.error(f"unknown project: {', '.join(unknown)}")
    started = time.perf_counter()
    forge: list[str] | None = shlex.split(args.forge)
    if not has_affected(forge):  # type: ignore[arg-type]
        forge = None
    label = forge_label(args.forge) if forge else "TEMPORARY stand-in (no `affected`): every test"
    projects = [run_project(prepare(PROJECTS[k]), forge, args.samples, args.seed) for k in keys]
    seconds = time.perf_counter() - started
    command = shlex.join(["python", "-m", "bench.affected_bench", *(argv or sys.argv[1:])])
    text = report(projects, label, seconds, command)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "affected.md").write_text(text)
    payload = {"forge": label, "seed": args.seed, "seconds": seconds, "projects": projects}
    (args.out / "affected.json").write_text(json.dumps(payload, indent=1) + "\n")
    print("\n".join(table(projects)))
    failed = [(r["function"], r["scores"][k]["note"]) for p in projects for r in p["rows"]
              for k in ("forge", "forge --probable") if r["scores"][k]["note"].startswith("exit ")
              and r["scores"][k]["note"] != "exit 3"]  # fmt: skip
    for function, note in failed[:5]:
        print(f"warning: forge failed on {function}, counted as the whole suite: {note}")
    print(f"\n{args.out / 'affected.md'} written in {seconds:.0f} s")


if __name__ == "__main__":
    main()
