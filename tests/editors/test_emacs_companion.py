"""Emacs with another server as Eglot's: forge-lsp.el's commands ask a forge-lsp of their own.

Eglot runs one server per major mode. With `forge-lsp-major-modes` nil, forge-lsp.el leaves
`eglot-server-programs` to the other server (pyright, basedpyright, pylsp) and its commands
start a companion `forge-lsp serve` per project. The driver proves, in a real batch Emacs, that
the buffer is left alone, that forge-lsp-impact answers through the companion, that the
companion sees an unsaved edit and then, once the buffer is killed, the file on disk again, and
that shutting it down leaves no process behind.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from .support import demo_workspace
from .test_emacs import (
    DRIVER_LIB,
    DRIVER_RUN,
    TOTAL_ITEMS,
    TOTAL_SUMMARY,
    check,
    echo,
    impact_items,
    items_message,
    run_driver,
    same_items,
)

pytestmark = pytest.mark.slow

COMPANION_MAIN = r"""
(defun ft-goto (line column)
  (goto-char (point-min)) (forward-line (1- line)) (forward-char (1- column)) (point))

(defun ft-main ()
  (let* ((root (file-name-as-directory (plist-get ft-config :root)))
         (file (expand-file-name (plist-get ft-config :file) root)))
    ;; What the init file of someone who keeps pyright as Eglot's server does.
    (setq forge-lsp-server-command (plist-get ft-config :command))
    (setq forge-lsp-major-modes nil)
    (require 'forge-lsp)
    (ft-put :forgeInEglot (if (rassq 'forge-lsp-server-contact eglot-server-programs)
                              t :json-false))
    (add-hook 'project-find-functions
              (lambda (dir) (when (file-in-directory-p dir root) (cons 'transient root))))
    (find-file file)
    ;; A server that cannot start, or exits at once: one clear error, no companion kept.
    (cl-flet ((fails (command)
                (let ((forge-lsp-server-command command))
                  (condition-case err
                      (progn (forge-lsp-status-request) "no error")
                    (user-error (error-message-string err))))))
      (ft-put :missingProgram (fails '("/nonexistent/forge-lsp" "serve")))
      (ft-put :exitingServer
              (fails (list (car (plist-get ft-config :command)) "-c" "raise SystemExit(3)"))))
    (ft-put :companionsAfterFailures (length forge-lsp--companions))
    ;; ft-wait takes "Server exited with status 3" in *Messages* for the real server's death
    (with-current-buffer (messages-buffer) (let ((inhibit-read-only t)) (erase-buffer)))
    (ft-put :status (ft-wait-ready "the companion's forge/status to say ready"))
    (ft-put :managed (if (eglot-managed-p) t :json-false))
    (let* ((conn (forge-lsp-companion-connection))
           (target (ft-goto (plist-get ft-config :line) (plist-get ft-config :column))))
      (setq ft-server conn)  ; its events and stderr go into the results
      (ft-put :companionRoot (forge-lsp--companion-root conn))
      (ft-put :encoding (forge-lsp--companion-encoding conn))
      (ft-put :pid (process-id (jsonrpc--process conn)))
      (ft-put :impact (ft-show-impact target #'forge-lsp-impact))
      ;; An unsaved new caller at the end of the buffer.
      (save-excursion
        (goto-char (point-max))
        (insert "\n\ndef grand_total(order: Order) -> float:\n    return order.total()\n"))
      (ft-put :impactUnsaved (ft-show-impact target #'forge-lsp-impact))
      ;; Killed unsaved, the buffer is closed: the companion reads the file on disk again.
      (set-buffer-modified-p nil)
      (kill-buffer (current-buffer))
      (find-file file)
      (ft-put :impactReopened
              (ft-show-impact (ft-goto (plist-get ft-config :line) (plist-get ft-config :column))
                              #'forge-lsp-impact))
      (ft-put :sameConnection (if (eq conn (forge-lsp-companion-connection)) t :json-false))
      (forge-lsp-companion-shutdown t)
      (ft-put :runningAfterShutdown (if (jsonrpc-running-p conn) t :json-false))
      (ft-put :companions (length forge-lsp--companions)))
    (ft-put :ok t)))
"""


@pytest.fixture(scope="module")
def beside(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp_path = tmp_path_factory.mktemp("emacs-companion")
    root = demo_workspace(tmp_path)
    result = run_driver(
        tmp_path,
        root,
        file="shop/models.py",
        line=21,
        column=9,
        reindex=False,
        driver_text=DRIVER_LIB + COMPANION_MAIN + DRIVER_RUN,
    )
    result["_root"] = root
    return result


def test_the_buffer_keeps_its_own_server(beside: dict[str, Any]) -> None:
    check(beside, beside["forgeInEglot"] is False, "forge-lsp took eglot-server-programs")
    check(beside, beside["managed"] is False, "the companion made the buffer Eglot's")
    check(beside, beside["companionRoot"] == f"{beside['_root']}/", beside["companionRoot"])
    check(beside, beside["status"]["files"] == 5, f"status {beside['status']}")
    check(beside, beside["encoding"] == "utf-16", beside["encoding"])


def test_impact_through_the_companion(beside: dict[str, Any]) -> None:
    impact = beside["impact"]
    got = impact_items(impact)
    check(beside, same_items(got, TOTAL_ITEMS), items_message(got, TOTAL_ITEMS))
    summary = [f"forge-lsp: {TOTAL_SUMMARY}"]
    check(beside, echo(impact) == summary, f"echo area: {impact['echo']}")


def test_the_companion_sees_unsaved_edits_then_the_disk_again(beside: dict[str, Any]) -> None:
    unsaved = impact_items(beside["impactUnsaved"])
    # the new caller, at its line in the buffer (the file on disk has 22 lines)
    new = ("shop/models.py", 25, 4, "grand_total(", "Order.total <-call- grand_total")
    expected = sorted([*TOTAL_ITEMS, new])
    check(beside, same_items(unsaved, expected), items_message(unsaved, expected))
    reopened = impact_items(beside["impactReopened"])
    check(beside, same_items(reopened, TOTAL_ITEMS), items_message(reopened, TOTAL_ITEMS))
    check(beside, beside["sameConnection"] is True, "a second companion was started")


def test_a_server_that_cannot_start_is_one_clear_error(beside: dict[str, Any]) -> None:
    missing, exiting = beside["missingProgram"], beside["exitingServer"]
    check(
        beside,
        missing.startswith("forge-lsp: cannot start /nonexistent/forge-lsp serve: "),
        missing,
    )
    check(beside, exiting.startswith("forge-lsp: ") and " did not start: " in exiting, exiting)
    check(beside, "\n" not in missing + exiting, "more than one line")
    check(beside, beside["companionsAfterFailures"] == 0, "a failed companion was kept")


def test_shutting_the_companion_down_leaves_no_process(beside: dict[str, Any]) -> None:
    check(beside, beside["runningAfterShutdown"] is False, "still running after shutdown")
    check(beside, beside["companions"] == 0, f"{beside['companions']} companions left")
    with pytest.raises(ProcessLookupError):
        os.kill(beside["pid"], 0)
