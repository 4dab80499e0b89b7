--- The user commands. Created at startup by `plugin/forge_lsp.lua` (and by `setup()`); the
--- module behind them is only loaded when one is run.

local M = {}

local command = vim.api.nvim_create_user_command

--- Creates `:ForgeImpact`, `:ForgeStatus` and `:ForgeReindex` (again, if they exist).
function M.create()
  command('ForgeImpact', function(args)
    local depth = nil ---@type integer?
    if args.args ~= '' then
      depth = tonumber(args.args)
      if not depth then
        vim.notify(
          'forge-lsp: usage: :ForgeImpact[!] [depth]  (! = the whole file)',
          vim.log.levels.ERROR
        )
        return
      end
    end
    require('forge_lsp').impact({ depth = depth, file = args.bang })
  end, {
    nargs = '?',
    bang = true,
    desc = 'forge-lsp: what depends on the symbol under the cursor (! = on the file), in the quickfix list',
  })

  command('ForgeStatus', function(args)
    require('forge_lsp').status({ raw = args.bang })
  end, {
    nargs = 0,
    bang = true,
    desc = 'forge-lsp: indexing state and graph size (! = the whole answer)',
  })

  command('ForgeReindex', function(args)
    require('forge_lsp').reindex({ folder = args.args })
  end, {
    nargs = '?',
    complete = function(lead)
      return vim.tbl_filter(function(folder)
        return vim.startswith(folder, lead)
      end, require('forge_lsp').folders())
    end,
    desc = 'forge-lsp: rebuild the graph from scratch (all folders, or one)',
  })
end

return M
