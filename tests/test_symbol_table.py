"""The program's compact symbol table: what goes in comes out, removal leaves a hole."""

from __future__ import annotations

import pytest

from forge_lsp.parsing.facts import CLASS, FIELD, METHOD, MODULE
from forge_lsp.resolve.symbol_table import SymbolTable


def test_symbols_keep_their_file_kind_and_parent_across_growth() -> None:
    table = SymbolTable()
    table.add(1, 7, MODULE, None)
    table.add(5000, 7, CLASS, 1)  # far beyond the first allocation: the arrays grow
    table.add(5001, 7, METHOD, 5000)
    table.add(5002, 9, FIELD, 5000)
    assert [table.kind(s) for s in (1, 5000, 5001, 5002)] == [MODULE, CLASS, METHOD, FIELD]
    assert [table.parent(s) for s in (1, 5000, 5001)] == [None, 1, 5000]
    assert table.file_id(5002) == 9
    assert 2 not in table and 4999 not in table and 10**9 not in table  # holes and beyond
    assert "5000" not in table and None not in table


def test_a_removed_symbol_is_gone_and_its_id_can_come_back() -> None:
    table = SymbolTable()
    table.add(3, 1, CLASS, None)
    table.pop(3)
    table.pop(3)  # twice is harmless
    assert 3 not in table
    table.add(3, 2, METHOD, 8)
    assert 3 in table and (table.file_id(3), table.kind(3), table.parent(3)) == (2, METHOD, 8)


def test_ids_start_at_one() -> None:
    with pytest.raises(ValueError):
        SymbolTable().add(0, 1, MODULE, None)


def test_a_file_id_past_two_to_the_31_widens_the_arrays_and_keeps_the_rest() -> None:
    table = SymbolTable()
    table.add(1, 7, MODULE, None)
    table.add(2, 2**40, CLASS, 1)  # four bytes an id until then
    table.add(3, 2**40, METHOD, 2)
    assert [table.file_id(s) for s in (1, 2, 3)] == [7, 2**40, 2**40]
    assert [table.parent(s) for s in (1, 2, 3)] == [None, 1, 2]
    assert table.kind(3) == METHOD
