"""Emacs + Eglot against `forge-lsp serve`, through editors/emacs/forge-lsp.el.

Each test runs a real Emacs (>= 30, where Eglot is built in) in batch mode with `editors/emacs`
on the load path and the Elisp driver below. The driver does what a user's configuration does
(`(require 'forge-lsp)`, `eglot-ensure` in a Python buffer), waits for `forge/status` to say
"ready", then asks references through xref (the `M-?` path) and runs `forge-lsp-impact`, which
renders the real `*xref*` buffer; the xref items are read back from that buffer's text
properties and written to a JSON file for the assertions here.

Expected locations were checked by reading examples/demo (1-based lines, 0-based character
columns, as xref stores them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .support import EDITORS, demo_workspace, find_binary, required, server_command

EMACS_DIR = EDITORS / "emacs"
PACKAGE = EMACS_DIR / "forge-lsp.el"
RUN_TIMEOUT = 30  # seconds for one Emacs run (about 1.5 s normally); the driver gives up at 25

# The Elisp driver. It reads its settings from the JSON file named by $FORGE_EMACS_TEST_CONFIG
# and writes what it saw to the `results` file of those settings, on success and on failure.
DRIVER = r""";;; forge-lsp-test-driver.el --- drives Eglot + forge-lsp in batch  -*- lexical-binding: t; -*-
(require 'cl-lib)
(setq native-comp-jit-compilation nil)

(defvar ft-config
  (with-temp-buffer
    (insert-file-contents (getenv "FORGE_EMACS_TEST_CONFIG"))
    (json-parse-buffer :object-type 'plist :array-type 'list
                       :null-object nil :false-object nil)))
(defvar ft-results nil "Plist of what was seen, written as JSON.")
(defvar ft-backtrace nil)
(defvar ft-server nil)
(defvar ft-deadline (+ (float-time) (plist-get ft-config :timeout)))

(defun ft-put (key value) (setq ft-results (plist-put ft-results key value)))

(defun ft-buffer-text (buffer)
  (if (buffer-live-p buffer)
      (with-current-buffer buffer
        (buffer-substring-no-properties (point-min) (point-max)))
    ""))

(defun ft-write-results ()
  (let ((coding-system-for-write 'utf-8-unix))
    (with-temp-file (plist-get ft-config :results)
      (json-insert ft-results :null-object nil :false-object :json-false))))

(defun ft-finish (code)
  (ft-put :messages (ft-buffer-text (get-buffer "*Messages*")))
  (let ((events (or (and ft-server (jsonrpc-events-buffer ft-server))
                    (cl-find "\\*EGLOT.*events\\*" (buffer-list)
                             :key #'buffer-name :test #'string-match-p))))
    (ft-put :events (ft-buffer-text events)))
  (when ft-server
    (ft-put :stderr (ft-buffer-text (jsonrpc-stderr-buffer ft-server))))
  (ft-write-results)
  (kill-emacs code))

(defun ft-fail (format-string &rest args)
  (ft-put :error (apply #'format format-string args))
  (ft-put :backtrace (or ft-backtrace ""))
  (ft-finish 1))

(defun ft-server-died-p ()
  (with-current-buffer (messages-buffer)
    (save-excursion
      (goto-char (point-min))
      (re-search-forward "Server died\\|Server exited with status [^0]" nil t))))

(defun ft-wait (what timeout predicate)
  "Process output and timers until PREDICATE is true; fail after TIMEOUT s."
  (let ((deadline (min ft-deadline (+ (float-time) timeout))))
    (while (not (funcall predicate))
      (when (ft-server-died-p)
        (error "The server died while waiting for %s (see stderr and events)" what))
      (when (> (float-time) deadline)
        (error "Timed out after %ss waiting for %s" timeout what))
      (accept-process-output nil 0.05))))

(defun ft-text-at (file line column)
  "The text of FILE from LINE (1-based), COLUMN (characters) to the line's end."
  (with-temp-buffer
    (insert-file-contents file)
    (goto-char (point-min))
    (forward-line (1- line))
    (forward-char column)
    (buffer-substring-no-properties (point) (line-end-position))))

(defun ft-xref-json (item)
  (let* ((location (xref-item-location item))
         (file (xref-location-group location))
         (line (xref-location-line location))
         (column (xref-file-location-column location)))
    (list :file (file-relative-name file (plist-get ft-config :root))
          :line line
          :column column
          :text (ft-text-at file line column)
          :summary (substring-no-properties (xref-item-summary item)))))

(defun ft-xref-buffer-items ()
  "The xref items of the *xref* buffer, in display order."
  (with-current-buffer xref-buffer-name
    (let ((pos (point-min)) items)
      (while (setq pos (next-single-property-change pos 'xref-item))
        (let ((item (get-text-property pos 'xref-item)))
          (when item (push item items))))
      (vconcat (mapcar #'ft-xref-json (delete-dups (nreverse items)))))))

(defun ft-kill-xref-buffer ()
  (when (get-buffer xref-buffer-name)
    (accept-process-output nil 0.02) ; let xref's own timers on that buffer run first
    (kill-buffer xref-buffer-name)))

(defun ft-show-impact (pos command &optional prefix)
  "At POS, run COMMAND interactively (with PREFIX); return its *xref* items and text."
  ;; Killing the buffer first: a window that showed it goes back to the source buffer and
  ;; restores that buffer's point.
  (ft-kill-xref-buffer)
  (goto-char pos)
  (let ((current-prefix-arg prefix))
    (save-current-buffer (call-interactively command)))
  (unless (get-buffer xref-buffer-name)
    (error "%s showed no *xref* buffer" command))
  (list :items (ft-xref-buffer-items)
        :buffer (ft-buffer-text (get-buffer xref-buffer-name))))

(defun ft-main ()
  (let* ((root (file-name-as-directory (plist-get ft-config :root)))
         (file (expand-file-name (plist-get ft-config :file) root)))
    ;; What a user's init file does.
    (setq forge-lsp-server-command (plist-get ft-config :command))
    (setq forge-lsp-initialization-options (plist-get ft-config :initializationOptions))
    (pcase (plist-get ft-config :encodings)
      ("default")
      ("eglot" (setq forge-lsp-position-encodings nil))
      (encodings (setq forge-lsp-position-encodings encodings)))
    (require 'forge-lsp)
    (let ((forge-lsp-server-command '("forge-lsp" "serve")))
      (ft-put :defaultContact (format "%S" (forge-lsp-server-contact))))
    (ft-put :eglotVersion
            (mapconcat #'number-to-string (alist-get 'eglot package--builtin-versions) "."))
    (ft-put :emacsVersion emacs-version)
    ;; The fixture is not a VCS checkout: make its root the project.
    (add-hook 'project-find-functions
              (lambda (dir) (when (file-in-directory-p dir root) (cons 'transient root))))
    (find-file file)
    (ft-put :majorMode (symbol-name major-mode))
    (let ((guess (eglot--guess-contact)))
      (ft-put :serverClass (symbol-name (nth 2 guess)))
      (ft-put :contact (vconcat (nth 3 guess))))
    ;; `eglot-ensure' (as in python-mode-hook) connects after the current command.
    (eglot-ensure)
    (run-hooks 'post-command-hook)
    (ft-wait "Eglot to connect" 20
             (lambda () (and (eglot-current-server) (eglot-managed-p))))
    (setq ft-server (eglot-current-server))
    (ft-put :serverObjectClass (symbol-name (eieio-object-class ft-server)))
    (ft-put :positionEncoding (or (eglot-server-capable :positionEncoding) ""))
    (let (status)
      (ft-wait "forge/status to say ready" 20
               (lambda ()
                 (setq status (forge-lsp-status-request))
                 (or (equal (plist-get status :state) "ready")
                     (progn (sleep-for 0.1) nil))))
      (ft-put :status status))
    (ft-put :statusCommand (forge-lsp-status))
    (forge-lsp-status t)
    (ft-put :statusBuffer (ft-buffer-text (get-buffer "*forge-lsp status*")))
    (ft-put :statusLine (forge-lsp-format-status (forge-lsp-status-request)))
    ;; Point on the target, by line and column.
    (goto-char (point-min))
    (forward-line (1- (plist-get ft-config :line)))
    (forward-char (1- (plist-get ft-config :column)))
    (ft-put :atPoint (buffer-substring-no-properties (point) (line-end-position)))
    (let* ((target (point))
           (refs nil)
           (xref-show-xrefs-function
            (lambda (fetcher _alist) (setq refs (funcall fetcher)))))
      ;; M-? : the xref path the user takes, with Eglot as the backend.
      (ft-put :xrefBackend (symbol-name (xref-find-backend)))
      (xref-find-references (xref-backend-identifier-at-point (xref-find-backend)))
      (ft-put :references (vconcat (mapcar #'ft-xref-json refs)))
      (goto-char target))
    (let ((target (point))
          (blank (save-excursion (goto-char (point-min)) (forward-line 2) (point))))
      (ft-put :impact (ft-show-impact target #'forge-lsp-impact))
      ;; `g' in the xref buffer asks the server again.
      (with-current-buffer xref-buffer-name (revert-buffer))
      (ft-put :impactReverted (ft-xref-buffer-items))
      (ft-put :impactDepth1 (ft-show-impact target #'forge-lsp-impact 1))
      (let ((forge-lsp-impact-location 'use))
        (ft-put :impactUse (ft-show-impact target #'forge-lsp-impact)))
      (ft-put :impactFile (ft-show-impact target #'forge-lsp-impact-file))
      ;; No symbol at point (line 3 is blank): a message, no xref buffer.
      (ft-kill-xref-buffer)
      (goto-char blank)
      (ft-put :impactNowhere
              (if (save-current-buffer (call-interactively #'forge-lsp-impact)) t :json-false))
      (ft-put :impactNowhereBuffer (if (get-buffer xref-buffer-name) t :json-false))
      (goto-char target))
    (when (plist-get ft-config :reindex)
      (let (done)
        (forge-lsp-reindex nil (lambda (status error) (setq done (list status error))))
        (ft-wait "forge/reindex to answer" 20 (lambda () done))
        (when (cadr done) (error "forge/reindex failed: %s" (cadr done)))
        (ft-put :reindexStatus (car done))
        ;; The graph after the rebuild, seen from the open buffer.
        (goto-char (point-min))
        (forward-line (1- (plist-get ft-config :line)))
        (forward-char (1- (plist-get ft-config :column)))
        (ft-put :referencesAfterReindex
                (vconcat (mapcar #'ft-xref-json
                                 (xref-backend-references 'eglot "Order.total"))))))
    (eglot-shutdown ft-server nil 5 t)
    (ft-put :ok t)))

(run-at-time (plist-get ft-config :timeout) nil
             (lambda () (ft-fail "driver timeout (%ss)" (plist-get ft-config :timeout))))
(condition-case err
    (handler-bind ((error (lambda (_)
                            (setq ft-backtrace (with-output-to-string (backtrace))))))
      (ft-main))
  (error (ft-fail "%s" (error-message-string err))))
(ft-finish 0)
"""


def emacs_binary() -> str:
    """Emacs >= 30 (Eglot built in); skipped or failed like any missing editor."""
    emacs = find_binary("emacs", "FORGE_EMACS")
    first = subprocess.run(
        [emacs, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.partition("\n")[0]
    match = re.match(r"GNU Emacs (\d+)", first)
    if not match or int(match.group(1)) < 30:
        message = f"{emacs} is {first or 'not Emacs'!r}; these tests need Emacs >= 30"
        if required():
            pytest.fail(f"{message}; FORGE_REQUIRE_EDITORS is set, so this is a failure")
        pytest.skip(message)
    return emacs


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a batch Emacs that cannot see the user's own configuration."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMACS", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        TERM="dumb",
    )
    env.pop("FORGE_LSP_FAULT", None)
    env.pop("FORGE_LSP_DELAY", None)
    return env


def describe_failure(what: str, proc: subprocess.CompletedProcess[str] | None, result: Any) -> str:
    parts = [what]
    if isinstance(result, dict):
        for key in ("error", "backtrace", "messages", "stderr", "events"):
            text = result.get(key)
            if text:
                text = str(text)
                if key == "backtrace":  # innermost frames first
                    text = text[:3000]
                elif len(text) > 6000:
                    text = "…" + text[-6000:]
                parts.append(f"--- {key} ---\n{text}")
    if proc is not None:
        parts.append(f"--- emacs exit status {proc.returncode} ---")
        parts.append(f"--- emacs stdout ---\n{proc.stdout[-4000:]}")
        parts.append(f"--- emacs stderr ---\n{proc.stderr[-6000:]}")
    return "\n".join(parts)


def run_driver(
    tmp_path: Path,
    root: Path,
    *,
    file: str,
    line: int,
    column: int,
    reindex: bool,
    encodings: str | list[str] = "default",
) -> dict[str, Any]:
    """Run the driver on `file` of `root` at `line`:`column` (1-based); return its results.

    `encodings` sets `forge-lsp-position-encodings`: "default" leaves forge-lsp.el's default,
    "eglot" sets nil (what Eglot offers by itself), a list offers those encodings.
    """
    emacs = emacs_binary()
    driver = tmp_path / "forge-lsp-test-driver.el"
    driver.write_text(DRIVER, encoding="utf-8")
    results = tmp_path / "results.json"
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "root": str(root),
                "file": file,
                "line": line,
                "column": column,
                "command": server_command(),
                "results": str(results),
                "reindex": reindex,
                "encodings": encodings,
                "initializationOptions": {"cacheSize": 7},
                "timeout": RUN_TIMEOUT - 5,
            }
        ),
        encoding="utf-8",
    )
    env = isolated_env(tmp_path)
    env["FORGE_EMACS_TEST_CONFIG"] = str(config)
    command = [emacs, "--batch", "-Q", "-L", str(EMACS_DIR), "-l", str(driver)]
    try:
        proc = subprocess.run(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,  # a prompt in batch mode fails at once
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        # TimeoutExpired holds bytes whatever `text` says.
        out, err = (
            x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
            for x in (exc.stdout, exc.stderr)
        )
        pytest.fail(
            f"Emacs did not exit in {RUN_TIMEOUT}s\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
        )
    result: Any = None
    if results.is_file():
        try:
            result = json.loads(results.read_text(encoding="utf-8"))
        except ValueError as exc:
            pytest.fail(describe_failure(f"unreadable results file: {exc}", proc, None))
    if proc.returncode != 0 or not isinstance(result, dict) or result.get("ok") is not True:
        pytest.fail(describe_failure("the Emacs driver failed", proc, result))
    assert isinstance(result, dict)
    result["_proc"] = proc
    return result


def check(result: dict[str, Any], condition: bool, message: str) -> None:
    """Assert, with the Emacs side's logs in the failure message."""
    if not condition:
        pytest.fail(describe_failure(message, result.get("_proc"), result))


def locations(items: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    return [(item["file"], item["line"], item["column"]) for item in items]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One Emacs session on a fresh copy of examples/demo, at Order.total (models.py:21:9)."""
    tmp_path = tmp_path_factory.mktemp("emacs-demo")
    root = demo_workspace(tmp_path)
    result = run_driver(tmp_path, root, file="shop/models.py", line=21, column=9, reindex=True)
    result["_root"] = root
    return result


def test_eglot_starts_forge_lsp_through_forge_lsp_el(demo: dict[str, Any]) -> None:
    # Eglot found forge-lsp through forge-lsp.el's `eglot-server-programs' entry.
    check(demo, demo["majorMode"] == "python-mode", f"major mode {demo['majorMode']}")
    check(demo, demo["serverClass"] == "forge-lsp-server", f"class {demo['serverClass']}")
    check(demo, demo["serverObjectClass"] == "forge-lsp-server", "class of the connection")
    check(demo, demo["contact"] == server_command(), f"contact {demo['contact']}")
    # forge-lsp.el offers utf-16 (see forge-lsp-position-encodings); the server takes it.
    check(demo, demo["positionEncoding"] == "utf-16", demo["positionEncoding"])
    check(demo, demo["xrefBackend"] == "eglot", f"xref backend {demo['xrefBackend']}")
    # A bare program name is left for the PATH lookup.
    check(demo, demo["defaultContact"] == '(forge-lsp-server "forge-lsp" "serve")', "contact")
    # forge-lsp-initialization-options reach the server: the driver sets {"cacheSize": 7}.
    folders = demo["status"]["folders"]
    check(demo, [f["cache"]["maxSize"] for f in folders] == [7], f"folders {folders}")
    # Nothing went wrong on the way (errors in timers, hooks or process filters are only logged).
    errors = [m for m in demo["messages"].splitlines() if "rror" in m]
    check(demo, not errors, f"errors in *Messages*: {errors}")


def test_forge_lsp_status(demo: dict[str, Any]) -> None:
    status = demo["status"]
    check(demo, status["state"] == "ready", f"status {status}")
    # shop/__init__.py, models.py, pricing.py, checkout.py and tests/test_checkout.py.
    check(demo, status["files"] == 5, f"status files {status['files']}")
    check(demo, status["symbols"] > 0 and status["references"] > 0, f"status {status}")
    check(demo, demo["statusCommand"]["state"] == "ready", "forge-lsp-status's answer")
    line = demo["statusLine"]
    check(
        demo,
        re.fullmatch(
            r"forge-lsp \S+: ready, 5 files, \d+ symbols, \d+ references, pending 0 files"
            r" \+ 0 updates, cache hit rate (\d+\.\d%|n/a), utf-16",
            line,
        )
        is not None,
        f"status line {line!r}",
    )
    buffer = demo["statusBuffer"]
    check(demo, str(demo["_root"]) in buffer and "state:" in buffer, buffer)


def test_references_through_xref(demo: dict[str, Any]) -> None:
    check(demo, demo["atPoint"].startswith("total(self)"), demo["atPoint"])
    # M-? on Order.total: the declaration (Eglot asks with includeDeclaration) and the one call,
    # `order.total()` in pricing.with_vat.
    refs = demo["references"]
    check(
        demo,
        sorted(locations(refs)) == [("shop/models.py", 21, 8), ("shop/pricing.py", 7, 23)],
        f"references {refs}",
    )
    check(demo, all(ref["text"].startswith("total") for ref in refs), f"references {refs}")


CHAIN = "Order.total <-call- with_vat"


def test_impact_lists_dependents_with_their_chains(demo: dict[str, Any]) -> None:
    # forge-lsp-impact at Order.total, depth 3 (the default): the dependents, grouped by file in
    # path order, each at its name, with the chain of uses as the summary.
    expected = [
        ("shop/checkout.py", 12, 8, "pay(", f"{CHAIN} <-call- Checkout.pay"),
        ("shop/pricing.py", 6, 4, "with_vat(", CHAIN),
        ("shop/pricing.py", 10, 4, "discounted(", f"{CHAIN} <-call- discounted"),
        # The module imports with_vat (line 3); a module leads to its first line.
        ("tests/test_checkout.py", 1, 0, "from shop", f"{CHAIN} <-import- test_checkout.py"),
        (
            "tests/test_checkout.py",
            6,
            4,
            "test_pay_adds_vat(",
            f"{CHAIN} <-call- Checkout.pay <-call- test_pay_adds_vat  [test]",
        ),
        (
            "tests/test_checkout.py",
            12,
            4,
            "test_with_vat_of_empty_order(",
            f"{CHAIN} <-call- test_with_vat_of_empty_order  [test]",
        ),
        (
            "tests/test_checkout.py",
            16,
            4,
            "test_coupon(",
            f"{CHAIN} <-call- Checkout.pay <-call- test_coupon  [test]",
        ),
    ]
    items = demo["impact"]["items"]
    got = [(i["file"], i["line"], i["column"], i["text"], i["summary"]) for i in items]
    check(
        demo,
        len(got) == len(expected)
        and all(
            g[:3] == e[:3] and g[3].startswith(e[3]) and g[4] == e[4]
            for g, e in zip(got, expected, strict=True)
        ),
        "forge-lsp-impact items:\n"
        + "\n".join(map(repr, got))
        + "\nexpected:\n"
        + "\n".join(map(repr, expected)),
    )
    buffer = demo["impact"]["buffer"]
    for name in ("shop/checkout.py", "shop/pricing.py", "tests/test_checkout.py"):
        check(demo, name in buffer, f"{name} not in the *xref* buffer:\n{buffer}")
    check(demo, f"{CHAIN} <-call- discounted" in buffer, f"*xref* buffer:\n{buffer}")
    check(
        demo,
        locations(demo["impactReverted"]) == locations(items),
        f"after revert-buffer (g): {demo['impactReverted']}",
    )


def test_impact_with_no_symbol_at_point(demo: dict[str, Any]) -> None:
    check(demo, demo["impactNowhere"] is False, f"returned {demo['impactNowhere']}")
    check(demo, not demo["impactNowhereBuffer"], "an *xref* buffer was shown")
    check(demo, "forge-lsp: no symbol at point" in demo["messages"], "no message")


def test_impact_prefix_argument_is_the_depth(demo: dict[str, Any]) -> None:
    # C-u 1 M-x forge-lsp-impact: only the direct caller.
    items = demo["impactDepth1"]["items"]
    check(
        demo,
        [(i["file"], i["line"], i["column"], i["summary"]) for i in items]
        == [("shop/pricing.py", 6, 4, CHAIN)],
        f"depth 1: {items}",
    )


def test_impact_use_locations(demo: dict[str, Any]) -> None:
    # forge-lsp-impact-location = use: each line leads to where the dependent uses the previous
    # symbol of its chain.
    expected = [
        ("shop/checkout.py", 15, 23, "with_vat(self.order)"),
        ("shop/pricing.py", 7, 23, "total()"),
        ("shop/pricing.py", 11, 17, "with_vat(order)"),
        ("tests/test_checkout.py", 3, 25, "with_vat"),
        ("tests/test_checkout.py", 9, 20, "pay()"),
        ("tests/test_checkout.py", 13, 11, "with_vat(Order())"),
        ("tests/test_checkout.py", 19, 20, "pay(coupon=10)"),
    ]
    uses = demo["impactUse"]["items"]
    check(
        demo,
        len(uses) == len(expected)
        and all(
            (u["file"], u["line"], u["column"]) == e[:3] and u["text"].startswith(e[3])
            for u, e in zip(uses, expected, strict=True)
        ),
        f"use locations: {[(u['file'], u['line'], u['column'], u['text']) for u in uses]}",
    )


def test_impact_of_a_whole_file(demo: dict[str, Any]) -> None:
    # forge-lsp-impact-file in models.py: what uses Order or Product, e.g. Checkout.__init__
    # (`Order()`), Checkout.scan (`self.order.add(...)`, `self.order` being the Order that
    # __init__ assigns: the first use in the line), with_vat (its `order: Order` annotation).
    got = {(i["file"], i["line"], i["column"], i["summary"]) for i in demo["impactFile"]["items"]}
    expected = {
        ("shop/checkout.py", 6, 8, "Order <-call- Checkout.__init__"),
        ("shop/checkout.py", 9, 8, "Order.add <-call- Checkout.scan"),
        ("shop/pricing.py", 6, 4, "Order <-read- with_vat"),
        ("tests/test_checkout.py", 12, 4, "Order <-call- test_with_vat_of_empty_order  [test]"),
    }
    check(demo, expected <= got, f"file impact: {sorted(got)}")


def test_reindex(demo: dict[str, Any]) -> None:
    status = demo["reindexStatus"]
    check(demo, status["state"] == "ready" and status["files"] > 0, f"after reindex: {status}")


def test_reindex_keeps_open_documents(demo: dict[str, Any]) -> None:
    status = demo["reindexStatus"]
    assert status["files"] == 5, f"after reindex: {status}"
    assert sorted(locations(demo["referencesAfterReindex"])) == [
        ("shop/models.py", 21, 8),
        ("shop/pricing.py", 7, 23),
    ]


@pytest.mark.parametrize(
    ("encodings", "negotiated"),
    [("default", "utf-16"), ("eglot", "utf-32"), (["utf-8"], "utf-8")],
)
def test_positions_with_non_ascii_text(
    tmp_path: Path, encodings: str | list[str], negotiated: str
) -> None:
    """forge-lsp-impact converts columns in the negotiated encoding, in unvisited files too."""
    root = demo_workspace(tmp_path)
    # A use of Order.total after characters that take 2 UTF-16 units (🛒) or 2 UTF-8 bytes (é).
    labels = root / "shop" / "labels.py"
    labels.write_text(
        "from shop.models import Order\n"
        "\n"
        "\n"
        "def label(order: Order) -> str:\n"
        '    return "🛒 café " + str(order.total())  # Ω\n',
        encoding="utf-8",
    )
    column = labels.read_text(encoding="utf-8").splitlines()[4].index("total")
    assert column == 33  # characters, as Emacs counts them (utf-16: 34, utf-8: 37)
    result = run_driver(
        tmp_path,
        root,
        file="shop/models.py",
        line=21,
        column=9,
        reindex=False,
        encodings=encodings,
    )
    check(result, result["positionEncoding"] == negotiated, result["positionEncoding"])

    dependents = {
        (i["file"], i["line"], i["column"], i["text"][:6]) for i in result["impact"]["items"]
    }
    check(result, ("shop/labels.py", 4, 4, "label(") in dependents, f"impact {dependents}")
    uses = {
        (i["file"], i["line"], i["column"], i["text"][:6]) for i in result["impactUse"]["items"]
    }
    check(result, ("shop/labels.py", 5, column, "total(") in uses, f"impact (use) {uses}")
    if negotiated == "utf-16":
        # Eglot's own references into a file no buffer visits are right only in utf-16 (Eglot
        # 1.17.30 converts them with its global default, utf-16): the reason for the default.
        refs = {(i["file"], i["line"], i["column"], i["text"][:6]) for i in result["references"]}
        check(result, ("shop/labels.py", 5, column, "total(") in refs, f"references {refs}")


def test_byte_compiles_without_warnings(tmp_path: Path) -> None:
    emacs = emacs_binary()
    copy = tmp_path / "forge-lsp.el"
    shutil.copy(PACKAGE, copy)  # compile a copy: no .elc next to the source
    proc = subprocess.run(
        [
            emacs,
            "--batch",
            "-Q",
            "--eval",
            "(setq byte-compile-error-on-warn t)",
            "-f",
            "batch-byte-compile",
            str(copy),
        ],
        cwd=tmp_path,
        env=isolated_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert (tmp_path / "forge-lsp.elc").is_file(), output
    assert "Warning" not in output and "Error" not in output, output
