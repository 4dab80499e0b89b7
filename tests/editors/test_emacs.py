"""Emacs + Eglot against `forge-lsp serve`, through editors/emacs/forge-lsp.el.

Each test runs a real Emacs (>= 30, where Eglot is built in) in batch mode with `editors/emacs`
on the load path and the Elisp driver below. The driver does what a user's configuration does
(`(require 'forge-lsp)`, `eglot-ensure` in a Python buffer), waits for `forge/status` to say
"ready", then asks references through xref (the `M-?` path) and runs `forge-lsp-impact`, which
renders the real `*xref*` buffer: on a name, inside a body, at module level, with a depth, and
after an unsaved edit of the buffer. The xref items are read back from that buffer's text
properties, with its header line and what the command said in the echo area, and written to a
JSON file for the assertions here.

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

# a real editor per test, seconds each: the slow group (CI runs it)
pytestmark = pytest.mark.slow

EMACS_DIR = EDITORS / "emacs"
PACKAGE = EMACS_DIR / "forge-lsp.el"
RUN_TIMEOUT = 30  # seconds for one Emacs run (about 1.5 s normally); the driver gives up at 25

# The Elisp driver. It reads its settings from the JSON file named by $FORGE_EMACS_TEST_CONFIG
# and writes what it saw to the `results` file of those settings, on success and on failure.
DRIVER_LIB = r""";;; forge-lsp-test-driver.el --- drives Eglot + forge-lsp in batch  -*- lexical-binding: t; -*-
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

(defun ft-wait-ready (what)
  "Ask forge/status until it says ready (WHAT names the wait); return that answer."
  (let (status)
    (ft-wait what 20
             (lambda ()
               (setq status (forge-lsp-status-request))
               (or (equal (plist-get status :state) "ready")
                   (progn (sleep-for 0.1) nil))))
    status))

