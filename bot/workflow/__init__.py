"""The cancellation workflow: drafting a request, deciding on it, executing it safely, and settling leftovers."""
