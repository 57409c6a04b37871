"""`inmet aws …`: operations on a deployed stack, with the AWS credentials of the shell."""

from __future__ import annotations

from typing import Annotated

import typer

from inmet_local.cli.output import console, err_console, fail

aws_app = typer.Typer(
    help="Operations on a deployed stack (AWS credentials from the shell).", no_args_is_help=True
)


@aws_app.command("redrive")
def aws_redrive(
    queue_url: Annotated[
        str | None,
        typer.Option(
            "--queue-url", help="The dead-letter queue (output ExportDeadLetterQueueUrl)."
        ),
    ] = None,
    stack: Annotated[
        str | None, typer.Option("--stack", help="Read the queue URL from this stack's outputs.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be replayed; change nothing.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Replay at most this many messages.")
    ] = None,
) -> None:
    """Replay the failed invocations in the dead-letter queue to the functions they came from.

    Each message is Lambda's on-failure record; its original event is invoked again
    asynchronously and the message deleted once Lambda accepted it. Exit code 0 when every
    message was replayed, 1 when any was skipped or refused, 2 for a usage problem.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from inmet_local.ops.redrive import redrive

    if bool(queue_url) == bool(stack):
        raise fail("give exactly one of --queue-url or --stack")
    try:
        if stack:
            outputs = (
                boto3.client("cloudformation")
                .describe_stacks(StackName=stack)["Stacks"][0]
                .get("Outputs", [])
            )
            found = {o["OutputKey"]: o["OutputValue"] for o in outputs}
            queue_url = found.get("ExportDeadLetterQueueUrl")
            if not queue_url:
                raise fail(f"stack {stack} has no output ExportDeadLetterQueueUrl")
        assert queue_url is not None
        report = redrive(
            boto3.client("sqs"),
            boto3.client("lambda"),
            queue_url,
            dry_run=dry_run,
            limit=limit,
            on_message=lambda outcome, detail: err_console.print(f"{outcome}: {detail}"),
        )
    except (BotoCoreError, ClientError) as exc:
        raise fail(f"AWS refused the redrive: {exc}", 1) from exc
    verb = "would replay" if dry_run else "replayed"
    console.print(
        f"{verb} {len(report.replayed)}, skipped {len(report.skipped)}, "
        f"refused {len(report.failed)} of {report.seen} message(s) in {queue_url}"
    )
    if report.skipped or report.failed:
        raise typer.Exit(1)
