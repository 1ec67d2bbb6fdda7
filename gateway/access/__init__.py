"""Access control: tokens and roles, members and plans, grants, door decisions, credentials."""
