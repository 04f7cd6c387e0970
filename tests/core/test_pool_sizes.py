"""Connection pools per process, as the settings say (a host holds pool + overflow per
process)."""

from app.core.config import Settings
from app.core.db import create_db_engine


class TestPoolSizes:
    def test_a_postgresql_engine_takes_its_pool_sizes_from_the_settings(self) -> None:
        engine = create_db_engine(
            Settings(
                database_url="postgresql://u@127.0.0.1:1/x",
                database_pool_size=3,
                database_max_overflow=4,
            )
        )

        assert (engine.pool.size(), engine.pool._max_overflow) == (3, 4)  # type: ignore[attr-defined]
        engine.dispose()
