"""Exports of the building for other systems: a Brick Schema model in Turtle."""
