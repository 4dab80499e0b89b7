"""Render the accuracy report (a JSON-able dict) as Markdown for humans."""

from __future__ import annotations

from typing import Any

from bench.sample import KINDS


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _score_row(label: str, score: dict[str, Any]) -> str:
    return (
        f"| {label} | {score['symbols']} | {score['tp']} | {score['fn']} | {score['fp']} | "
        f"{_pct(score['recall'])} | {_pct(score['precision'])} | "
        f"{_pct(score['macro_recall'])} | {_pct(score['macro_precision'])} |"
    )


def _score_head(label: str) -> list[str]:
    return [
        f"| {label} | symbols | TP | FN | FP | recall | precision | macro recall | macro precision |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]


def _header(data: dict[str, Any]) -> list[str]:
    meta = data["meta"]
    lines = [
        f"# forge_lsp find-references accuracy on {meta['corpus']}",
        "",
        f"Sample: seed {meta['seed']}, {meta['sampled']} symbols "
        f"({', '.join(f'{k}: {v}' for k, v in meta['sampled_by_kind'].items())}), "
        f"drawn from {meta['definitions']} definitions found with `ast`"
        f"{' (tests/ included)' if meta['include_tests'] else ' outside tests/'}.",
        f"Oracles: jedi {meta['tools'].get('jedi', '?')} (file limits raised), "
        f"basedpyright {meta['tools'].get('basedpyright', '?')} (LSP `textDocument/references`). "
        "Locations compared as (path, line, start column in code points), corpus files only, "
        "declarations included.",
        "",
        "## Oracle answers",
        "",
        "| oracle | ok | timeout | error | query seconds (sum) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, counts in data["oracle_status"].items():
        seconds = data["oracle_seconds"].get(name)
        lines.append(
            f"| {name} | {counts.get('ok', 0)} | {counts.get('timeout', 0)} | "
            f"{counts.get('error', 0) + counts.get('missing', 0)} | "
            f"{'-' if seconds is None else f'{seconds:.0f}'} |"
        )
    lines.append("")
    lines.append(
        f"Scored against the union: {data['scored_union']} symbols (both oracles answered)."
    )
    return lines


def _agreement(data: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Agreement between jedi and basedpyright",
        "",
        "| kind | symbols | identical sets | Jaccard | jedi's found by pyright "
        "| pyright's found by jedi | jedi locs | pyright locs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [("all", data["agreement"]["overall"])]
    rows += [(kind, data["agreement"]["by_kind"][kind]) for kind in KINDS]
    for label, a in rows:
        lines.append(
            f"| {label} | {a['symbols']} | {a['identical_sets']} | {_pct(a['jaccard'])} | "
            f"{_pct(a['jedi_found_by_pyright'])} | {_pct(a['pyright_found_by_jedi'])} | "
            f"{a['jedi_locations']} | {a['pyright_locations']} |"
        )
    return lines


def _forge_scores(data: dict[str, Any]) -> list[str]:
    forge = data.get("forge")
    if not forge:
        return ["", "## forge_lsp", "", "forge was not run: " + data.get("forge_note", "")]
    lines = ["", "## forge_lsp", ""]
    lines.append(
        f"Command: `{forge['command']}`; index {forge['index_seconds']} s; refs "
        f"{forge['refs_seconds']['exact']} s exact, {forge['refs_seconds']['probable']} s "
        f"probable; positions with an error: {forge['errors']['exact']} exact, "
        f"{forge['errors']['probable']} probable; exit codes {forge['exit_codes']}."
    )
    for mode in ("exact", "probable"):
        lines += ["", f"### {mode} results", "", *_score_head("against")]
        for against in ("union", "jedi", "pyright"):
            lines.append(_score_row(against, forge[mode][against]["overall"]))
        lines += ["", f"Per kind, against the union ({mode}):", "", *_score_head("kind")]
        for kind in KINDS:
            lines.append(_score_row(kind, forge[mode]["union"]["by_kind"][kind]))
    return lines


def _worst_symbols(forge: dict[str, Any], limit: int = 10) -> list[str]:
    rows = [r for r in forge["per_symbol"] if r.get("exact_fn") or r.get("exact_fp")]
    rows.sort(key=lambda r: (-(r["exact_fn"] + r["exact_fp"]), r["key"]))
    lines = [
        "",
        f"### Symbols with the most misses (exact vs union, top {limit} of {len(rows)})",
        "",
    ]
    if not rows:
        return [*lines, "None."]
    lines += ["| symbol | kind | union | forge | FN | FP |", "|---|---|---:|---:|---:|---:|"]
    for r in rows[:limit]:
        lines.append(
            f"| `{r['qualname']}` `{r['key']}` | {r['kind']} | {r['union']} | {r['exact']} | "
            f"{r['exact_fn']} | {r['exact_fp']} |"
        )
    return lines


def _miss_table(title: str, rows: list[dict[str, Any]], note: str) -> list[str]:
    lines = ["", f"### {title}", "", note, ""]
    if not rows:
        return [*lines, "None."]
    lines += ["| category | count | symbols | reported by |", "|---|---:|---:|---|"]
    for row in rows:
        by = ", ".join(f"{k} {v}" for k, v in sorted(row["by_source"].items()))
        lines.append(f"| {row['category']} | {row['count']} | {row['symbols']} | {by} |")
    for row in rows:
        lines += ["", f"**{row['category']}** ({row['count']})", ""]
        for ex in row["examples"]:
            lines.append(
                f"- `{ex['location']}` `{ex['source_line'][:140]}` — {ex['symbol']} "
                f"[{ex['reported_by']}]"
            )
    return lines


def _misses(data: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    forge = data.get("forge")
    if forge:
        lines += _worst_symbols(forge)
        lines += ["", "## forge misses by category (exact results vs the union)"]
        lines += _miss_table(
            "False negatives (in an oracle, not in forge)",
            forge["misses"]["false_negatives"],
            "“reported by” says which oracle had the location.",
        )
        lines += _miss_table(
            "False positives (in forge, in no oracle)",
            forge["misses"]["false_positives"],
            "Not necessarily wrong: both oracles miss some real references (e.g. `obj.x` "
            "with an unknown receiver). Look at the examples.",
        )
        lines += _miss_table(
            "False positives of --probable results",
            forge["misses"]["probable_false_positives"],
            "Locations only the --probable mode adds that no oracle reports.",
        )
    lines += ["", "## Where the oracles disagree"]
    lines += _miss_table(
        "Found by jedi only", data["oracle_disagreement"]["jedi_only"], "Not found by pyright."
    )
    lines += _miss_table(
        "Found by basedpyright only",
        data["oracle_disagreement"]["pyright_only"],
        "Not found by jedi.",
    )
    return lines


def render_markdown(data: dict[str, Any]) -> str:
    """The whole report as Markdown."""
    parts = _header(data) + _agreement(data) + _forge_scores(data) + _misses(data)
    return "\n".join(parts) + "\n"
