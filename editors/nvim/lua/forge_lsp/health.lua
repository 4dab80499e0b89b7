--- `:checkhealth forge_lsp`

local M = {}

function M.check()
  local health = vim.health
  health.start('forge-lsp')

  if vim.fn.has('nvim-0.11') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('Neovim 0.11 or later is needed (vim.lsp.config, vim.lsp.enable)')
    return
  end

  local config = vim.lsp.config.forge_lsp
  if not config then
    health.error("no 'forge_lsp' config: is the plugin directory on 'runtimepath'?", {
      'it holds lsp/forge_lsp.lua; :echo nvim_get_runtime_file("lsp/forge_lsp.lua", v:true)',
    })
    return
  end

  local cmd = config.cmd
  if type(cmd) == 'table' and cmd[1] then
    local exe = vim.fn.exepath(cmd[1])
    if exe ~= '' then
      health.ok(('server command: %s (%s)'):format(table.concat(cmd, ' '), exe))
    else
      health.error(('server command not found: %s'):format(cmd[1]), {
        'install it from a checkout of forge-lsp: pipx install /path/to/forge-lsp (it is not on the package index)',
        "or point to it: vim.lsp.config('forge_lsp', { cmd = { '/path/to/forge-lsp', 'serve' } })",
      })
    end
  elseif type(cmd) == 'function' then
    health.info('server command: a function (not checked)')
  else
    health.error('the forge_lsp config has no cmd')
  end

  if vim.lsp.is_enabled then
    if vim.lsp.is_enabled('forge_lsp') then
      health.ok("enabled: vim.lsp.enable('forge_lsp')")
    else
      health.warn('not enabled: nothing starts the server', {
        "vim.lsp.enable('forge_lsp') in your config, or require('forge_lsp').setup()",
      })
    end
  end

  local clients = require('forge_lsp').clients()
  if #clients == 0 then
    health.info('no forge-lsp server is running (one starts when a Python file of a project opens)')
  end
  for _, client in ipairs(clients) do
    local folders = {}
    for _, folder in ipairs(client.workspace_folders or {}) do
      folders[#folders + 1] = folder.name
    end
    local info = client.server_info or {}
    health.ok(
      ('client %d (%s): forge-lsp %s, %s, folders: %s'):format(
        client.id,
        client.name,
        tostring(info.version or '?'),
        client.offset_encoding,
        #folders > 0 and table.concat(folders, ', ') or 'none'
      )
    )
  end
end

return M
