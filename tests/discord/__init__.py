"""Tests of the Discord front that run a real discord.py client against the stand-in."""
