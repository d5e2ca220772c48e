"""Alembic environment: llmchat passes its own connection in `config.attributes["connection"]`."""

from alembic import context
from sqlalchemy import create_engine

from llmchat.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_with(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    # `alembic -x url=... upgrade head` from the command line
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as standalone:
        run_with(standalone)
        standalone.commit()
