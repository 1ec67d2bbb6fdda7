"""Deployment helpers: the broker's password file and per-device ACL from the building file."""
