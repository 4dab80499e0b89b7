"""Render the accuracy reports (JSON-able dicts) as Markdown for humans: one corpus in detail
(``render_markdown``) and every corpus in one table with its miss categories
(``render_summary``)."""

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


def _calls(data: dict[str, Any]) -> list[str]:
    oracle = data.get("calls_oracle") or {}
    lines = [
        "",
        "## Incoming calls (forge vs basedpyright)",
        "",
        f"basedpyright `callHierarchy/incomingCalls` on the {oracle.get('callables', 0)} sampled "
        f"functions and methods: statuses {oracle.get('status', {})}, "
        f"{oracle.get('not_prepared', 0)} with no call-hierarchy item, "
        f"{oracle.get('sites', 0)} call sites, {oracle.get('seconds', 0)} s of queries.",
    ]
    calls = (data.get("forge") or {}).get("calls")
    if not calls:
        return lines
    lines += [
        f"forge `calls --incoming`: {calls['seconds']['exact']} s exact, "
        f"{calls['seconds']['probable']} s probable; positions with an error: "
        f"{calls['errors']['exact']} exact, {calls['errors']['probable']} probable. "
        f"Missed call sites that forge has as references: {calls['missed_but_in_refs']}.",
        "",
        *_score_head("mode"),
    ]
    for mode in ("exact", "probable"):
        lines.append(_score_row(mode, calls[mode]["overall"]))
    lines += _miss_table(
        "Missed call sites (in basedpyright, not in forge exact)",
        calls["misses"]["false_negatives"],
        "A property read counts as a call of its getter.",
    )
    lines += _miss_table(
        "Extra call sites (in forge exact, not in basedpyright)",
        calls["misses"]["false_positives"],
        "",
    )
    return lines


def render_markdown(data: dict[str, Any]) -> str:
    """One corpus's whole report as Markdown."""
    parts = _header(data) + _agreement(data) + _forge_scores(data) + _calls(data) + _misses(data)
    return "\n".join(parts) + "\n"


def _ratio(score: dict[str, Any] | None, key: str) -> str:
    return "-" if not score or score.get(key) is None else f"{score[key]:.3f}"


def _seconds(runs: list[dict[str, Any]], oracle: str) -> str:
    total = sum(r["wall_seconds"] for r in runs if r["oracle"] == oracle)
    return f"{total:.0f}" if any(r["oracle"] == oracle for r in runs) else "-"


def _examples(rows: list[dict[str, Any]], top: int, per: int) -> list[str]:
    lines = []
    for row in rows[:top]:
        lines.append(f"- **{row['category']}**: {row['count']} ({row['symbols']} symbols)")
        for ex in row["examples"][:per]:
            lines.append(
                f"  - `{ex['location']}` `{ex['source_line'][:120]}` — {ex['symbol']} "
                f"[{ex['reported_by']}]"
            )
    return lines


def families(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Miss counts with a plain-name receiver's binding folded in (``x.m`` of every kind of
    ``x``), most frequent first: the coarse view of the same table."""
    totals: dict[str, int] = {}
    for row in rows:
        family = row["category"].split(", x: ")[0]
        totals[family] = totals.get(family, 0) + row["count"]
    return sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))


def _families_line(rows: list[dict[str, Any]], top: int = 6) -> list[str]:
    if not any(", x: " in row["category"] for row in rows):
        return []
    folded = "; ".join(f"{name} {count}" for name, count in families(rows)[:top])
    return ["", f"Folded (any binding of x): {folded}."]


def render_summary(summary: dict[str, Any], top: int = 12, per: int = 3) -> str:
    """Every corpus in one table, then each corpus's miss categories with examples."""
    rows = summary["corpora"]
    lines = [
        "# forge_lsp accuracy: references and incoming calls on real corpora",
        "",
        f"Seed {summary['seed']}, {summary['date']}. References: forge `refs` (exact) against "
        "jedi ∪ basedpyright, micro recall / precision over the sampled definitions (functions, "
        "methods, classes; dunders skipped; definitions outside `tests/`, references anywhere in "
        "the sdist). Incoming calls: forge `calls --incoming` (exact) call sites against "
        "basedpyright's `callHierarchy/incomingCalls` on the sampled functions and methods. "
        "Coverage: the share of the union each oracle found alone. Oracle seconds: wall time of "
        "the runs that filled the cache (basedpyright: references and calls in one server).",
        "",
        "| corpus | files | sampled (fn/meth/cls) | refs recall | refs precision | calls recall "
        "| calls precision | refs scored | call sites | coverage jedi / pyright "
        "| oracle s jedi / pyright |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        kinds = r["sampled_by_kind"]
        refs = (r.get("refs") or {}).get("exact")
        calls = (r.get("calls") or {}).get("exact")
        cov = r["coverage"]
        lines.append(
            f"| {r['source']} | {r['files']} | {r['sampled']} ({kinds.get('function', 0)}/"
            f"{kinds.get('method', 0)}/{kinds.get('class', 0)}) | {_ratio(refs, 'recall')} | "
            f"{_ratio(refs, 'precision')} | {_ratio(calls, 'recall')} | "
            f"{_ratio(calls, 'precision')} | {r['scored_refs']} | {r['calls_oracle']['sites']} | "
            f"{_ratio(cov, 'jedi')} / {_ratio(cov, 'pyright')} | "
            f"{_seconds(r['oracle_runs'], 'jedi')} / {_seconds(r['oracle_runs'], 'pyright')} |"
        )
    lines += [
        "",
        "Bars (issue 11): references recall ≥ 0.95 and precision ≥ 0.98; incoming calls recall "
        "≥ 0.90. Per-corpus details (per kind, probable mode, oracle disagreement, worst "
        "symbols): " + ", ".join(f"`{r['detail']}`" for r in rows) + ".",
    ]
    if rows and rows[0].get("forge_command"):
        lines += ["", f"forge command: `{rows[0]['forge_command']}`."]
    for r in rows:
        lines += ["", f"## {r['source']}", ""]
        if "refs_misses" not in r:
            lines.append("forge was not run.")
            continue
        refs = r["refs"]["exact"]
        lines += _misses_section(
            f"### References: {refs['fn']} missed, {refs['fp']} extra "
            f"(of {refs['tp'] + refs['fn']} in the union)",
            r["refs_misses"],
            "Extra (in forge, in no oracle):",
            top,
            per,
        )
        if "calls" in r:
            calls = r["calls"]["exact"]
            lines.append("")
            lines += _misses_section(
                f"### Incoming calls: {calls['fn']} missed, {calls['fp']} extra "
                f"(of {calls['tp'] + calls['fn']} basedpyright call sites; "
                f"{r['calls_missed_but_in_refs']} of the missed are in forge's references)",
                r["calls_misses"],
                "Extra (in forge, not in basedpyright):",
                top,
                per,
            )
    return "\n".join(lines) + "\n"


def _misses_section(
    title: str, misses: dict[str, Any], extra_title: str, top: int, per: int
) -> list[str]:
    """One block of a corpus's details: the misses by category, then forge's extras."""
    lines = [
        title,
        "",
        *_examples(misses["false_negatives"], top, per),
        *_families_line(misses["false_negatives"]),
    ]
    if misses["false_positives"]:
        lines += ["", extra_title, ""]
        lines += _examples(misses["false_positives"], 3, 2)
    return lines
