"""Neovim against `forge-lsp serve`: a real, headless `nvim` with only `editors/nvim` on its
runtimepath, on a fresh copy of the demo workspace.

Each test starts one `nvim --headless --clean`, which runs DRIVER (below): it configures and
enables `forge_lsp` the way a user does, opens a file, waits for the client to attach and for
`forge/status` to say "ready", asks for references at the cursor, runs the plugin's commands
(`:ForgeImpact`, `:ForgeStatus`, ...) recording what each puts in the quickfix list or
notifies, stops the client and writes everything as JSON. The assertions are on that JSON.

The expected locations come from reading examples/demo (1-based lines and columns below):

    shop/models.py       21  `def total(self)`            Order.total, name at column 9
                         22  `return sum(...)`            its body (a position in it means it)
    shop/pricing.py       6  `def with_vat(order)`
                          7  `order.total()`              total at 24: with_vat calls it
                         11  `with_vat(order)`            at 18: discounted calls with_vat
    shop/checkout.py     15  `pricing.with_vat(...)`      at 24: Checkout.pay calls with_vat
    tests/test_checkout.py 3 `import with_vat`            an import: no dependency
                          9  `checkout.pay()`             at 21: test_pay_adds_vat calls pay
                         13  `with_vat(Order())`          at 12: test_with_vat_of_empty_order
                         19  `checkout.pay(coupon=10)`    at 21: test_coupon calls pay
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from .support import EDITORS, demo_workspace, find_binary, server_command

# a real editor per test, seconds each: the slow group (CI runs it)
pytestmark = pytest.mark.slow

NVIM_DIR = EDITORS / "nvim"
# The whole nvim run. The driver's own waits are shorter, so a hang normally fails with what it
# was waiting for; this only catches an nvim that never gets to run the driver.
TIMEOUT_S = 60

# The driver: runs inside nvim (`-S`), configured by the JSON file in $FORGE_NVIM_PARAMS.
DRIVER = r"""
local params = vim.json.decode(table.concat(vim.fn.readfile(vim.env.FORGE_NVIM_PARAMS), '\n'))
local out = { notes = {}, steps = {} }

-- Every notification, in order: the plugin reports errors and :ForgeStatus this way.
vim.notify = function(msg, level)
  table.insert(out.notes, { msg = tostring(msg), level = level or vim.log.levels.INFO })
end

local function write_out()
  vim.fn.writefile({ vim.json.encode(out) }, params.out)
end

local function wait_for(what, ms, cond)
  if not vim.wait(ms, cond, 20) then
    error(('timed out after %d ms waiting for %s'):format(ms, what), 0)
  end
end

local function qf_state()
  return vim.fn.getqflist({ id = 0, title = 0, items = 0, winid = 0 })
end

local function attached_here()
  return #vim.lsp.get_clients({ bufnr = 0, name = 'forge_lsp' }) > 0
end

-- Runs an Ex command, waits until it shows something and records that: a new quickfix list or
-- a notification, or with `until_note` (a Lua pattern) a notification that matches it. `edit`
-- commands wait for the client to attach to the new buffer instead; `lua` commands (moving the
-- cursor, editing the buffer without saving it) wait for nothing.
local function run(cmd, until_note)
  if vim.bo.buftype == 'quickfix' then
    vim.cmd.wincmd('p') -- back from the list :ForgeImpact opened, as a user would
  end
  local before_qf = qf_state().id
  local before_notes = #out.notes
  vim.cmd(cmd)
  if cmd:match('^lua ') then
    table.insert(out.steps, { command = cmd, notes = {}, modified = vim.bo.modified })
    return
  end
  if cmd:match('^edit ') then
    wait_for('forge_lsp to attach after :' .. cmd, params.attach_timeout_ms, attached_here)
    table.insert(out.steps, { command = cmd, notes = {} })
    return
  end
  wait_for('the result of :' .. cmd, params.command_timeout_ms, function()
    if until_note then
      for i = before_notes + 1, #out.notes do
        if out.notes[i].msg:match(until_note) then
          return true
        end
      end
      return false
    end
    return qf_state().id ~= before_qf or #out.notes > before_notes
  end)
  vim.wait(50) -- let a notification that follows the list arrive
  local step = { command = cmd, notes = vim.list_slice(out.notes, before_notes + 1) }
  local qf = qf_state()
  if qf.id ~= before_qf then
    step.qf = { title = qf.title, window_open = qf.winid ~= 0, items = {} }
    for _, item in ipairs(qf.items) do
      table.insert(step.qf.items, {
        file = vim.api.nvim_buf_get_name(item.bufnr),
        lnum = item.lnum,
        col = item.col,
        end_col = item.end_col,
        text = item.text,
      })
    end
  end
  table.insert(out.steps, step)
