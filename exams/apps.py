from django.apps import AppConfig
from django.db.models.signals import post_migrate


def refresh_planner_statistics(*, using: str = "default", **kwargs) -> None:
    """After migrations, give the query planner fresh table statistics: `PRAGMA optimize`
    on SQLite (it runs ANALYZE where the statistics are missing or stale) and ANALYZE on
    PostgreSQL. Without them SQLite plans the missed-question query as a scan of every
    active question for each of the candidate's answers."""
    from django.db import connections

    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # 0x10002: analyse every table that needs it, even ones this connection has
            # not queried yet (https://sqlite.org/pragma.html#pragma_optimize).
            cursor.execute("PRAGMA optimize=0x10002")
        elif connection.vendor == "postgresql":
            cursor.execute("ANALYZE")


class ExamsConfig(AppConfig):
    name = "exams"
    verbose_name = "Exams and attempts"

    def ready(self) -> None:
        # Once per migrate run: after the last app (this one) has migrated.
        post_migrate.connect(refresh_planner_statistics, sender=self)
