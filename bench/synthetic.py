"""A deterministic synthetic monorepo: any number of files, same seed → same bytes.

    python -m bench.synthetic OUT_DIR --files 100000 [--seed 0]

Shaped like a large company's Python code rather than like a stress test:

- **Packages.** `acme/<domain>/<package>/` with an `__init__.py` that re-exports the package's
  main class, about 24 modules per package, 30 packages per domain, and a `tests/` package per
  domain whose modules import the code under test.
- **Import graph.** A module imports 1-2 earlier siblings (relative imports) and 1-4 modules of
  earlier packages (absolute `from … import …`, `import … as …`, or the package's re-export). Which
  earlier package is picked follows a power law, so low-level packages have a large fan-in, as
  utility code does.
- **Code.** 1-3 classes per module (names from a business vocabulary, so the same short names
  recur in many files, as `Manager` and `get` do in real code), some inheriting from an imported
  class; 2-6 methods each, 1-4 module functions; bodies call imported functions, construct
  imported classes and call their methods, call `self` methods, loop, branch and format strings.
- **A planted hub.** `acme/core/hub.py` defines `dispatch`, called from exactly `hub_users(n)`
  modules (1,000 for a workspace of 2,000 files or more), for the interface-edit fan-out bar.

Every file's text depends only on (seed, its index, the workspace size), never on the order in
which files are generated, so a workspace can be written as a stream without holding it.
"""

from __future__ import annotations

import argparse
import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

MODULES_PER_PACKAGE = 24
PACKAGES_PER_DOMAIN = 30
TESTS_PER_DOMAIN = 20
HUB_PATH = "acme/core/hub.py"
HUB_FUNCTION = "dispatch"

NOUNS = (
    "Order", "User", "Account", "Invoice", "Report", "Session", "Cache", "Queue", "Job",
    "Event", "Metric", "Policy", "Rule", "Token", "Profile", "Payment", "Ledger", "Shipment",
    "Catalog", "Product", "Price", "Tenant", "Quota", "Audit", "Schedule", "Batch", "Feed",
    "Index", "Search", "Template", "Message", "Channel", "Route", "Region", "Asset", "Record",
)  # fmt: skip
SUFFIXES = (
    "Service", "Manager", "Handler", "Repository", "Client", "Builder", "Validator", "View",
    "Model", "Config", "Store", "Adapter", "Serializer", "Factory", "Controller", "Worker",
)  # fmt: skip
VERBS = (
    "get", "create", "update", "delete", "validate", "process", "render", "load", "save",
    "fetch", "compute", "handle", "build", "refresh", "sync", "apply", "resolve", "merge",
    "publish", "collect", "normalize", "schedule", "retry", "archive", "export", "parse",
)  # fmt: skip
OBJECTS = (
    "items", "record", "payload", "batch", "entry", "result", "rows", "request", "context",
    "options", "values", "state", "summary", "window", "limits", "keys",
)  # fmt: skip
HUB_TEXT = '''"""Event dispatch shared by every service."""

_HANDLERS = {}


def register(name, handler):
    _HANDLERS.setdefault(name, []).append(handler)
    return handler


def dispatch(event, payload=None):
    """Send an event to every registered handler."""
    results = []
    for handler in _HANDLERS.get(event, ()):
        results.append(handler(payload))
    return results
'''
CORE_INIT = '"""Shared infrastructure."""\n\nfrom acme.core.hub import dispatch, register\n\n__all__ = ["dispatch", "register"]\n'


