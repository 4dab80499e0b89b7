"""`forge-lsp affected` and `pytest --forge-affected` end to end: a real git repository (the
bundled demo plus a fixture), real edits in the work tree, the real command and a real pytest."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forge_lsp.cli import main

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"
CONFTEST = """\
import pytest

from shop.models import Order


@pytest.fixture
def order():
    return Order()
"""
TEST_ORDER = """\
def test_empty_total(order):
    assert order.total() == 0
"""

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".forge", "__pycache__"))
    (root / "tests" / "conftest.py").write_text(CONFTEST)
    (root / "tests" / "test_order.py").write_text(TEST_ORDER)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "demo")
    assert main(["index", str(root)]) == 0
    return root


def affected(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(repo)
        status = main(["affected", *args])
    return status, capsys.readouterr().out


def edit(repo: Path, rel: str, old: str, new: str) -> None:
    path = repo / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_body_change_selects_the_tests_that_reach_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert affected(repo, capsys, "--format", "pytest") == (0, "")  # nothing changed
    edit(
        repo,
        "shop/pricing.py",
        "    return round(with_vat(order) *",
        "    order = order\n    return round(with_vat(order) *",
    )
    status, out = affected(repo, capsys, "--since", "HEAD", "--format", "pytest")
    assert status == 0
    # discounted <- Checkout.pay <- the two tests that pay
    assert out.splitlines() == [
        "tests/test_checkout.py::test_coupon",
        "tests/test_checkout.py::test_pay_adds_vat",
    ]
    status, out = affected(repo, capsys, "--format", "json")
    (change,) = json.loads(out)["changes"]
    assert (change["path"], change["symbol"], change["change"], change["line"]) == (
        "shop/pricing.py",
        "discounted",
        "body",
        11,
    )
    chains = {t["id"]: [e["kind"] for e in t["chain"]] for t in change["tests"]}
    assert chains == {
        "tests/test_checkout.py::test_coupon": ["call", "call"],
        "tests/test_checkout.py::test_pay_adds_vat": ["call", "call"],
    }
    status, out = affected(repo, capsys, "--format", "github")
    assert out.splitlines()[0] == (
        "::notice file=shop/pricing.py,line=11::discounted: body-only change: 2 tests reach it"
    )


def test_a_fixture_change_reaches_the_tests_that_take_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        repo,
        "shop/models.py",
        "        return sum(",
        "        assert self.items is not None\n        return sum(",
    )
    status, out = affected(repo, capsys, "--format", "pytest")
    assert (status, out.splitlines()) == (
        0,
        [
            "tests/test_checkout.py::test_coupon",
            "tests/test_checkout.py::test_pay_adds_vat",
            "tests/test_checkout.py::test_with_vat_of_empty_order",
            "tests/test_order.py::test_empty_total",
        ],
    )


def test_a_signature_change_a_deleted_function_and_a_new_test_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        repo,
        "shop/models.py",
        "    def price(self) -> float:",
        "    def price(self, rate: int = 1) -> float:",
    )
    status, out = affected(repo, capsys, "--format", "text")
    assert status == 0
    assert out.splitlines()[0] == (
        "shop/models.py:9: Product.price: signature changed: 2 callers in 2 files, 4 tests reach it"
    )
    git(repo, "checkout", "--", "shop/models.py")
    edit(
        repo,
        "shop/checkout.py",
        "    def scan(self, name: str, cents: int) -> None:\n        self.order.add(Product(name, cents))\n",
        "",
    )
    (repo / "tests" / "test_new.py").write_text("def test_new():\n    assert True\n")
    status, out = affected(repo, capsys, "--format", "pytest")
    # scan is gone: the tests that still call it, and the new test file
    assert (status, out.splitlines()) == (
        0,
        [
            "tests/test_checkout.py::test_coupon",
            "tests/test_checkout.py::test_pay_adds_vat",
            "tests/test_new.py::test_new",
        ],
    )


def test_a_change_forge_cannot_follow_means_run_everything(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "prices.csv").write_text("tea,250\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(repo)
        status = main(["affected", "--format", "pytest"])
    out, err = capsys.readouterr()
    assert (status, out) == (3, "")
    assert err == (
        "forge-lsp: cannot analyse the change, run every test:"
        " prices.csv: changed, and forge does not index it\n"
    )
    status, out = affected(repo, capsys, "--format", "json")
    assert status == 3 and json.loads(out)["analysable"] is False


def test_what_the_user_must_fix_exits_2_and_an_unreadable_index_3(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(repo)
            status = main(["affected", *args])
        return status, *capsys.readouterr()

    status, out, err = run("--since", "no-such-revision")
    assert (status, out, err.count("\n")) == (2, "", 1), err
    assert err == f"forge-lsp: no-such-revision: not a commit in {repo}\n"
    (repo / ".forge" / "graph.db").write_bytes(b"not a database" * 100)
    status, out, err = run()
    assert (status, out, err.count("\n")) == (3, "", 1), err
    assert err.startswith("forge-lsp: ") and "graph.db" in err


def test_a_diff_from_stdin(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(
        repo,
        "shop/pricing.py",
        "    return round(order.total()",
        "    order = order\n    return round(order.total()",
    )
    diff = git(repo, "diff")
    git(repo, "stash", "-q")  # the diff alone says what changed; the work tree is the new text
    git(repo, "stash", "pop", "-q")
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(diff))
    status, out = affected(repo, capsys, "--diff", "-", "--format", "pytest")
    assert (status, out.splitlines()) == (
        0,
        [
            "tests/test_checkout.py::test_coupon",
            "tests/test_checkout.py::test_pay_adds_vat",
            "tests/test_checkout.py::test_with_vat_of_empty_order",
        ],
    )


def test_the_pytest_plugin_deselects_what_the_change_cannot_reach(repo: Path) -> None:
    edit(
        repo,
        "shop/pricing.py",
        "    return round(with_vat(order) *",
        "    order = order\n    return round(with_vat(order) *",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--forge-affected=HEAD"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed, 2 deselected" in done.stdout
    assert "forge-lsp: 2 of 4 tests can observe the change since HEAD; 2 deselected" in done.stdout


def test_a_renamed_file_is_a_new_module_and_a_gone_one(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "mv", "tests/test_order.py", "tests/test_orders.py")
    status, out = affected(repo, capsys, "--format", "json")
    assert status == 0
    changes = {(c["path"], c["symbol"], c["status"]) for c in json.loads(out)["changes"]}
    assert changes == {
        ("tests/test_order.py", "", "deleted"),
        ("tests/test_orders.py", "", "added"),
    }
    assert json.loads(out)["tests"] == ["tests/test_orders.py::test_empty_total"]