end

-- A command is "Cmd" or { "Cmd", until_note }.
local function run_all(commands)
  for _, command in ipairs(commands or {}) do
    if type(command) == 'table' then
      run(command[1], command[2])
    else
      run(command)
    end
  end
end

local function main()
  out.commands_defined = vim.fn.exists(':ForgeImpact') == 2
    and vim.fn.exists(':ForgeStatus') == 2
    and vim.fn.exists(':ForgeReindex') == 2
  run_all(params.before_start)

  local exit = {}
  local config = {
    on_exit = function(code, signal)
      exit.code, exit.signal = code, signal
    end,
  }
  if type(params.encodings) == 'table' then
    config.capabilities = { general = { positionEncodings = params.encodings } }
  end
  if type(params.setup) == 'table' then
    -- The plugin's setup() passes cmd and init_options on and enables the server.
    vim.lsp.config('forge_lsp', config)
    require('forge_lsp').setup(vim.tbl_extend('force', params.setup, { cmd = params.cmd }))
  else
    config.cmd = params.cmd
    vim.lsp.config('forge_lsp', config)
    vim.lsp.enable('forge_lsp')
  end

  local attached = nil
  vim.api.nvim_create_autocmd('LspAttach', {
    callback = function(args)
      attached = vim.lsp.get_client_by_id(args.data.client_id)
    end,
  })
  vim.cmd.edit(vim.fn.fnameescape(params.file))
  wait_for('the forge_lsp client to attach', params.attach_timeout_ms, function()
    return attached ~= nil or exit.code ~= nil
  end)
  if not attached then
    error(('the server exited (code %s) before the client attached'):format(exit.code), 0)
  end
  local client = attached
  local bufnr = vim.api.nvim_get_current_buf()
  out.client = {
    name = client.name,
    root_dir = client.root_dir,
    offset_encoding = client.offset_encoding,
    server_name = client.server_info and client.server_info.name,
  }

  local status = nil
  wait_for('forge/status to say "ready"', params.ready_timeout_ms, function()
    local answer = client:request_sync('forge/status', nil, 2000, bufnr)
    status = answer and answer.result or status
    return status ~= nil and status.state == 'ready'
  end)
  out.status = status

  vim.api.nvim_win_set_cursor(0, params.cursor)
  local position = vim.lsp.util.make_position_params(0, client.offset_encoding)
  out.position = position.position
  position.context = { includeDeclaration = true }
  local answer, why = client:request_sync('textDocument/references', position, 5000, bufnr)
  if not answer or answer.err then
    error('textDocument/references failed: ' .. vim.inspect(answer and answer.err or why), 0)
  end
  out.references = {}
  for _, location in ipairs(answer.result or {}) do
    table.insert(out.references, {
      file = vim.uri_to_fname(location.uri),
      line = location.range.start.line,
      character = location.range.start.character,
      end_character = location.range['end'].character,
    })
  end

  run_all(params.commands)
  out.clients = #vim.lsp.get_clients({ name = 'forge_lsp' })

  client:stop()
  wait_for('the server to exit', params.stop_timeout_ms, function()
    return exit.code ~= nil
  end)
  out.exit = exit
