"""Recording what the attempts of a batch did: the attempt rows, the outgoing messages' new
state (succeeded, failed, or due again after the retry delay), the destination's failing state,
and what comes next for each message (``Next``)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime

from django.db import transaction
from django.utils import timezone

from core.db import update_rows
from deliveries.alerts import alert_on_failure, destination_disable_and_alert
from deliveries.claim import give_back, next_fifo, release
from deliveries.models import Attempt, OutgoingMessage
from deliveries.send import Prepared
from destinations import http_client
from destinations.models import Destination
from destinations.retry import MAX_DELAY_SECONDS, effective_policy, retry_delay
from reporting.rollups import traffic_count

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Next:
    """What the task should do after a delivery call: enqueue these ids, now or later."""

    retry_in: float | None = None  # seconds until this message is due again
    then_deliver: str | None = None  # the next FIFO message of the same destination
    parked_for: str | None = None  # waits for a free in-flight slot of this destination
    finished_for: str | None = None  # a delivery to this destination finished: wake parked ones
    unanswered: bool = False  # that delivery got no answer (timeout, no connection): wake one, a probe
    busy: bool = False  # its row was locked by another transaction: try again, leaving the row be


def _retry_after(outcome, scheduled: float) -> float:
    """A Retry-After on 429/503, clamped between the scheduled delay and 24 h."""
    if outcome.status not in (429, 503):
        return scheduled
    raw = {k.lower(): v for k, v in outcome.headers.items()}.get("retry-after", "")
    try:
        asked = float(raw)
    except ValueError:
        try:
            asked = (parsedate_to_datetime(raw) - timezone.now()).total_seconds()
        except (TypeError, ValueError):
            return scheduled
    return min(max(asked, scheduled), MAX_DELAY_SECONDS)


def _outcome_fields(prepared: Prepared, outcome: http_client.Outcome, now) -> tuple[dict, float | None]:
    """The outgoing message's new fields after an attempt, and the seconds until its next attempt
    (None: it is finished)."""
    outgoing, destination = prepared.outgoing, prepared.outgoing.destination
    if outcome.ok:
        fields = {
            "status": OutgoingMessage.Status.SUCCEEDED,
            "last_status_code": outcome.status,
            "completed_at": now,
        }
        return fields, None
    error = outcome.error or f"HTTP {outcome.status}"
    if outcome.status == 410:
        destination_disable_and_alert(destination=destination, reason="The endpoint answered 410 Gone.")
    blocked = outcome.error_kind == "ssrf_blocked"
    if blocked:
        logger.warning(
            "delivery blocked by the SSRF guard, not retried: a configuration error outgoing=%s "
            "destination=%s error=%r",
            outgoing.pk,
            destination.pk,
            error,
        )
    policy_id, retry_count, interval = effective_policy(destination)
    if outcome.status == 410 or blocked or prepared.attempt.number > retry_count:
        alert_on_failure(destination=destination, outgoing=outgoing, error=error)
        fields = {
            "status": OutgoingMessage.Status.FAILED,
            "last_status_code": outcome.status,
            "error": error,
            "completed_at": now,
        }
        return fields, None
    delay = _retry_after(outcome, retry_delay(policy_id, prepared.attempt.number, interval) or 0)
    fields = {
        "last_status_code": outcome.status,
        "error": error,
        "next_attempt_at": now + timedelta(seconds=delay),
    }
    return fields, delay


ATTEMPT_OUTCOME_FIELDS = [
    "status_code",
    "response_headers",
    "response_body",
    "succeeded",
    "error_kind",
    "error",
    "elapsed_ms",
    "remote_address",
    "finished_at",
]


def attempt_complete(attempt: Attempt, outcome: http_client.Outcome, now) -> None:
    """Fill in an attempt's ATTEMPT_OUTCOME_FIELDS from what the request did (not saved)."""
    attempt.status_code = outcome.status
    attempt.response_headers = outcome.headers
    attempt.response_body = outcome.body
    attempt.succeeded = outcome.ok
    attempt.error_kind = outcome.error_kind or ""
    attempt.error = outcome.error or ""
    attempt.elapsed_ms = outcome.elapsed_ms
    attempt.remote_address = outcome.remote_address or ""
    attempt.finished_at = now


@transaction.atomic
def record(sent: list[tuple[Prepared, http_client.Outcome]], unsent: list[Prepared]) -> dict[str, Next]:
    """Record the outcomes and release the claims: one transaction, one commit, after the calls.
    Unsent messages lose their attempt rows, and wait for their rate-limit slot or for a free
    in-flight slot (parked)."""
    now = timezone.now()
    for prepared, outcome in sent:
        attempt_complete(prepared.attempt, outcome, now)
    # started_at: when the request was made (a rate-limited one waits for its slot, see send_in_turn).
    update_rows([prepared.attempt for prepared, _ in sent], [*ATTEMPT_OUTCOME_FIELDS, "started_at"])
    # A destination is failing from its first failure until a delivery succeeds.
    destinations = {prepared.outgoing.destination_id: prepared.outgoing.destination for prepared, _ in sent}
    reached = {prepared.outgoing.destination_id for prepared, outcome in sent if outcome.ok}
    for destination_id, destination in destinations.items():
        if destination_id in reached and destination.failing_since is not None:
            Destination.objects.filter(pk=destination_id).update(failing_since=None)
        elif destination_id not in reached and destination.failing_since is None:
            Destination.objects.filter(pk=destination_id, failing_since__isnull=True).update(
                failing_since=now
            )
    retry_in: dict[str, float | None] = {}
    released: dict[tuple, list[OutgoingMessage]] = defaultdict(list)
    for prepared, outcome in sent:
        fields, retry_in[prepared.outgoing.pk] = _outcome_fields(prepared, outcome, now)
        released[tuple(sorted(fields.items()))].append(prepared.outgoing)
    for fields, outgoings in released.items():
        release(outgoings, **dict(fields))
    followups = {
        outgoing.pk: Next(
            retry_in=retry_in[outgoing.pk],
            then_deliver=None if retry_in[outgoing.pk] is not None else next_fifo(outgoing),
            finished_for=outgoing.destination_id,
            unanswered=outcome.status is None,
        )
        for outgoing, outcome in ((prepared.outgoing, outcome) for prepared, outcome in sent)
    }
    if unsent:
        Attempt.objects.filter(pk__in=[prepared.attempt.pk for prepared in unsent]).delete()
        # Those the rate limit holds back go again when their slot comes; the others wait for a
        # free in-flight slot (parked: not enqueued).
        later = [prepared for prepared in unsent if prepared.retry_in is not None]
        parked = [prepared for prepared in unsent if prepared.retry_in is None]
        give_back([prepared.outgoing for prepared in later])
        give_back([prepared.outgoing for prepared in parked], park=True)
        followups.update((prepared.outgoing.pk, Next(retry_in=prepared.retry_in)) for prepared in later)
        followups.update(
            (prepared.outgoing.pk, Next(parked_for=prepared.outgoing.destination_id)) for prepared in parked
        )
    # Last: the rollup rows it locks are every transaction's of the account.
    traffic_count(attempts=[(p.outgoing, p.attempt, retry_in[p.outgoing.pk] is not None) for p, _ in sent])
    return followups
