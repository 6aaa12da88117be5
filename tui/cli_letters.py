"""``otos letters``: a round's letters as one print-ready PDF and its mailing list.
"""
from __future__ import annotations

import argparse
from pool.i18n import _


def add_parser(sub) -> None:
    let = sub.add_parser("letters", help=_("invitation letters")).add_subparsers(dest="action", metavar="ACTION",
                                                                             required=True)
    lp = let.add_parser("print", help=_("write a round's letters as one print-ready PDF, and its mailing list"))
    lp.add_argument("--round", required=True, help=_("the recruitment round of the invitations"))
    lp.add_argument("--out", required=True, help=_("FILE.pdf (the mailing list goes beside it as FILE.csv)"))
    lp.add_argument("--reminder", action="store_true", help=_("only those who have not answered"))
    lp.add_argument("--topic", help=_("the panel topic in Finnish letters (default: the workspace's topic.fi)"))
    lp.add_argument("--topic-sv", help=_("the topic in Swedish letters (default: the workspace's topic.sv)"))
    lp.add_argument("--topic-en", help=_("the topic in English letters (default: the workspace's topic.en)"))
    lp.add_argument("--reply-by", help=_("last day to answer (default: three weeks from today)"))
    lp.add_argument("--templates", help=_("folder of letter templates (fi.txt ...) to use instead of the shipped ones"))


def run(engine, args: argparse.Namespace) -> int:
    from letters.batch import LetterSettings, print_round

    topic = {lang: text for lang, text in (("fi", args.topic), ("sv", args.topic_sv), ("en", args.topic_en)) if text}
    settings = LetterSettings.from_workspace(engine, topic=topic, templates=args.templates,
                                             reply_by=args.reply_by or "")
    report = print_round(engine, args.round, args.out, settings, reminder=args.reminder)
    for line in report.summary():
        print(line)
    return 0
