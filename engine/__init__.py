"""Tradeblock's domain: market data, exchanges, trade blocks, bracket orders and portfolio.

`engine` never imports Dash; it reads and writes through `db`.
"""
