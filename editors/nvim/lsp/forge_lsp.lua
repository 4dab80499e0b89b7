-- forge-lsp: code-intelligence language server for Python.
--
-- With this directory on 'runtimepath' (Neovim 0.11+):
--
--   vim.lsp.enable('forge_lsp')
--
-- Override anything with vim.lsp.config(), which deep-merges into this table:
--
--   vim.lsp.config('forge_lsp', {
--     cmd = { '/path/to/venv/bin/forge-lsp', 'serve' },
--     init_options = { exclude = { 'migrations/**' }, includeProbable = true },
--   })
--
-- `init_options` are forge-lsp's initializationOptions (docs/lsp.md): dbPath, include, exclude,
-- maxFileSize, jobs, includeProbable, logLevel, debounceMs, freshnessTimeoutMs, cacheSize,
-- watchFiles, metricsLog. They override `[tool.forge-lsp]` in the project's pyproject.toml, so
-- none is set here: the server's defaults and the project's settings apply.

local root_markers = {
  'pyproject.toml',
  'setup.py',
  'setup.cfg',
  'requirements.txt',
  'Pipfile',
  'pyrightconfig.json',
  '.git',
}

--- The folder the server indexes: the nearest ancestor with one of `root_markers`. No root, no
--- server: indexing whatever directory a stray script sits in (or the home directory, when it
--- holds a dotfiles `.git`) would be slow and leave a `.forge/` behind.
---@param bufnr integer
---@param on_dir fun(root_dir?: string)
local function root_dir(bufnr, on_dir)
  local config = vim.lsp.config.forge_lsp
  local markers = config and config.root_markers or root_markers
  local root = vim.fs.root(bufnr, markers)
  if not root then
    return
  end
  root = vim.fs.normalize(root)
  local home = vim.uv.os_homedir()
  if root == '/' or (home and root == vim.fs.normalize(home)) then
    return
  end
  on_dir(root)
end

---@type vim.lsp.Config
return {
  cmd = { 'forge-lsp', 'serve' },
  filetypes = { 'python' },
  root_markers = root_markers,
  root_dir = root_dir,
  -- An empty *dict*: a plain {} would be sent as a JSON array.
  init_options = vim.empty_dict(),
  capabilities = {
    window = { workDoneProgress = true }, -- indexing progress ($/progress)
    workspace = {
      -- The server watches its folders itself (watchFiles); client-side watching only adds
      -- events it would de-duplicate.
      didChangeWatchedFiles = { dynamicRegistration = false },
    },
  },
}
