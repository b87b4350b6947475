"""The schedule read by the one ``rq cron`` process (``flask --app wsgi cron``).

Every scheduled job is idempotent: cron does not catch up missed runs, and a second
cron process would double-fire (``flask cron`` refuses to start beside a live one).
"""

from rq import cron

from app.jobs.health import heartbeat

HEARTBEAT_SECONDS = 15

cron.register(heartbeat, queue_name="default", interval=HEARTBEAT_SECONDS, name="heartbeat",
              result_ttl=60, ttl=120)
