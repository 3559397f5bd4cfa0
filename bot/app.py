"""Builds the Bolt app: thin, so that transports (HTTP, Socket Mode) and tests share it."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltResponse

from bot.guidance.service import GuidanceService
from bot.listeners import register_listeners
from bot.listeners.context import Services
from bot.services.events import claim_event, event_keys
from bot.settings import Settings
from bot.slack.client import InstrumentedWebClient, make_web_client

log = logging.getLogger(__name__)


def dedupe_middleware(settings: Settings):
    """Slack delivers at least once; each event is handled once, across replicas."""

    def dedupe(body: dict, next_, logger) -> BoltResponse | None:
        if body.get("type") == "event_callback" and not claim_event(settings, event_keys(body)):
            return BoltResponse(status=200, body="")
        return next_()

    return dedupe


def counted_client(context, next_):
    """Bolt builds a plain WebClient per request; swap in one that counts API calls."""
    client = context.client
    if client is not None and not isinstance(client, InstrumentedWebClient):
        context["client"] = InstrumentedWebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            team_id=context.team_id,
            retry_handlers=client.retry_handlers,
        )
    return next_()


def _oauth_settings(settings: Settings):
    from slack_bolt.oauth.oauth_flow import OAuthFlow
    from slack_bolt.oauth.oauth_settings import OAuthSettings
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    from bot.db.engine import get_engine

    engine = get_engine(settings)
    installation_store = SQLAlchemyInstallationStore(
        client_id=settings.slack_client_id, engine=engine
    )
    state_store = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.secret_value("slack_client_secret"),
        scopes=BOT_SCOPES,
        installation_store=installation_store,
        state_store=state_store,
    )
    return installation_store, OAuthFlow(client=make_web_client(settings), settings=oauth)


# Least privilege; README explains each.
BOT_SCOPES = [
    "app_mentions:read",
    "chat:write",
    "commands",
    "im:history",
    "im:write",
    "mpim:write",
    "channels:history",
    "groups:history",
    "users:read",
    "files:write",
]


def build_app(settings: Settings, guidance: GuidanceService | None = None, **app_options) -> App:
    services = Services(settings=settings, guidance=guidance or GuidanceService(settings))
    executor = ThreadPoolExecutor(settings.slack_worker_threads, thread_name_prefix="tandem-work")
    common = {
        "signing_secret": settings.secret_value("slack_signing_secret") or "",
        # Acks run in the request thread; answers run on the executor as lazy listeners,
        # so a burst of slow answers can never delay an ack.
        "process_before_response": True,
        "listener_executor": executor,
        "logger": logging.getLogger("slack_bolt.tandem"),
    }
    common.update(app_options)
    if settings.oauth_enabled:
        installation_store, oauth_flow = _oauth_settings(settings)
        app = App(
            client=make_web_client(settings),
            installation_store=installation_store,
            oauth_flow=oauth_flow,
            **common,
        )
        app.enable_token_revocation_listeners()
    else:
        app = App(
            client=make_web_client(settings, settings.secret_value("slack_bot_token")),
            **common,
        )
    app.use(counted_client)
    app.use(dedupe_middleware(settings))
    register_listeners(app, services)
    app.tandem_services = services  # what this app was built with (tests, the sandbox)

    @app.error
    def on_error(error, body, logger):
        # Never log the body: it carries people's words. A request that failed before its
        # work was claimed (the database down, say) was not processed: 500 lets Slack retry
        # it later, and the event ledger still makes sure it is handled only once.
        logger.error("listener error: %s", type(error).__name__)
        return BoltResponse(status=500, body="")

    return app
