"""The in-process scheduler: APScheduler runs `run_tick` every TICK_SECONDS.

The job store is persistent (the same database) and the job id stable, so restarts and
replicas never stack duplicate jobs. The job takes no arguments: due work is always
recomputed from the database, so no reflection text ever sits in the job store.
"""

from __future__ import annotations

import logging

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.db.engine import get_engine
from bot.settings import Settings, get_settings

log = logging.getLogger(__name__)
TICK_JOB_ID = "tandem-tick"


def tick_job() -> None:
    """Module-level so the persistent job store can reference it by name."""
    from jobs.tick import run_tick

    counts = run_tick(get_settings())
    sent = {k: v for k, v in counts.items() if v}
    if sent:
        log.info("tick sent %s", sent)


def build_scheduler(settings: Settings) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=get_engine(settings), tablename="apscheduler_jobs")
        },
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={
            # A missed tick is simply folded into the next one: due work is recomputed anyway.
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.tick_seconds * 2,
        },
        timezone="UTC",
    )
    scheduler.add_job(
        tick_job,
        "interval",
        seconds=settings.tick_seconds,
        id=TICK_JOB_ID,
        replace_existing=True,
        name="Tandem scheduled work",
    )
    return scheduler
