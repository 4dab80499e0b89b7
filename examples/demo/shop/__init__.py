"""A tiny shop: the bundled example for forge-lsp's quick start."""

from .models import Order, Product

__all__ = ["Order", "Product"]
