"""The Slack front: slack_bolt's AsyncApp over the typed core.

- ``runner``: start and stop the front in Socket Mode or HTTP mode (``start_slack``).
- ``app``: the Web API client and the bolt app with its listeners (``create_app``).
- ``listeners``: ``/pacer``, the buttons, ``app_home_opened``; each acknowledges first.
- ``front``: the translation of a Slack request to a core call, and where replies go.
- ``home``: the App Home view; ``blocks``: Block Kit rendering and escaping.
- ``sender``: the dispatcher's Slack sender (DMs, pacing, files, delivery errors).
"""