class Layout:
    """Where module number k lives and what it defines, computable for any k without the rest."""

    def __init__(self, files: int, seed: int) -> None:
        self.files = files
        self.seed = seed
        # code modules among the first `files` entries (the rest: __init__, tests, the hub)
        self.modules = _module_count(files)
        self.hub_users = min(1000, self.modules // 2)

    def package_of(self, k: int) -> int:
        return k // MODULES_PER_PACKAGE

    def package_dir(self, p: int) -> str:
        return f"acme/d{p // PACKAGES_PER_DOMAIN:03d}/p{p % PACKAGES_PER_DOMAIN:02d}"

    def module_name(self, k: int) -> str:
        return f"m{k % MODULES_PER_PACKAGE:02d}"

    def module_path(self, k: int) -> str:
        return f"{self.package_dir(self.package_of(k))}/{self.module_name(k)}.py"

    def dotted(self, k: int) -> str:
        return self.module_path(k)[:-3].replace("/", ".")

    def rng(self, *key: int) -> random.Random:
        return random.Random(hash_key(self.seed, *key))

    def classes(self, k: int) -> list[str]:
        rng = self.rng(k, 1)
        names: list[str] = []
        while len(names) < rng.randint(1, 3):
            name = rng.choice(NOUNS) + rng.choice(SUFFIXES)
            if name not in names:
                names.append(name)
        return names

    def functions(self, k: int) -> list[str]:
        rng = self.rng(k, 2)
        names: list[str] = []
        for _ in range(rng.randint(1, 4)):
            name = f"{rng.choice(VERBS)}_{rng.choice(OBJECTS)}"
            if name not in names:
                names.append(name)
        return names

    def methods(self, k: int, c: int) -> list[str]:
        rng = self.rng(k, 3, c)
        names: list[str] = []
        for _ in range(rng.randint(2, 6)):
            name = rng.choice(VERBS)
            if name not in names:
                names.append(name)
        return names


def hash_key(*parts: int) -> int:
    """A seed for one file's generator, independent of Python's hash randomisation."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def hub_users(files: int) -> int:
    """How many modules call `dispatch`: 1,000 from 2,000 files up, else half the modules."""
    return min(1000, _module_count(files) // 2)


def _module_count(files: int) -> int:
    return sum(1 for kind, _ in _skeleton(files) if kind == "module")


def _hub_stride(layout: Layout) -> int:
    return max(1, layout.modules // layout.hub_users) if layout.hub_users else 0


def _earlier_module(layout: Layout, rng: random.Random, k: int) -> int:
    """A module of an earlier package, power-law towards the first packages (the utilities)."""
    package = layout.package_of(k)
    target = min(package - 1, int(package * rng.random() ** 3))
    return target * MODULES_PER_PACKAGE + rng.randrange(MODULES_PER_PACKAGE)


def _imports(layout: Layout, k: int) -> list[tuple[int, str]]:
    """(module, style) pairs; style: sibling | from | alias | package."""
    rng = layout.rng(k, 4)
    out: list[tuple[int, str]] = []
    first = layout.package_of(k) * MODULES_PER_PACKAGE
    siblings = list(range(first, k))
    for j in rng.sample(siblings, min(len(siblings), rng.randint(1, 2))):
        out.append((j, "sibling"))
    if layout.package_of(k) > 0:
        seen = {j for j, _ in out}
        for _ in range(rng.randint(1, 4)):
            j = _earlier_module(layout, rng, k)
            if j in seen:
                continue
            seen.add(j)
            style = rng.choices(("from", "alias", "package"), weights=(6, 2, 1))[0]
            if style == "package" and j % MODULES_PER_PACKAGE != 0:
                style = "from"  # only a package's first module is re-exported
            out.append((j, style))
    return out


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def text(self) -> str:
        return "\n".join(self.lines).rstrip("\n") + "\n"


def module_text(layout: Layout, k: int) -> str:
    """The source of code module k."""
    rng = layout.rng(k, 5)
    imports = _imports(layout, k)
    classes = layout.classes(k)
    functions = layout.functions(k)
    stride = _hub_stride(layout)
    uses_hub = bool(stride) and k % stride == 0 and k // stride < layout.hub_users
    out = _Writer()
    out.add(f'"""{classes[0]} and helpers for {layout.dotted(k).split(".", 1)[1]}."""', "")
    out.add("from __future__ import annotations", "", "import logging")
    if uses_hub:
        out.add("", f"from acme.core.hub import {HUB_FUNCTION}")
    # What the bodies can call: (expression to construct or call, methods known on it)
    callables: list[str] = []
    constructors: list[tuple[str, list[str]]] = []
    for j, style in imports:
        j_classes, j_functions = layout.classes(j), layout.functions(j)
        if style == "sibling":
            names = [j_classes[0], j_functions[0]]
            out.add(f"from .{layout.module_name(j)} import {', '.join(sorted(set(names)))}")
            constructors.append((j_classes[0], layout.methods(j, 0)))
            callables.append(j_functions[0])
        elif style == "from":
            names = sorted({j_classes[0], *j_functions[:2]})
            out.add(f"from {layout.dotted(j)} import {', '.join(names)}")
            constructors.append((j_classes[0], layout.methods(j, 0)))
            callables.extend(j_functions[:2])
        elif style == "alias":
            alias = f"{layout.module_name(j)}_{j // MODULES_PER_PACKAGE}"
            out.add(f"import {layout.dotted(j)} as {alias}")
            constructors.append((f"{alias}.{j_classes[0]}", layout.methods(j, 0)))
            callables.append(f"{alias}.{j_functions[0]}")
        else:
            package = layout.package_dir(layout.package_of(j)).replace("/", ".")
            out.add(f"from {package} import {j_classes[0]}")
            constructors.append((j_classes[0], layout.methods(j, 0)))
    out.add("", "log = logging.getLogger(__name__)", "")
    out.add(f"DEFAULT_LIMIT = {rng.randint(5, 500)}", f"RETRIES = {rng.randint(1, 5)}", "", "")
    bases = [c for c, _ in constructors if "." not in c]
    for c, name in enumerate(classes):
        methods = layout.methods(k, c)
        base = rng.choice(bases) if bases and rng.random() < 0.35 else None
        out.add(f"class {name}({base}):" if base else f"class {name}:")
        out.add(f'    """{name} for {rng.choice(OBJECTS)}."""', "")
        out.add("    def __init__(self, options=None, limit=DEFAULT_LIMIT):")
        if base:
            out.add("        super().__init__(options)")
        out.add("        self.options = options or {}", "        self.limit = limit")
        out.add("        self.calls = 0", "")
        for m in methods:
            arg = rng.choice(OBJECTS)
            out.add(f"    def {m}(self, {arg}, *, strict=False):")
            _docstring(out, rng, "        ", m, arg)
            _body(out, rng, "        ", callables, constructors, methods, m, uses_hub and c == 0)
            uses_hub = uses_hub and c != 0
            out.add("")
        out.add("")
    for name in functions:
        arg = rng.choice(OBJECTS)
        out.add(f"def {name}({arg}, limit=DEFAULT_LIMIT):")
        _docstring(out, rng, "    ", name, arg, always=True)
        _body(out, rng, "    ", callables, [(classes[0], layout.methods(k, 0))], [], None, False)
        out.add("", "")
    return out.text()


PROSE = (
    "the caller owns the returned list and may change it",
    "entries that fail validation are skipped and logged, never raised",
    "this runs inside the request transaction, so keep it short",
    "limits come from the tenant's quota unless strict mode is on",
    "results keep the order of the input, which callers rely on",
    "retries use the module's back-off settings",
    "safe to call from several workers at once",
    "kept for compatibility with the v1 API; prefer the batch variant",
)


def _docstring(
    out: _Writer, rng: random.Random, pad: str, name: str, arg: str, always: bool = False
) -> None:
    """Docstrings and comments, so references per KB come near Django's (the report shows both)."""
    if not always and rng.random() < 0.3:
        return
    summary = f"{name.replace('_', ' ').capitalize()} the given {arg}."
    if rng.random() < 0.5:
        out.add(f'{pad}"""{summary}"""')
        return
    out.add(f'{pad}"""{summary}', "")
    for _ in range(rng.randint(1, 3)):
        out.add(f"{pad}{rng.choice(PROSE).capitalize()}.")
    out.add(f'{pad}"""')


def _body(
    out: _Writer,
    rng: random.Random,
    pad: str,
    callables: list[str],
    constructors: list[tuple[str, list[str]]],
    own_methods: list[str],
    current: str | None,
    uses_hub: bool,
) -> None:
    """A method or function body of 3-12 lines that calls what the module can see."""
    out.add(f"{pad}result = []")
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        if choice < 0.3 and constructors:
            cls, methods = rng.choice(constructors)
            var = f"obj_{rng.randrange(100)}"
            out.add(
                f"{pad}{var} = {cls}()", f"{pad}result.append({var}.{rng.choice(methods)}(result))"
            )
        elif choice < 0.55 and callables:
            out.add(f"{pad}result.append({rng.choice(callables)}(result))")
        elif choice < 0.7 and current is not None:
            others = [m for m in own_methods if m != current]
            if others:
                out.add(
                    f"{pad}self.calls += 1",
                    f"{pad}result.append(self.{rng.choice(others)}(result))",
                )
        elif choice < 0.85:
            out.add(
                f"{pad}for value in range(RETRIES):",
                f"{pad}    if value > DEFAULT_LIMIT:",
                f"{pad}        break",
                f'{pad}    log.debug("attempt %d", value)',
            )
        else:
            if rng.random() < 0.4:
                out.add(f"{pad}# {rng.choice(PROSE)}")
            out.add(f'{pad}message = f"{rng.choice(VERBS)} {{len(result)}} {rng.choice(OBJECTS)}"')
            out.add(f"{pad}log.info(message)")
    if uses_hub:
        out.add(f'{pad}{HUB_FUNCTION}("{current}", result)')
    out.add(f"{pad}return result")


def init_text(layout: Layout, p: int) -> str:
    first = p * MODULES_PER_PACKAGE
    if first >= layout.modules:
        return '"""Empty package."""\n'
    main = layout.classes(first)[0]
    return f'"""Package {layout.package_dir(p)}."""\n\nfrom .m00 import {main}\n\n__all__ = ["{main}"]\n'


def test_text(layout: Layout, domain: int, t: int) -> str:
    """A test module of a domain: imports a few of its modules and calls them from test_*."""
    rng = layout.rng(domain, 6, t)
    first = domain * PACKAGES_PER_DOMAIN * MODULES_PER_PACKAGE
    last = min(layout.modules, first + PACKAGES_PER_DOMAIN * MODULES_PER_PACKAGE)
    targets = sorted({rng.randrange(first, last) for _ in range(3)})
    out = _Writer()
    out.add(f'"""Tests for domain {domain:03d}."""', "")
    for j in targets:
        out.add(f"from {layout.dotted(j)} import {layout.classes(j)[0]}, {layout.functions(j)[0]}")
    for j in targets:
        cls, fn = layout.classes(j)[0], layout.functions(j)[0]
        method = layout.methods(j, 0)[0]
        out.add("", "", f"def test_{fn}_{j}():", f"    assert {fn}([]) is not None")
        out.add("", "", f"def test_{cls.lower()}_{method}_{j}():", f"    obj = {cls}()")
        out.add(f"    assert obj.{method}([]) is not None")
    return out.text()


def _skeleton(files: int) -> Iterator[tuple[str, tuple[int, ...]]]:
    """The first `files` entries of the endless layout, as (kind, numbers)."""
    emitted = 0
    fixed = [("root", ()), ("core", ()), ("hub", ())]
    for entry in fixed:
        if emitted == files:
            return
        emitted += 1
        yield entry
    k = 0
    domain = 0
    while True:
        entries: list[tuple[str, tuple[int, ...]]] = [("domain", (domain,))]
        for index in range(PACKAGES_PER_DOMAIN):
            p = domain * PACKAGES_PER_DOMAIN + index
            entries.append(("package", (p,)))
            for _ in range(MODULES_PER_PACKAGE):
                entries.append(("module", (k,)))
                k += 1
        entries.append(("tests", (domain,)))
        entries.extend(("test", (domain, t)) for t in range(TESTS_PER_DOMAIN))
        for entry in entries:
            if emitted == files:
                return
            emitted += 1
            yield entry
        domain += 1


def generate(files: int, seed: int = 0) -> Iterator[tuple[str, str]]:
    """(relative path, text) for every file of the workspace, in a fixed order; exactly `files`."""
    if files < 4:
        raise ValueError("a synthetic workspace needs at least 4 files")
    layout = Layout(files, seed)
    for kind, numbers in _skeleton(files):
        if kind == "root":
            yield "acme/__init__.py", '"""The acme monorepo."""\n'
        elif kind == "core":
            yield "acme/core/__init__.py", CORE_INIT
        elif kind == "hub":
            yield HUB_PATH, HUB_TEXT
        elif kind == "domain":
            yield f"acme/d{numbers[0]:03d}/__init__.py", ""
        elif kind == "package":
            yield f"{layout.package_dir(numbers[0])}/__init__.py", init_text(layout, numbers[0])
        elif kind == "module":
            yield layout.module_path(numbers[0]), module_text(layout, numbers[0])
        elif kind == "tests":
            yield f"acme/d{numbers[0]:03d}/tests/__init__.py", ""
        else:
            domain, t = numbers
            yield f"acme/d{domain:03d}/tests/test_{t:03d}.py", test_text(layout, domain, t)


def write_workspace(root: Path, files: int, seed: int = 0) -> dict[str, int]:
    """Write the workspace under `root` (which should be empty); files and bytes written."""
    count = size = 0
    made: set[Path] = set()
    for rel, text in generate(files, seed):
        path = root / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        data = text.encode("utf-8")
        path.write_bytes(data)
        count += 1
        size += len(data)
    return {"files": count, "bytes": size}


def digest(files: int, seed: int = 0) -> str:
    """sha256 over every (path, bytes) pair: equal digests mean byte-identical workspaces."""
    h = hashlib.sha256()
    for rel, text in generate(files, seed):
        h.update(rel.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    stats = write_workspace(args.out, args.files, args.seed)
    print(f"{stats['files']} files, {stats['bytes'] / 1e6:.1f} MB in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
