"""Lazada Open Platform: request signing, a typed client and a local sandbox."""
