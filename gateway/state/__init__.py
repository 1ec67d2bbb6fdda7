"""What the running gateway knows now: its configuration snapshot and its live state."""
