"""A loopback stand-in for Slack's Web API, response URLs and Socket Mode (tests only)."""

from tests.slack_standin.server import SlackStandIn, signed_headers

__all__ = ["SlackStandIn", "signed_headers"]
