"""The Slack front: slack_bolt's AsyncApp over the typed core.

- ``runner``: start and stop the front in Socket Mode or HTTP mode (``start_slack``).
- ``app``: the Web API client and the bolt app with its listeners (``create_app``).
- ``listeners``: ``/pacer``, the buttons, ``app_home_opened``; each acknowledges first.
- ``front``: the translation of a Slack request to a core call.
- ``rules``: where a reply goes, what republishes the Home, how commands and mentions read.
- ``home``: the App Home view; ``blocks``: Block Kit rendering and escaping.
- ``sender``: the dispatcher's Slack sender (DMs, pacing, files, delivery errors).
"""
