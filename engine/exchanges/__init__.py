"""Exchange adapters behind one small interface: ccxt for real venues, the demo feed offline."""
