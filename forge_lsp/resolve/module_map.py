"""Which file each dotted module name means, kept up to date as files come, go and move.

Several files may claim a name (a module and its stub, a file importable both from its package
root and from the workspace root). The owner is elected so that the answer never depends on the
order files were added: the implementation beats its stub, then the smaller path wins. Package
prefixes are reference-counted, so removing the last module below a package removes the package.
"""

from __future__ import annotations


class ModuleMap:
    def __init__(self) -> None:
        self.owners: dict[str, int] = {}  # dotted name -> file id
        self.packages: set[str] = set()  # every proper prefix of a claimed name
        self._claims: dict[str, list[tuple[bool, str, int]]] = {}  # name -> (is stub, path, file)
        self._package_count: dict[str, int] = {}

    def claim(self, file_id: int, path: str, names: list[str]) -> None:
        key = (path.endswith(".pyi"), path, file_id)
        for name in names:
            self._claims.setdefault(name, []).append(key)
            self._elect(name)
            self._count_packages(name, 1)

    def release(self, file_id: int, names: list[str]) -> None:
        for name in names:
            claims = self._claims.get(name, [])
            claims[:] = [c for c in claims if c[2] != file_id]
            self._elect(name)
            self._count_packages(name, -1)

    def state(self, name: str) -> tuple[int | None, bool]:
        """What a dotted name means now: its file, and whether it is a package prefix."""
        return self.owners.get(name), name in self.packages

    def _elect(self, name: str) -> None:
        claims = self._claims.get(name)
        if not claims:
            self._claims.pop(name, None)
            self.owners.pop(name, None)
            return
        self.owners[name] = min(claims)[2]

    def _count_packages(self, name: str, step: int) -> None:
        parts = name.split(".")
        for i in range(1, len(parts)):
            package = ".".join(parts[:i])
            count = self._package_count.get(package, 0) + step
            if count > 0:
                self._package_count[package] = count
                self.packages.add(package)
            else:
                self._package_count.pop(package, None)
                self.packages.discard(package)
