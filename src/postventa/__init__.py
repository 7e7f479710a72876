"""Postventa: a self-hosted, wire-compatible Mercado Libre post-sale messaging service."""

__version__ = "0.1.0"
