"""``segmentation analyst add EMAIL``: an analyst who may sign in to the web console.

Creates the Cognito user on the configured endpoint (moto locally, where the pool is created
when missing; the pool Terraform made on AWS) and prints the one-time password, which the
console asks to replace at first sign-in.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyst", help="manage the web console's analysts (Cognito users)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create an analyst and print a one-time password")
    add.add_argument("email", help="the analyst's e-mail address (the sign-in name)")
    add.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from segmentation_local.cognito import add_analyst

    if "@" not in args.email:
        raise ValueError(f"expected an e-mail address, got {args.email!r}")
    password = add_analyst(args.email)
    print(f"analyst {args.email} created; one-time password: {password}")
    print("(the console asks for a new password at the first sign-in)")
    return 0
