--- forge-lsp for Neovim: the impact of a change in the quickfix list, the server's status.
---
--- The language server itself is configured by `lsp/forge_lsp.lua` (`vim.lsp.enable('forge_lsp')`);
--- this module adds forge-lsp's own requests: `forge/impact`, `forge/status` and `forge/reindex`.
--- See `:help forge_lsp`.

local M = {}

--- Name of the config in `lsp/forge_lsp.lua`, hence of the client `vim.lsp.enable()` starts.
M.name = 'forge_lsp'

--- What the server calls itself (`serverInfo.name`): finds the server under any client name.
local SERVER_NAME = 'forge-lsp'

-- The limits `forge/impact` accepts (docs/lsp.md).
local MAX_DEPTH = 10000
local MAX_NODES = 1000000

-- JSON-RPC error codes that are not failures of the request as such.
local REQUEST_CANCELLED = -32800
local CONTENT_MODIFIED = -32801

---@class forge_lsp.ImpactOptions
---@field depth? integer how far to follow dependents (1..10000; nil: no limit, to a fixed point)
---@field max_nodes? integer stop after this many dependents (1..1000000, server default 10000)
---@field include_probable? boolean also follow uses on receivers of unknown type
---@field open? boolean open the quickfix window when there are results (default true)

---@class forge_lsp.StatusOptions
---@field float? boolean show `:ForgeStatus` in a floating window instead of a notification

---@class forge_lsp.Options
---@field enable? boolean call `vim.lsp.enable('forge_lsp')` from `setup()` (default true)
---@field cmd? string[]|fun(dispatchers: vim.lsp.rpc.Dispatchers): vim.lsp.rpc.PublicClient
---@field init_options? table forge-lsp's initializationOptions (see docs/lsp.md)
---@field impact? forge_lsp.ImpactOptions
---@field status? forge_lsp.StatusOptions

---@type forge_lsp.Options
local defaults = {
  enable = true,
  impact = { open = true }, -- no depth: the walk goes on until nothing new depends on the symbol
  status = { float = false },
}

---@type forge_lsp.Options
M.options = vim.deepcopy(defaults)

---@param msg string
---@param level? integer
local function notify(msg, level)
  vim.notify('forge-lsp: ' .. msg, level or vim.log.levels.INFO, { title = 'forge-lsp' })
end

--- A JSON value that is a number, or nil (JSON null arrives as `vim.NIL`).
---@return number?
local function num(value)
  return type(value) == 'number' and value or nil
end

---@param client vim.lsp.Client
---@return boolean
local function is_forge(client)
  local info = client.server_info
  return client.name == M.name or (type(info) == 'table' and info.name == SERVER_NAME)
end