end

local ok, err = xpcall(main, debug.traceback)
if not ok then
  out.error = tostring(err)
end
write_out()
vim.cmd(ok and 'qall!' or 'cquit! 3')
"""


def _isolated_env(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment, with nothing of the user's Neovim setup left visible."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NVIM", "VIM", "MYVIMRC", "XDG_"))
    }
    home = tmp_path / "home"
    for var, sub in [
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_CONFIG_DIRS", "config-dirs"),
        ("XDG_DATA_DIRS", "data-dirs"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ]:
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
        env[var] = str(path)
    env["HOME"] = str(home)
    env["NVIM_LOG_FILE"] = str(home / "nvim.log")
    env.update(extra or {})
    return env


def _tail(path: Path, limit: int = 6000) -> str:
    if not path.is_file():
        return f"({path.name}: none)"
    text = path.read_text(errors="replace")
    return f"--- {path} ---\n{text[-limit:]}"


Command = str | tuple[str, str]  # an Ex command, or (command, Lua pattern of the note to wait for)


def run_nvim(
    tmp_path: Path,
    root: Path,
    file: str,
    cursor: tuple[int, int],
    *,
    commands: list[Command],
    before_start: list[Command] | None = None,
    encodings: list[str] | None = None,
    setup: dict[str, Any] | None = None,
    server_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Runs the driver in a headless nvim in `root`, on `file` (relative to it), with the cursor
    at (1-based line, 0-based byte column)."""
    nvim = find_binary("nvim", "FORGE_NVIM")
    out = tmp_path / "nvim-result.json"
    params = {
        "cmd": server_command(),
        "file": str(root / file),
        "cursor": list(cursor),
        "commands": commands,
        "before_start": before_start or [],
        "encodings": encodings,
        "setup": setup,
        "out": str(out),
        "attach_timeout_ms": 10_000,
        "ready_timeout_ms": 15_000,
        "command_timeout_ms": 10_000,
        "stop_timeout_ms": 10_000,
    }
    params_file = tmp_path / "nvim-params.json"
    params_file.write_text(json.dumps(params))
    driver = tmp_path / "driver.lua"
    driver.write_text(DRIVER)
    env = _isolated_env(
        tmp_path,
        {"FORGE_NVIM_PARAMS": str(params_file), "FORGE_NVIM_RTP": str(NVIM_DIR)},
    )
    env.update(server_env or {})
    argv = [
        nvim,
        "--headless",
        "--clean",
        # Only the plugin directory is added; its plugin/ is sourced like any other plugin's.
        "--cmd",
        "lua vim.opt.runtimepath:prepend(vim.env.FORGE_NVIM_RTP)",
        "-S",
        str(driver),
    ]
    home = Path(env["HOME"])
    lsp_log = Path(env["XDG_STATE_HOME"]) / "nvim" / "lsp.log"

    def diagnostics(stdout: str, stderr: str) -> str:
        return "\n".join(
            [
                f"command: {argv}",
                f"stdout:\n{stdout[-4000:]}",
                f"stderr:\n{stderr[-4000:]}",
                _tail(lsp_log),
                _tail(home / "nvim.log"),
            ]
        )

    started = time.monotonic()
    try:
        proc = subprocess.run(
            argv,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        stdout, stderr = (
            stream.decode(errors="replace") if isinstance(stream, bytes) else stream or ""
            for stream in (exc.stdout, exc.stderr)
        )
        pytest.fail(f"nvim did not finish within {TIMEOUT_S} s\n{diagnostics(stdout, stderr)}")
    elapsed = time.monotonic() - started
    if not out.is_file():
        pytest.fail(
            f"nvim exited with {proc.returncode} after {elapsed:.1f} s without writing its result\n"
            + diagnostics(proc.stdout, proc.stderr)
        )
    result: dict[str, Any] = json.loads(out.read_text())
    if result.get("error") or proc.returncode != 0:
        pytest.fail(
            f"the nvim driver failed (exit {proc.returncode}, {elapsed:.1f} s): "
            f"{result.get('error')}\nnotifications: {result.get('notes')}\n"
            + diagnostics(proc.stdout, proc.stderr)
        )
    return result


def add_project_marker(root: Path) -> None:
    """The demo has no pyproject.toml; a project has one, and it is what finds the root."""
    (root / "pyproject.toml").write_text('[project]\nname = "shop"\nversion = "0.1.0"\n')


def qf_entries(step: dict[str, Any], root: Path) -> list[tuple[str, int, int, str]]:
    """(path relative to the workspace, line, byte column, text) for each quickfix item."""
    assert "qf" in step, f":{step['command']} made no quickfix list; notified: {step['notes']}"
    return [
        (
            Path(item["file"]).resolve().relative_to(root.resolve()).as_posix(),
            item["lnum"],
            item["col"],
            item["text"],
        )
        for item in step["qf"]["items"]
    ]


def note_texts(step: dict[str, Any]) -> list[str]:
    return [note["msg"] for note in step["notes"]]


# The impact of Order.total (no depth: to a fixed point), as :ForgeImpact must list it: every
# dependent at the use that makes it one (the last edge of its path), sorted by file and line.
# The test module's `import with_vat` is no dependency: only the tests that call it are.
TOTAL_IMPACT = [
    ("shop/checkout.py", 15, 24, "Order.total <-call- with_vat <-call- Checkout.pay [depth 2]"),
    ("shop/pricing.py", 7, 24, "Order.total <-call- with_vat [depth 1]"),
    ("shop/pricing.py", 11, 18, "Order.total <-call- with_vat <-call- discounted [depth 2]"),
    (
        "tests/test_checkout.py",
        9,
        21,
        "Order.total <-call- with_vat <-call- Checkout.pay <-call- test_pay_adds_vat"
        " [depth 3] [test]",
    ),
    (
        "tests/test_checkout.py",
        13,
        12,
        "Order.total <-call- with_vat <-call- test_with_vat_of_empty_order [depth 2] [test]",
    ),
    (
        "tests/test_checkout.py",
        19,
        21,
        "Order.total <-call- with_vat <-call- Checkout.pay <-call- test_coupon [depth 3] [test]",
    ),
]
TOTAL_TITLE = "forge impact of Order.total: 6 dependents (6 exact, 0 probable), tests reached: 3"


# `:ForgeImpact!` in shop/pricing.py: what depends on any of its symbols (the module, VAT,
# with_vat, discounted). Where a dependent uses the file in several places, the first use; the
# imports of pricing (checkout.py line 1, test_checkout.py line 3) are none.
PRICING_FILE_IMPACT = [
    ("shop/checkout.py", 14, 20, "shop.pricing <-read- Checkout.pay [depth 1]"),
    (
        "tests/test_checkout.py",
        9,
        21,
        "shop.pricing <-read- Checkout.pay <-call- test_pay_adds_vat [depth 2] [test]",
    ),
    (
        "tests/test_checkout.py",
        13,
        12,
        "with_vat <-call- test_with_vat_of_empty_order [depth 1] [test]",
    ),
    (
        "tests/test_checkout.py",
        19,
        21,
        "shop.pricing <-read- Checkout.pay <-call- test_coupon [depth 2] [test]",
    ),
]

# The whole of shop/models.py (`:ForgeImpact!` there, or `:ForgeImpact` outside every def):
# what uses Order, Product or their methods, each at its first use of them.
MODELS_FILE_IMPACT = [
    ("shop/checkout.py", 7, 22, "Order <-call- Checkout.__init__ [depth 1]"),
    ("shop/checkout.py", 10, 20, "Order.add <-call- Checkout.scan [depth 1]"),
    ("shop/checkout.py", 14, 28, "Order <-read- discounted <-call- Checkout.pay [depth 2]"),
    ("shop/pricing.py", 6, 21, "Order <-read- with_vat [depth 1]"),
    ("shop/pricing.py", 10, 23, "Order <-read- discounted [depth 1]"),
    (
        "tests/test_checkout.py",
        7,
        16,
        "Order <-call- Checkout.__init__ <-construct- test_pay_adds_vat [depth 2] [test]",
    ),
    (
        "tests/test_checkout.py",
        13,
        21,
        "Order <-call- test_with_vat_of_empty_order [depth 1] [test]",
    ),
    ("tests/test_checkout.py", 20, 12, "Product <-call- test_coupon [depth 1] [test]"),
]
MODELS_FILE_TITLE = (
    "forge impact of file shop.models: 8 dependents (8 exact, 0 probable), tests reached: 3"
)


def relative(root: Path, file: str) -> str:
    return Path(file).resolve().relative_to(root.resolve()).as_posix()


def test_attach_references_impact_status(tmp_path: Path) -> None:
    root = demo_workspace(tmp_path)
    add_project_marker(root)
    result = run_nvim(
        tmp_path,
        root,
        "shop/models.py",
        (21, 8),  # Order.total: line 21, column 9
        before_start=["ForgeImpact", "ForgeStatus"],
        commands=[
            "ForgeImpact",
            "ForgeImpact 1",
            "ForgeStatus",
            "edit shop/pricing.py",
            "ForgeImpact!",
        ],
    )

    # plugin/forge_lsp.lua defined the commands; without a server they say so, nothing breaks.
    assert result["commands_defined"] is True
    for step in result["steps"][:2]:
        assert "qf" not in step
        assert any("forge-lsp is not running" in text for text in note_texts(step)), step

    # The client started from lsp/forge_lsp.lua, with the root found by its root markers.
    client = result["client"]
    assert client["name"] == "forge_lsp"
    assert client["server_name"] == "forge-lsp"
    assert Path(client["root_dir"]).resolve() == root.resolve()
    assert client["offset_encoding"] == "utf-8"  # Neovim's first choice, which the server takes
    assert result["status"]["state"] == "ready"
    assert result["status"]["files"] == 5
    assert [Path(f["root"]).resolve() for f in result["status"]["folders"]] == [root.resolve()]

    # References to Order.total: its definition and the one call, in pricing.with_vat.
    assert result["position"] == {"line": 20, "character": 8}
    references = sorted(
        (relative(root, r["file"]), r["line"], r["character"], r["end_character"])
        for r in result["references"]
    )
    assert references == [("shop/models.py", 20, 8, 13), ("shop/pricing.py", 6, 23, 28)]

    impact, impact_1, status, _edit, file_impact = result["steps"][2:]
    assert qf_entries(impact, root) == TOTAL_IMPACT
    assert impact["qf"]["title"] == TOTAL_TITLE
    assert impact["qf"]["window_open"] is True
    assert impact["notes"] == []

    # `:ForgeImpact 1`: the depth reaches the server, and the title says what was cut off.
    assert qf_entries(impact_1, root) == [
        ("shop/pricing.py", 7, 24, "Order.total <-call- with_vat [depth 1]")
    ]
    assert impact_1["qf"]["title"] == (
        "forge impact of Order.total: 1 dependent (1 exact, 0 probable), tests reached: 0,"
        " cut off at depth 1: 1 node not expanded"
    )

    assert "qf" not in status
    [text] = note_texts(status)
    lines = text.splitlines()
    assert lines[0] == "forge-lsp 0.1.0: ready"
    assert lines[1].startswith("5 files, ")
    assert lines[2].startswith("live: 0 pending, ")
    assert lines[3].startswith("cache: ") and "hit rate" in lines[3]
    assert lines[4] == "position encoding utf-8, probable results off"
    assert lines[5].startswith(f"{root}: ready, 5 files, ")

    # A second file of the project: the same client, and `!` asks about the whole file.
    assert qf_entries(file_impact, root) == PRICING_FILE_IMPACT
    assert file_impact["qf"]["title"] == (
        "forge impact of file shop.pricing: 4 dependents (4 exact, 0 probable), tests reached: 3"
    )
    assert result["clients"] == 1

    # :qa! is not the only way out: a stopped client shuts the server down cleanly.
    assert result["exit"] == {"code": 0, "signal": 0}


def test_positions_inside_definitions_and_unsaved_edits(tmp_path: Path) -> None:
    root = demo_workspace(tmp_path)
    add_project_marker(root)
    result = run_nvim(
        tmp_path,
        root,
        "shop/models.py",
        (3, 0),  # a blank line at module level
        commands=[
            "ForgeImpact",
            "ForgeImpact!",
            "lua vim.api.nvim_win_set_cursor(0, { 22, 10 })",  # in the body of Order.total
            "ForgeImpact",
            # `return sum(` -> `return 0 + sum(`, not saved
            "lua vim.api.nvim_buf_set_text(0, 21, 15, 21, 15, { '0 + ' })",
            "ForgeImpact",
        ],
    )
    module_level, whole_file, _move, in_body, edit, unsaved = result["steps"]
    # Outside every definition: the whole file, as `:ForgeImpact!` asks for it.
    assert qf_entries(module_level, root) == MODELS_FILE_IMPACT
    assert module_level["qf"]["title"] == MODELS_FILE_TITLE
    assert qf_entries(whole_file, root) == MODELS_FILE_IMPACT
    assert whole_file["qf"]["title"] == MODELS_FILE_TITLE
    # Anywhere in a function's body: that function.
    assert qf_entries(in_body, root) == TOTAL_IMPACT
    assert in_body["qf"]["title"] == TOTAL_TITLE
    assert in_body["notes"] == []
    # An unsaved edit of the body: what kind of change it is, first, in a notification and in
    # the title; the dependents are the same.
    assert edit["modified"] is True
    assert note_texts(unsaved) == [
        "forge-lsp: unsaved edit of Order.total: body-only change: 3 tests reach it"
    ]
    assert unsaved["notes"][0]["level"] == 2  # vim.log.levels.INFO: a body-only change
    assert unsaved["qf"]["title"] == (
        "forge impact of Order.total: unsaved edit, body-only change: 3 tests reach it;"
        " 6 dependents (6 exact, 0 probable), tests reached: 3"
    )
    assert qf_entries(unsaved, root) == TOTAL_IMPACT


# A line whose characters take 1, 2, 3 and 4 bytes in UTF-8 and 1 or 2 units in UTF-16, before
# the use of Order.total, so that every position conversion on the way shows up.
RECEIPT = """from shop.models import Order


def receipt(order: Order) -> str:
    return "Σ € 𝄞 " + str(order.total())
"""
# `total` on line 5 starts at code point 32; 33 in UTF-16 (𝄞 takes two units); byte 38 in
# UTF-8 (Σ 2 bytes, € 3, 𝄞 4), which is column 39 in Neovim.
TOTAL_ON_RECEIPT_LINE = {"utf-8": 38, "utf-16": 33, "utf-32": 32}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_position_encodings(tmp_path: Path, encoding: str) -> None:
    root = demo_workspace(tmp_path)
    add_project_marker(root)
    (root / "shop" / "receipt.py").write_text(RECEIPT, encoding="utf-8")
    result = run_nvim(
        tmp_path,
        root,
        "shop/receipt.py",
        (5, 38),  # on `total` in `order.total()`: the cursor is a byte column
        commands=["ForgeImpact 1"],
        encodings=[encoding],
    )
    assert result["client"]["offset_encoding"] == encoding
    character = TOTAL_ON_RECEIPT_LINE[encoding]
    assert result["position"] == {"line": 4, "character": character}

    references = sorted(
        (relative(root, r["file"]), r["line"], r["character"], r["end_character"])
        for r in result["references"]
    )
    assert references == [
        ("shop/models.py", 20, 8, 13),
        ("shop/pricing.py", 6, 23, 28),
        ("shop/receipt.py", 4, character, character + 5),
    ]

    # The plugin sent the cursor in the client's encoding (else: no symbol there) and turned the
    # answer back into byte columns.
    [impact] = result["steps"]
    assert qf_entries(impact, root) == [
        ("shop/pricing.py", 7, 24, "Order.total <-call- with_vat [depth 1]"),
        ("shop/receipt.py", 5, 39, "Order.total <-call- receipt [depth 1]"),
    ]
    assert impact["qf"]["items"][1]["end_col"] == 44  # `total` is 5 bytes


def test_errors_are_reported(tmp_path: Path) -> None:
    root = demo_workspace(tmp_path)
    add_project_marker(root)
    result = run_nvim(
        tmp_path,
        root,
        "shop/models.py",
        (21, 8),
        commands=["ForgeImpact", "ForgeImpact 10001", "ForgeImpact x"],
        server_env={"FORGE_LSP_FAULT": "forge/impact"},
    )
    failed, bad_depth, not_a_number = result["steps"]
    assert "qf" not in failed
    [note] = failed["notes"]
    assert note["msg"].startswith("forge-lsp: forge/impact failed: ")
    assert note["msg"].endswith("(-32603)")
    assert note["level"] == 4  # vim.log.levels.ERROR
    # A bad depth is caught before anything is sent.
    assert note_texts(bad_depth) == [
        "forge-lsp: depth must be an integer from 1 to 10000 (or none: no limit)"
    ]
    assert note_texts(not_a_number) == [
        "forge-lsp: usage: :ForgeImpact[!] [depth]  (! = the whole file)"
    ]
    assert "qf" not in bad_depth and "qf" not in not_a_number


def test_setup_options(tmp_path: Path) -> None:
    root = demo_workspace(tmp_path)
    add_project_marker(root)
    result = run_nvim(
        tmp_path,
        root,
        "shop/models.py",
        (21, 8),
        setup={"init_options": {"includeProbable": True}, "impact": {"depth": 1}},
        commands=["ForgeImpact", "ForgeImpact 2", "ForgeStatus"],
    )
    # init_options reached the server as initializationOptions.
    assert result["status"]["includeProbable"] is True
    # The depth of `:ForgeImpact` comes from setup(), an argument still wins.
    impact, impact_2, status = result["steps"]
    assert qf_entries(impact, root) == [
        ("shop/pricing.py", 7, 24, "Order.total <-call- with_vat [depth 1]")
    ]
    assert [entry[:3] for entry in qf_entries(impact_2, root)] == [
        ("shop/checkout.py", 15, 24),
        ("shop/pricing.py", 7, 24),
        ("shop/pricing.py", 11, 18),
        ("tests/test_checkout.py", 13, 12),
    ]
    assert impact_2["qf"]["title"] == (
        "forge impact of Order.total: 4 dependents (4 exact, 0 probable), tests reached: 1,"
        " cut off at depth 2: 3 nodes not expanded"
    )
    assert "position encoding utf-8, probable results on" in note_texts(status)[0]


def test_reindex(tmp_path: Path) -> None:
    root = demo_workspace(tmp_path)
    add_project_marker(root)
    result = run_nvim(
        tmp_path,
        root,
        "shop/models.py",
        (21, 8),
        commands=[("ForgeReindex", "reindexed"), "ForgeImpact 1"],
    )
    reindex, impact = result["steps"]
    assert note_texts(reindex)[0] == "forge-lsp: reindexing…"
    assert note_texts(reindex)[1].startswith("forge-lsp: reindexed: 5 files, ")
    assert qf_entries(impact, root) == [
        ("shop/pricing.py", 7, 24, "Order.total <-call- with_vat [depth 1]")
    ]
