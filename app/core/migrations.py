"""Running Alembic from the application (the schema comes only from migrations)."""

from alembic import command
from alembic.config import Config

from app.core.config import PROJECT_ROOT


def alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    return config


def upgrade_to_head() -> None:
    command.upgrade(alembic_config(), "head")