(defun ft-text-at (file line column)
  "The text of FILE from LINE (1-based), COLUMN (characters) to the line's end: of the
buffer visiting it if any (unsaved edits included), else of the file."
  (with-temp-buffer
    (let ((visiting (find-buffer-visiting file)))
      (if visiting
          (insert-buffer-substring-no-properties visiting)
        (insert-file-contents file)))
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

(defvar ft-echo nil "What `message' showed since the driver last cleared it, latest first.")
(advice-add 'message :filter-return
            (lambda (text) (when (stringp text) (push text ft-echo)) text)
            '((name . ft-record-echo)))

(defun ft-show-impact (pos command &optional prefix)
  "At POS, run COMMAND interactively (with PREFIX); return its *xref* items, text and header
line, and the messages it showed."
  ;; Killing the buffer first: a window that showed it goes back to the source buffer and
  ;; restores that buffer's point.
  (ft-kill-xref-buffer)
  (goto-char pos)
  (setq ft-echo nil)
  (let ((current-prefix-arg prefix))
    (save-current-buffer (call-interactively command))
    (unless (get-buffer xref-buffer-name)
      (error "%s showed no *xref* buffer" command))
    (list :items (ft-xref-buffer-items)
          :buffer (ft-buffer-text (get-buffer xref-buffer-name))
          :header (with-current-buffer xref-buffer-name (format "%s" header-line-format))
          :echo (vconcat (reverse ft-echo)))))

"""

# What the driver runs: Eglot starts forge-lsp in a Python buffer (forge-lsp.el registered it).
EGLOT_MAIN = r"""
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
    (ft-put :status (ft-wait-ready "forge/status to say ready"))
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
    (let* ((target (point))
           (line-pos (lambda (line column)
                       (save-excursion (goto-char (point-min)) (forward-line (1- line))
                                       (forward-char column) (point))))
           ;; Line 3 is blank (module level); line 22 is the body of Order.total.
           (blank (funcall line-pos 3 0))
           (in-body (funcall line-pos 22 10)))
      (ft-put :impact (ft-show-impact target #'forge-lsp-impact))
      ;; `g' in the xref buffer asks the server again.
      (with-current-buffer xref-buffer-name (revert-buffer))
      (ft-put :impactReverted (ft-xref-buffer-items))
      (ft-put :impactDepth1 (ft-show-impact target #'forge-lsp-impact 1))
      (let ((forge-lsp-impact-location 'use))
        (ft-put :impactUse (ft-show-impact target #'forge-lsp-impact)))
      (ft-put :impactFile (ft-show-impact target #'forge-lsp-impact-file))
      ;; Outside every definition: the whole file.
      (ft-put :impactModuleLevel (ft-show-impact blank #'forge-lsp-impact))
      ;; Anywhere inside a definition: that definition.
      (ft-put :impactInBody (ft-show-impact in-body #'forge-lsp-impact))
      ;; An unsaved edit of the body (`return sum(' -> `return 0 + sum('), then undone.
      (let ((at (funcall line-pos 22 15)))
        (save-excursion (goto-char at) (insert "0 + "))
        (ft-put :modifiedBeforeUnsaved (if (buffer-modified-p) t :json-false))
        (ft-put :impactUnsaved (ft-show-impact target #'forge-lsp-impact))
        (delete-region at (+ at 4))
        (set-buffer-modified-p nil))
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

"""

DRIVER_RUN = r"""
(run-at-time (plist-get ft-config :timeout) nil
             (lambda () (ft-fail "driver timeout (%ss)" (plist-get ft-config :timeout))))
(condition-case err
    (handler-bind ((error (lambda (_)
                            (setq ft-backtrace (with-output-to-string (backtrace))))))
      (ft-main))
  (error (ft-fail "%s" (error-message-string err))))
(ft-finish 0)
"""

DRIVER = DRIVER_LIB + EGLOT_MAIN + DRIVER_RUN


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
    driver_text: str = DRIVER,
) -> dict[str, Any]:
    """Run the driver on `file` of `root` at `line`:`column` (1-based); return its results.

    `encodings` sets `forge-lsp-position-encodings`: "default" leaves forge-lsp.el's default,
    "eglot" sets nil (what Eglot offers by itself), a list offers those encodings.
    """
    emacs = emacs_binary()
    driver = tmp_path / "forge-lsp-test-driver.el"
    driver.write_text(driver_text, encoding="utf-8")
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
# What forge-lsp-impact says of Order.total in the echo area and the header line.
TOTAL_SUMMARY = "Order.total: 6 dependents (6 exact, 0 probable) in 3 files, tests reached: 3"
# forge-lsp-impact at Order.total, no depth (the default: to a fixed point): the dependents,
# grouped by file in path order, each at its name, with the chain of uses as the summary.
# tests/test_checkout.py imports with_vat (line 3): an import is no dependency.
TOTAL_ITEMS = [
    ("shop/checkout.py", 12, 8, "pay(", f"{CHAIN} <-call- Checkout.pay"),
    ("shop/pricing.py", 6, 4, "with_vat(", CHAIN),
    ("shop/pricing.py", 10, 4, "discounted(", f"{CHAIN} <-call- discounted"),
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


def impact_items(impact: dict[str, Any]) -> list[tuple[str, int, int, str, str]]:
    return [(i["file"], i["line"], i["column"], i["text"], i["summary"]) for i in impact["items"]]


def same_items(got: list[tuple[str, int, int, str, str]], expected: list[tuple[Any, ...]]) -> bool:
    """Same locations and summaries; each line's text starts with the expected text."""
    return len(got) == len(expected) and all(
        g[:3] == e[:3] and g[3].startswith(e[3]) and g[4] == e[4]
        for g, e in zip(got, expected, strict=True)
    )


def items_message(got: list[Any], expected: list[Any]) -> str:
    return (
        "forge-lsp-impact items:\n"
        + "\n".join(map(repr, got))
        + "\nexpected:\n"
        + "\n".join(map(repr, expected))
    )


def echo(impact: dict[str, Any]) -> list[str]:
    """What the command said in the echo area (forge-lsp's own messages)."""
    return [line for line in impact["echo"] if line.startswith("forge-lsp: ")]


def test_impact_lists_dependents_with_their_chains(demo: dict[str, Any]) -> None:
    impact = demo["impact"]
    got = impact_items(impact)
    check(demo, same_items(got, TOTAL_ITEMS), items_message(got, TOTAL_ITEMS))
    buffer = impact["buffer"]
    for name in ("shop/checkout.py", "shop/pricing.py", "tests/test_checkout.py"):
        check(demo, name in buffer, f"{name} not in the *xref* buffer:\n{buffer}")
    check(demo, f"{CHAIN} <-call- discounted" in buffer, f"*xref* buffer:\n{buffer}")
    check(
        demo,
        locations(demo["impactReverted"]) == locations(impact["items"]),
        f"after revert-buffer (g): {demo['impactReverted']}",
    )
    # The summary: in the echo area, and in the header line of the *xref* buffer.
    check(demo, echo(impact) == [f"forge-lsp: {TOTAL_SUMMARY}"], f"echo area: {impact['echo']}")
    check(demo, impact["header"] == TOTAL_SUMMARY, f"header line: {impact['header']!r}")


def test_impact_inside_a_definition_is_that_definition(demo: dict[str, Any]) -> None:
    # Point in the body of Order.total (line 22), not on its name: the same answer.
    impact = demo["impactInBody"]
    got = impact_items(impact)
    check(demo, same_items(got, TOTAL_ITEMS), items_message(got, TOTAL_ITEMS))
    check(demo, echo(impact) == [f"forge-lsp: {TOTAL_SUMMARY}"], f"echo area: {impact['echo']}")


def test_impact_outside_every_definition_is_the_whole_file(demo: dict[str, Any]) -> None:
    # Point on a blank line at module level (line 3): the impact of models.py, as
    # forge-lsp-impact-file asks for it.
    impact = demo["impactModuleLevel"]
    check(
        demo,
        impact_items(impact) == impact_items(demo["impactFile"]),
        f"module level: {impact_items(impact)}",
    )
    check(demo, echo(impact) == [f"forge-lsp: {MODELS_SUMMARY}"], f"echo area: {impact['echo']}")


def test_impact_prefix_argument_is_the_depth(demo: dict[str, Any]) -> None:
    # C-u 1 M-x forge-lsp-impact: only the direct caller, and the walk says where it stopped.
    impact = demo["impactDepth1"]
    check(
        demo,
        [(i["file"], i["line"], i["column"], i["summary"]) for i in impact["items"]]
        == [("shop/pricing.py", 6, 4, CHAIN)],
        f"depth 1: {impact['items']}",
    )
    summary = (
        "Order.total: 1 dependent (1 exact, 0 probable) in 1 file, tests reached: 0,"
        " cut off at depth 1: 1 node not expanded"
    )
    check(demo, echo(impact) == [f"forge-lsp: {summary}"], f"echo area: {impact['echo']}")
    check(demo, impact["header"] == summary, f"header line: {impact['header']!r}")


def test_impact_of_an_unsaved_edit(demo: dict[str, Any]) -> None:
    # `return sum(` -> `return 0 + sum(` in Order.total, not saved: the echo area and the header
    # line say what kind of change it is, first; the dependents are the same.
    check(demo, demo["modifiedBeforeUnsaved"] is True, "the buffer was not modified")
    impact = demo["impactUnsaved"]
    got = impact_items(impact)
    check(demo, same_items(got, TOTAL_ITEMS), items_message(got, TOTAL_ITEMS))
    summary = f"Order.total: unsaved edit, body-only change: 3 tests reach it; {TOTAL_SUMMARY[13:]}"
    check(demo, echo(impact) == [f"forge-lsp: {summary}"], f"echo area: {impact['echo']}")
    check(demo, impact["header"] == summary, f"header line: {impact['header']!r}")


def test_impact_use_locations(demo: dict[str, Any]) -> None:
    # forge-lsp-impact-location = use: each line leads to where the dependent uses the previous
    # symbol of its chain.
    expected = [
        ("shop/checkout.py", 15, 23, "with_vat(self.order)"),
        ("shop/pricing.py", 7, 23, "total()"),
        ("shop/pricing.py", 11, 17, "with_vat(order)"),
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


# forge-lsp-impact-file in models.py: what uses Order, Product or their members, each at its
# name, with the chain from the symbol of models.py it reaches first.
MODELS_SUMMARY = "shop.models: 8 dependents (8 exact, 0 probable) in 3 files, tests reached: 3"
MODELS_ITEMS = [
    # `Order()`
    ("shop/checkout.py", 6, 8, "__init__(", "Order <-call- Checkout.__init__"),
    # `self.order.add(...)`
    ("shop/checkout.py", 9, 8, "scan(", "Order.add <-call- Checkout.scan"),
    # `pricing.discounted(self.order, coupon)`, discounted's `order: Order` annotation
    ("shop/checkout.py", 12, 8, "pay(", "Order <-read- discounted <-call- Checkout.pay"),
    ("shop/pricing.py", 6, 4, "with_vat(", "Order <-read- with_vat"),
    ("shop/pricing.py", 10, 4, "discounted(", "Order <-read- discounted"),
    # `Checkout()` runs Checkout.__init__
    (
        "tests/test_checkout.py",
        6,
        4,
        "test_pay_adds_vat(",
        "Order <-call- Checkout.__init__ <-construct- test_pay_adds_vat  [test]",
    ),
    (
        "tests/test_checkout.py",
        12,
        4,
        "test_with_vat_of_empty_order(",
        "Order <-call- test_with_vat_of_empty_order  [test]",
    ),
    ("tests/test_checkout.py", 16, 4, "test_coupon(", "Product <-call- test_coupon  [test]"),
]


def test_impact_of_a_whole_file(demo: dict[str, Any]) -> None:
    impact = demo["impactFile"]
    got = impact_items(impact)
    check(demo, same_items(got, MODELS_ITEMS), items_message(got, MODELS_ITEMS))
    check(demo, echo(impact) == [f"forge-lsp: {MODELS_SUMMARY}"], f"echo area: {impact['echo']}")
    check(demo, impact["header"] == MODELS_SUMMARY, f"header line: {impact['header']!r}")


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