--- The running forge-lsp clients; with `bufnr`, only those attached to that buffer.
---@param bufnr? integer
---@return vim.lsp.Client[]
function M.clients(bufnr)
  local found = {}
  for _, client in ipairs(vim.lsp.get_clients(bufnr and { bufnr = bufnr } or nil)) do
    if is_forge(client) then
      found[#found + 1] = client
    end
  end
  return found
end

--- The forge-lsp client attached to `bufnr` (or, with `any`, the only one running); nil and a
--- warning when there is none.
---@param bufnr integer
---@param any? boolean
---@return vim.lsp.Client?
local function client_for(bufnr, any)
  local client = M.clients(bufnr)[1]
  if client then
    return client
  end
  local running = M.clients()
  if any and #running == 1 then
    return running[1]
  end
  local why = #running == 0 and 'forge-lsp is not running'
    or 'forge-lsp is not attached to this buffer'
  notify(
    (
      '%s (is the buffer a Python file in a project with a pyproject.toml or .git? '
      .. 'see :checkhealth forge_lsp)'
    ):format(why),
    vim.log.levels.WARN
  )
  return nil
end

--- Sends `method` and calls `on_result(result)` with its answer; errors become notifications.
---@param client vim.lsp.Client
---@param method string
---@param params table?
---@param bufnr integer?
---@param on_result fun(result: any)
local function request(client, method, params, bufnr, on_result)
  local ok = client:request(method, params, function(err, result)
    if err then
      if err.code == REQUEST_CANCELLED then
        return
      elseif err.code == CONTENT_MODIFIED then
        notify(
          ('%s: the graph is still catching up with your edits, try again'):format(method),
          vim.log.levels.WARN
        )
      else
        notify(
          ('%s failed: %s (%s)'):format(method, err.message or 'error', err.code or '?'),
          vim.log.levels.ERROR
        )
      end
      return
    end
    on_result(result)
  end, bufnr)
  if not ok then
    notify(('%s: the server is not running'):format(method), vim.log.levels.ERROR)
  end
end

-- ---------------------------------------------------------------------------------------------
-- forge/impact
-- ---------------------------------------------------------------------------------------------

--- `Order.total <-call- with_vat <-call- Checkout.pay`: from the root out to the dependent.
---@param dependent table
---@param names table<integer, string>
---@return string
local function edge_path(dependent, names)
  local function name(id)
    return names[id] or ('#' .. tostring(id))
  end
  local path = type(dependent.chain) == 'table' and dependent.chain or {}
  if #path == 0 then
    return name(dependent.symbol.id)
  end
  local parts = { name(path[1].to) }
  for _, edge in ipairs(path) do
    local probable = edge.confidence == 'probable' and '?' or ''
    parts[#parts + 1] = ('<-%s%s-'):format(edge.kind or '?', probable)
    parts[#parts + 1] = name(edge.from)
  end
  return table.concat(parts, ' ')
end

--- Quickfix items for a `forge/impact` result: one per dependent, at the use that makes it a
--- dependent (the last edge of its path), or at its name when it has no path. `text` is the
--- edge path, then the depth and the `[test]` and `[probable]` markers; `user_data` is the
--- dependent as the server sent it. Sorted by file, then position.
---@param result table the `forge/impact` result
---@param encoding string the client's offset encoding, which the ranges are in
---@return vim.quickfix.entry[]
function M.impact_items(result, encoding)
  local names = {} ---@type table<integer, string>
  local function learn(item)
    if type(item) == 'table' and item.id ~= nil then
      names[item.id] = item.qualname or item.name
    end
  end
  learn(result.root)
  for _, item in ipairs(type(result.roots) == 'table' and result.roots or {}) do
    learn(item)
  end
  local files = type(result.files) == 'table' and result.files or {}
  for _, file in ipairs(files) do
    for _, dependent in ipairs(file.dependents or {}) do
      learn(dependent.symbol)
    end
  end

  local locations = {}
  for _, file in ipairs(files) do
    for _, dependent in ipairs(file.dependents or {}) do
      local path = type(dependent.chain) == 'table' and dependent.chain or {}
      local last = path[#path]
      local location = last and last.location
        or { uri = dependent.symbol.uri, range = dependent.symbol.selectionRange }
      -- locations_to_items hands the location back as `user_data`.
      locations[#locations + 1] =
        { uri = location.uri, range = location.range, dependent = dependent }
    end
  end

  local items = vim.lsp.util.locations_to_items(locations, encoding)
  for _, item in ipairs(items) do
    local dependent = item.user_data.dependent
    local text = ('%s [depth %d]'):format(edge_path(dependent, names), dependent.depth or 0)
    if dependent.isTest then
      text = text .. ' [test]'
    end
    if dependent.confidence == 'probable' then
      text = text .. ' [probable]'
    end
    item.text = text
    item.user_data = dependent
  end
  return items
end

---@param n integer
---@param word string
---@return string
local function plural(n, word)
  return ('%d %s%s'):format(n, word, n == 1 and '' or 's')
end

--- What the document's unsaved edits do to the symbol asked about (`pendingChange`), or nil.
---@param result table
---@return string?
function M.pending_summary(result)
  local pending = result.pendingChange
  if type(pending) == 'table' and type(pending.summary) == 'string' then
    return pending.summary
  end
  return nil
end

--- Why the walk stopped early (`cut off at depth 2: 5 nodes not expanded`), or nil.
---@param result table
---@return string?
function M.impact_cut_off(result)
  local by = result.truncatedBy
  if by ~= 'depth' and by ~= 'nodes' and result.truncated ~= true then
    return nil
  end
  local left = plural(num(result.unexpanded) or 0, 'node') .. ' not expanded'
  if by == 'depth' then
    return ('cut off at depth %s: %s'):format(tostring(num(result.depth) or '?'), left)
  end
  return 'cut off at the node limit: ' .. left
end

--- The quickfix title: what, the unsaved edit's effect first (if any), how many dependents
--- (exact, probable), the tests reached, and whether the answer is complete:
--- `forge impact of Order.total: 6 dependents (6 exact, 0 probable), tests reached: 3`.
---@param result table
---@return string
function M.impact_title(result)
  local root = type(result.root) == 'table' and result.root or nil
  local what = root and (root.qualname or root.name) or '?'
  -- A whole file: asked for (`:ForgeImpact!`), or a position outside every definition.
  local whole_file = (type(result.target) == 'table' and result.target.kind == 'file')
    or (root ~= nil and root.kind == 'module')
  if whole_file then
    what = 'file ' .. what
  end
  local count = num(result.count) or 0
  local probable = num(result.probableCount) or 0
  local exact = num(result.exactCount) or (count - probable)
  local tests = type(result.tests) == 'table' and #result.tests or 0
  local title = ('forge impact of %s: '):format(what)
  local unsaved = M.pending_summary(result)
  if unsaved then
    title = title .. ('unsaved edit, %s; '):format(unsaved)
  end
  title = title
    .. ('%s (%d exact, %d probable), tests reached: %d'):format(
      plural(count, 'dependent'),
      exact,
      probable,
      tests
    )
  local cut_off = M.impact_cut_off(result)
  if cut_off then
    title = title .. ', ' .. cut_off
  elseif num(result.depth) then
    title = title .. (' (depth <= %d)'):format(result.depth)
  end
  if result.partial == true then
    local pending = type(result.pending) == 'table' and #result.pending or 0
    title = title
      .. (
        pending > 0 and (' [partial: %d edited file(s) not indexed yet]'):format(pending)
        or ' [partial: indexing]'
      )
  end
  return title
end

--- Everything that depends on the symbol at the cursor (on its name or anywhere inside its
--- definition; outside every definition, the file), or with `file` on every symbol of the
--- current file, in the quickfix list. An unsaved edit of that symbol is notified first.
---@param opts? forge_lsp.ImpactOptions|{file?: boolean, on_done?: fun(result: table, items: vim.quickfix.entry[])}
function M.impact(opts)
  opts = vim.tbl_extend('force', M.options.impact or {}, opts or {})
  local depth = opts.depth
  if
    depth ~= nil and (type(depth) ~= 'number' or depth % 1 ~= 0 or depth < 1 or depth > MAX_DEPTH)
  then
    notify(
      ('depth must be an integer from 1 to %d (or none: no limit)'):format(MAX_DEPTH),
      vim.log.levels.ERROR
    )
    return
  end
  local max_nodes = opts.max_nodes
  if
    max_nodes ~= nil
    and (
      type(max_nodes) ~= 'number'
      or max_nodes % 1 ~= 0
      or max_nodes < 1
      or max_nodes > MAX_NODES
    )
  then
    notify(('max_nodes must be an integer from 1 to %d'):format(MAX_NODES), vim.log.levels.ERROR)
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then
    return
  end
  local encoding = client.offset_encoding
  local params ---@type table
  if opts.file then
    params = { textDocument = vim.lsp.util.make_text_document_params(bufnr) }
  else
    params = vim.lsp.util.make_position_params(0, encoding)
  end
  params.depth = depth
  params.maxNodes = max_nodes
  params.includeProbable = opts.include_probable

  request(client, 'forge/impact', params, bufnr, function(result)
    if type(result) ~= 'table' then
      notify('forge/impact: empty answer', vim.log.levels.WARN)
      return
    end
    if type(result.root) ~= 'table' then
      local what = opts.file and 'this file is not indexed (yet)' or 'no symbol at the cursor'
      notify(
        ('impact: %s%s'):format(what, result.partial == true and ' (still indexing)' or ''),
        vim.log.levels.WARN
      )
      return
    end
    local items = M.impact_items(result, encoding)
    local title = M.impact_title(result)
    local pending = M.pending_summary(result)
    if pending then
      -- Before the list: what the unsaved edit does is the first thing to know.
      local name = result.root.qualname or result.root.name or '?'
      local level = result.pendingChange.change == 'interface' and vim.log.levels.WARN
        or vim.log.levels.INFO
      notify(('unsaved edit of %s: %s'):format(name, pending), level)
    end
    if #items == 0 then
      notify(title)
    else
      vim.fn.setqflist({}, ' ', {
        title = title,
        items = items,
        context = { forge_impact = result },
      })
      if opts.open ~= false then
        vim.cmd('botright copen')
      end
    end
    if opts.on_done then
      opts.on_done(result, items)
    end
  end)
end

-- ---------------------------------------------------------------------------------------------
-- forge/status
-- ---------------------------------------------------------------------------------------------

---@param value any
---@param decimals? integer
---@return string
local function fmt(value, decimals)
  local n = num(value)
  if not n then
    return '?'
  end
  if decimals then
    return ('%.' .. decimals .. 'f'):format(n)
  end
  return ('%d'):format(n)
end

---@param cache any
---@return string
local function fmt_cache(cache)
  if type(cache) ~= 'table' then
    return 'cache: ?'
  end
  local rate = num(cache.hitRate)
  return ('cache: %s hit rate (%s hits, %s misses), %s answers'):format(
    rate and ('%.1f%%'):format(rate * 100) or 'no',
    fmt(cache.hits),
    fmt(cache.misses),
    fmt(cache.size)
  )
end

--- The `forge/status` result as lines of text.
---@param status table
---@return string[]
function M.status_lines(status)
  local lines = {}
  local state = tostring(status.state or '?')
  local pending = num(status.pendingFiles) or 0
  if pending > 0 then
    state = ('%s, %d files to parse'):format(state, pending)
  end
  lines[#lines + 1] = ('forge-lsp %s: %s'):format(tostring(status.version or ''), state)
  lines[#lines + 1] = ('%s files, %s symbols, %s references'):format(
    fmt(status.files),
    fmt(status.symbols),
    fmt(status.references)
  )
  local live = type(status.live) == 'table' and status.live or {}
  lines[#lines + 1] = ('live: %s pending, %s updates applied, %s files re-resolved'):format(
    fmt(live.pendingUpdates),
    fmt(live.updates),
    fmt(live.reresolvedFiles)
  )
  lines[#lines + 1] = fmt_cache(status.cache)
  lines[#lines + 1] = ('position encoding %s, probable results %s'):format(
    tostring(status.positionEncoding or '?'),
    status.includeProbable == true and 'on' or 'off'
  )
  for _, folder in ipairs(type(status.folders) == 'table' and status.folders or {}) do
    local flive = type(folder.live) == 'table' and folder.live or {}
    lines[#lines + 1] = ('%s: %s, %s files, %s%% resolved, indexed in %s s, watcher %s'):format(
      tostring(folder.root or folder.uri or '?'),
      tostring(folder.state or '?'),
      fmt(folder.files),
      fmt(folder.resolvedPercent, 1),
      fmt(folder.lastIndexSeconds, 2),
      tostring(flive.watcher or '?')
    )
    if type(folder.error) == 'string' then
      lines[#lines + 1] = '  error: ' .. folder.error
    end
  end
  return lines
end

---@param lines string[]
---@param level? integer
local function show(lines, level)
  if M.options.status and M.options.status.float then
    vim.lsp.util.open_floating_preview(lines, 'text', {
      border = 'rounded',
      title = ' forge-lsp ',
      focus_id = 'forge_lsp_status',
    })
  else
    vim.notify(table.concat(lines, '\n'), level or vim.log.levels.INFO, { title = 'forge-lsp' })
  end
end

--- Shows `forge/status`: of the server attached to the current buffer, else of the only one
--- running. With `raw`, the whole answer.
---@param opts? {raw?: boolean, on_done?: fun(status: table)}
function M.status(opts)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr, true)
  if not client then
    return
  end
  request(client, 'forge/status', nil, bufnr, function(status)
    if type(status) ~= 'table' then
      notify('forge/status: empty answer', vim.log.levels.WARN)
      return
    end
    if opts.raw then
      show(vim.split(vim.inspect(status), '\n'))
    else
      show(M.status_lines(status))
    end
    if opts.on_done then
      opts.on_done(status)
    end
  end)
end

-- ---------------------------------------------------------------------------------------------
-- forge/reindex
-- ---------------------------------------------------------------------------------------------

--- Rebuilds the graph from scratch: every folder of the server attached to the current buffer,
--- or only `folder` (a path or a file:// URI of one of its workspace folders).
---@param opts? {folder?: string, on_done?: fun(status: table)}
function M.reindex(opts)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr, true)
  if not client then
    return
  end
  local params = vim.empty_dict()
  local folder = opts.folder
  if folder and folder ~= '' then
    if not folder:match('^%a[%w+.-]*:') then
      folder = vim.uri_from_fname(vim.fs.normalize(vim.fn.fnamemodify(folder, ':p')))
    end
    params = { folder = folder }
  end
  notify('reindexing…')
  request(client, 'forge/reindex', params, bufnr, function(status)
    if type(status) == 'table' then
      notify(
        ('reindexed: %s files, %s symbols in %s s'):format(
          fmt(status.files),
          fmt(status.symbols),
          fmt(status.lastIndexSeconds, 2)
        )
      )
    end
    if opts.on_done then
      opts.on_done(status)
    end
  end)
end

--- Workspace folders of the running servers, for `:ForgeReindex` completion.
---@return string[]
function M.folders()
  local folders = {}
  for _, client in ipairs(M.clients()) do
    for _, folder in ipairs(client.workspace_folders or {}) do
      folders[#folders + 1] = folder.name
    end
  end
  return folders
end

-- ---------------------------------------------------------------------------------------------
-- setup
-- ---------------------------------------------------------------------------------------------

--- Optional. Sets the options of the commands, passes `cmd` and `init_options` on to
--- `vim.lsp.config('forge_lsp', …)`, and enables the server (unless `enable = false`). Anything
--- else about the server: `vim.lsp.config('forge_lsp', {...})` directly.
---@param opts? forge_lsp.Options
function M.setup(opts)
  opts = opts or {}
  vim.validate('opts.cmd', opts.cmd, { 'table', 'function' }, true)
  vim.validate('opts.init_options', opts.init_options, 'table', true)
  vim.validate('opts.impact', opts.impact, 'table', true)
  vim.validate('opts.status', opts.status, 'table', true)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts)

  local config = {}
  if opts.cmd then
    config.cmd = opts.cmd
  end
  if opts.init_options then
    config.init_options = opts.init_options
  end
  if next(config) then
    vim.lsp.config(M.name, config)
  end
  require('forge_lsp.commands').create()
  if M.options.enable ~= false then
    vim.lsp.enable(M.name)
  end
end

return M
