"""Lazada Open Platform: request signing, a typed client, tokens and errors."""
