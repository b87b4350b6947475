"""The schedule read by the one ``rq cron`` process (``flask --app wsgi cron``).

Every scheduled job is idempotent: cron does not catch up missed runs, and a second
cron process would double-fire (``flask cron`` refuses to start beside a live one).
Feed sweeps claim each uploaded file atomically, so a double fire ingests nothing twice;
placement records one run per merchant and hour, and claims each order before sending it.
Batch response sweeps claim each file by rename, and a record applies only to an order
still waiting for it. The notices sweep queues each email under a dedupe key, so a double
fire queues nothing twice. The mail sweep claims each email before sending it, so overlapping
sweeps send it once; it runs every minute rather than being enqueued on commit because
retries and lapsed leases need a sweep anyway (see services.mail).
"""

from rq import cron

from app.jobs.feeds import ingest_all
from app.jobs.health import heartbeat
from app.jobs.mail import deliver_pending
from app.jobs.notices import send_notices
from app.jobs.placement import ingest_batch_responses
from app.jobs.placement import schedule as schedule_placement
from app.jobs.webhooks import deliver_pending as deliver_webhooks

HEARTBEAT_SECONDS = 15
FEED_SCHEDULE = "0,30 * * * *"  # on the hour and the half-hour
PLACEMENT_SCHEDULE = "0 * * * *"  # every hour on the hour; each merchant from its own hour on
MAIL_SCHEDULE = "* * * * *"  # every minute
WEBHOOK_SCHEDULE = "* * * * *"  # every minute
BATCH_RESPONSE_SCHEDULE = "*/5 * * * *"  # every five minutes
NOTICES_SCHEDULE = "20 * * * *"  # hourly; each merchant from its own NOTICE_HOUR on

cron.register(
    heartbeat,
    queue_name="default",
    interval=HEARTBEAT_SECONDS,
    name="heartbeat",
    result_ttl=60,
    ttl=120,
)
cron.register(ingest_all, queue_name="default", cron=FEED_SCHEDULE, name="feeds")
cron.register(schedule_placement, queue_name="default", cron=PLACEMENT_SCHEDULE, name="placement")
cron.register(
    ingest_batch_responses,
    queue_name="default",
    cron=BATCH_RESPONSE_SCHEDULE,
    name="batch-responses",
    job_timeout=3600,
)
cron.register(
    send_notices, queue_name="default", cron=NOTICES_SCHEDULE, name="notices", job_timeout=3600
)
# A sweep not started within a minute is superseded by the next; one killed by its timeout
# leaves its email "sending" until the lease ends, then it is sent again.
cron.register(
    deliver_pending,
    queue_name="default",
    cron=MAIL_SCHEDULE,
    name="mail",
    job_timeout=600,
    ttl=60,
    result_ttl=60,
)
# Webhooks: the sweep fans the event log out and sends what is due; one not started within a
# minute is superseded by the next (services.webhook_delivery).
cron.register(
    deliver_webhooks,
    queue_name="default",
    cron=WEBHOOK_SCHEDULE,
    name="webhooks",
    job_timeout=600,
    ttl=60,
    result_ttl=60,
)
