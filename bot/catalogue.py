"""The command catalogue: every command's usage, one sentence of help and an example.

One source for every front: the line grammar registers its handlers under these names, `/help`
shows them, and the Discord commands take their descriptions from here (a test runs every
example on the console).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings_input import SETTINGS


@dataclass(frozen=True)
class CommandHelp:
    """What a command is for, how it is typed, and one example."""

    usage: str
    summary: str
    example: str


CATALOGUE: dict[str, CommandHelp] = {
    "start": CommandHelp(
        "/start ZONE [start=DATE] [target=DATE] [hours=H] [weeks=N] [reminder=HH:MM|off] "
        "[daystart=H] [goal=\"…\"]",
        "Set up your tracker: your time zone, dates, daily commitment and reminder.",
        "/start Europe/Berlin target=2027-01-15 hours=4 reminder=19:30"),
    "settings": CommandHelp(
        "/settings [show] | /settings NAME=VALUE …   (NAME: " + " ".join(SETTINGS) + ")",
        "Show your settings, or change one or more of them by name.",
        "/settings reminder=20:00 digest=friday digest_every=biweekly public=off"),
    "log": CommandHelp(
        "/log DURATION [TOPIC] [DATE]",
        "Log study time, with an optional topic and day (today by default).",
        "/log 1h30m \"block manager\" yesterday"),
    "done": CommandHelp(
        "/done ITEM [DATE]",
        "Tick a plan item as done: an id, `Day 5`, `d5` or a unique title start.",
        "/done day05"),
    "undone": CommandHelp(
        "/undone ITEM",
        "Untick a plan item you marked done.",
        "/undone day05"),
    "undo": CommandHelp(
        "/undo",
        "Revert your last change, whatever it was.",
        "/undo"),
    "quiz": CommandHelp(
        "/quiz WEEK SCORE",
        "Record the score of a week's quiz.",
        "/quiz week1 17/20"),
    "score": CommandHelp(
        "/score WHAT VALUE",
        "Record any other scored check of the plan.",
        "/score readiness 42/60"),
    "readiness": CommandHelp(
        "/readiness SCORE",
        "Record your prerequisites readiness score.",
        "/readiness 42"),
    "mock": CommandHelp(
        "/mock SCORE [FEEDBACK] [DATE] [slot=N]",
        "Record a mock interview in the next free slot (or slot N).",
        "/mock 8 \"clear on paging\" yesterday"),
    "rate": CommandHelp(
        "/rate SKILL RATING [WEEK]",
        "Rate a skill of the self-assessment matrix (the current plan week by default).",
        "/rate scheduler 4 week2"),
    "confidence": CommandHelp(
        "/confidence AREA LEVEL",
        "Set one of your confidence scales (1-5).",
        "/confidence coding 4"),
    "set": CommandHelp(
        "/set FIELD VALUE",
        "Set any other field of your tracker (status choices, percentages, texts).",
        "/set next-steps \"Apply in January\""),
    "count": CommandHelp(
        "/count COUNTER [+N|-N|=N]",
        "Add to a counter of the plan (+1 by default), subtract from it or set it.",
        "/count cuda-basic +1"),
    "insight": CommandHelp(
        "/insight [weekN] TEXT",
        "Record a key insight of a plan week.",
        "/insight week2 blocks are pages"),
    "challenge": CommandHelp(
        "/challenge CHALLENGE | SOLUTION | LEARNING",
        "Record a challenge you overcame, how, and what it taught you.",
        "/challenge OOM | smaller batch | measure first"),
    "question": CommandHelp(
        "/question TEXT",
        "Record a question for further study.",
        "/question why 16-token blocks?"),
    "notes": CommandHelp(
        "/notes | /notes remove ID",
        "List your reflections, or remove one by number.",
        "/notes"),
    "deadline": CommandHelp(
        "/deadline add \"TITLE\" DATE | /deadline list | /deadline remove ID",
        "Add, list or remove your deadlines.",
        "/deadline add \"NVIDIA Interview\" 2027-01-15"),
    "progress": CommandHelp(
        "/progress",
        "Show your overall and weekly progress, hours, streak and pace.",
        "/progress"),
    "skills": CommandHelp(
        "/skills",
        "Show your self-assessment matrix across the plan weeks.",
        "/skills"),
    "summary": CommandHelp(
        "/summary",
        "Show the plan's final summary of your tracker.",
        "/summary"),
    "next": CommandHelp(
        "/next",
        "Show the next seven study days: dated items, hours and deadlines.",
        "/next"),
    "milestones": CommandHelp(
        "/milestones",
        "Show the milestones you reached, with dates, and what the open ones need.",
        "/milestones"),
    "week": CommandHelp(
        "/week [N]",
        "Show a plan week's time log: hours and topics per day.",
        "/week 2"),
    "pause": CommandHelp(
        "/pause until DATE",
        "Silence reminders and freeze your streak until a date.",
        "/pause until 2027-01-03"),
    "resume": CommandHelp(
        "/resume",
        "End a pause early: reminders come back today.",
        "/resume"),
    "snooze": CommandHelp(
        "/snooze 1h|evening|DURATION|off",
        "Move today's reminder by a while or to the evening (off cancels).",
        "/snooze 1h"),
    "digest": CommandHelp(
        "/digest preview",
        "Show the digest you and your partner would get now.",
        "/digest preview"),
    "partner": CommandHelp(
        "/partner invite USER | accept [LEARNER] | end [LEARNER] | share "
        "hours,days,streak,scores,notes",
        "Invite an accountability partner, accept or end a partnership, choose what they see.",
        "/partner share hours,days,streak"),
    "plan": CommandHelp(
        "/plan | /plan use ID",
        "List the plans, or choose the one new learners here follow.",
        "/plan use vllm"),
    "link": CommandHelp(
        "/link | /link CODE | /link here",
        "Link your tracker to your account on another front, or get reminders here.",
        "/link"),
    "export": CommandHelp(
        "/export [markdown|json|csv] [PATH]",
        "Export your tracker file, or all your data (the console writes it to PATH).",
        "/export markdown"),
    "import": CommandHelp(
        "/import PATH | /import confirm | /import cancel",
        "Fill your tracker from a Markdown file: preview first, then confirm.",
        "/import tracker.md"),
    "forget-me": CommandHelp(
        "/forget-me | /forget-me confirm",
        "Delete everything Pacer stores about you, after a confirmation.",
        "/forget-me"),
    "help": CommandHelp(
        "/help [COMMAND]",
        "List the commands, or show one with its usage and example.",
        "/help log"),
}
