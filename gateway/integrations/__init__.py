"""Integrations with other systems: room calendars and booking platforms in, webhooks out."""
