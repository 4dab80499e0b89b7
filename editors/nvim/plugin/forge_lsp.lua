-- forge-lsp: `:ForgeImpact`, `:ForgeStatus`, `:ForgeReindex` and <Plug> mappings. The server is
-- configured by `lsp/forge_lsp.lua`: start it with `vim.lsp.enable('forge_lsp')`.

if vim.g.loaded_forge_lsp then
  return
end
vim.g.loaded_forge_lsp = true

if vim.fn.has('nvim-0.11') == 0 then
  vim.notify_once('forge-lsp needs Neovim 0.11 or later', vim.log.levels.WARN)
  return
end

require('forge_lsp.commands').create()

vim.keymap.set('n', '<Plug>(forge-impact)', function()
  require('forge_lsp').impact()
end, { desc = 'forge-lsp: impact of the symbol under the cursor' })

vim.keymap.set('n', '<Plug>(forge-impact-file)', function()
  require('forge_lsp').impact({ file = true })
end, { desc = 'forge-lsp: impact of the current file' })
